//! The pages as lazily loaded routes. Built with `cargo leptos build --split`, each page's
//! view and everything only it uses is a chunk of WebAssembly of its own (or its group's:
//! `grouped_pages!`), fetched the first time the page is shown; the server names the
//! chunks a page needs in its HTML, so a first visit fetches them beside the main chunk
//! instead of after it. The main chunk keeps what every page shares: the router, the
//! header and the notifications, and two pages: the home page and the sign-in page
//! (`main_chunk_pages!`), where most first visits start. Without `--split` every chunk is
//! simply part of the one file.

use leptos::lazy;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages::{
    AdminPage, CharacterPage, CharactersPage, CollectionsPage, ForgotPasswordPage, GalleryPage,
    HomePage, ResetPasswordPage, SettingsPage, SignInPage, SignUpPage, StudioPage, VerifyEmailPage,
};

macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The route of [`", stringify!($page), "`], its view loaded on demand.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    StudioRoute => StudioPage,
    SettingsRoute => SettingsPage,
    AdminRoute => AdminPage,
}

/// Pages whose views are part of the main chunk: no chunk of their own to fetch. wasm-split
/// makes a chunk for every distinct set of split points that use a piece of code, so a
/// page as a split point of its own costs its first visit dozens of small files (the code
/// it shares with each group of other pages), each with its response's headers and a
/// module's own sections. The home page and the sign-in page are where a new visitor
/// starts; as split points they cost `/` 36 files (237.9 KiB) and `/login` 35 (263.8 KiB);
/// in the main chunk each is 4 files and 235.8 KiB, and every signed-in page, which shares
/// the sign-in page's forms, fetches 9–36 KiB less (README, "Bundle").
macro_rules! main_chunk_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The route of [`", stringify!($page), "`], its view in the main chunk.")]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

main_chunk_pages! {
    SignInRoute => SignInPage,
}

/// Pages that share one chunk: each is a route of its own, but their views are one lazily
/// loaded function. wasm-split makes a chunk for every distinct set of split points that
/// use a piece of code, so each split point cuts the code the pages share into more,
/// smaller files, which every page then fetches one by one; pages that are small beside
/// their group, and seldom the first visit, cost less together (README, "Bundle").
macro_rules! grouped_pages {
    ($group:ident, $load:ident, $preload:ident { $($route:ident => $page:ident),* $(,)? }) => {
        #[derive(Clone, Copy)]
        #[doc(hidden)]
        pub enum $group {
            $($page,)*
        }

        #[lazy]
        fn $load(page: $group) -> AnyView {
            match page {
                $($group::$page => view! { <$page /> }.into_any(),)*
            }
        }

        $(
            #[doc = concat!("The route of [`", stringify!($page), "`], its view loaded on demand with its group's.")]
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                async fn view(_this: Self) -> AnyView {
                    $load($group::$page).await
                }

                async fn preload() {
                    #[cfg(feature = "hydrate")]
                    $preload().await;
                }
            }
        )*
    };
}

// The list of characters is small beside a character's page, which it leads to.
grouped_pages!(CharacterPages, character_pages, __preload_character_pages {
    CharactersRoute => CharactersPage,
    CharacterRoute => CharacterPage,
});

// The collections, a list that leads into the gallery.
grouped_pages!(LibraryPages, library_pages, __preload_library_pages {
    GalleryRoute => GalleryPage,
    CollectionsRoute => CollectionsPage,
});

// Signing up, a forgotten password, a reset and an address's confirmation: forms that are
// seldom a first visit.
grouped_pages!(AccountPages, account_pages, __preload_account_pages {
    SignUpRoute => SignUpPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    VerifyEmailRoute => VerifyEmailPage,
});

/// The home page's route. Its view is in the main chunk, like the sign-in page's
/// (`main_chunk_pages!`); a signed-in person's dashboard is a chunk of its own
/// (`pages::home`), which a signed-out visit never needs. When it is shown, the route's
/// preload (which the router awaits before it hydrates or shows the page) fetches that
/// chunk: the router hydrates the view in one go, and a part whose code were still on its
/// way would be hydrated empty against the server's HTML.
pub struct HomeRoute;

impl LazyRoute for HomeRoute {
    fn data() -> Self {
        Self
    }

    async fn view(_this: Self) -> AnyView {
        view! { <HomePage /> }.into_any()
    }

    async fn preload() {
        // In the router's reactive owner, where the signed-in person is known.
        #[cfg(feature = "hydrate")]
        crate::pages::load_dashboard().await;
    }
}

/// Starts fetching the chunk of the page a link leads to (a header link the pointer or the
/// focus is on), so that following it does not wait for the chunk. Paths without a chunk
/// of their own (the home and sign-in pages), and a chunk already fetched, cost nothing.
pub fn preload(path: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        match path {
            "/studio" => StudioRoute::preload().await,
            "/characters" => CharactersRoute::preload().await,
            "/gallery" => GalleryRoute::preload().await,
            "/collections" => CollectionsRoute::preload().await,
            "/settings" => SettingsRoute::preload().await,
            "/admin" => AdminRoute::preload().await,
            "/signup" => SignUpRoute::preload().await,
            _ => {}
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
