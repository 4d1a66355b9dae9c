//! The pages as lazily loaded routes. Built with `cargo leptos build --split`, each page's
//! view and everything only it uses is a chunk of WebAssembly of its own, fetched the
//! first time the page is shown; the server names the chunks a page needs in its HTML, so
//! a first visit fetches them beside the main chunk instead of after it. The main chunk
//! keeps what every page shares: the router, the header, the live connection and the
//! notifications. Without `--split` every chunk is simply part of the one file.

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
    CharactersRoute => CharactersPage,
    CharacterRoute => CharacterPage,
    GalleryRoute => GalleryPage,
    CollectionsRoute => CollectionsPage,
    SettingsRoute => SettingsPage,
    AdminRoute => AdminPage,
    SignInRoute => SignInPage,
    SignUpRoute => SignUpPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    VerifyEmailRoute => VerifyEmailPage,
}

/// The home page's route. Its view is a chunk like the others'; a signed-in person's
/// dashboard is a further chunk (`pages::home`), which a signed-out visit never needs. When
/// it is shown, the route's preload (which the router awaits before it hydrates or shows
/// the page) fetches that chunk too: the router hydrates the view in one go, and a part
/// whose code were still on its way would be hydrated empty against the server's HTML.
pub struct HomeRoute {
    dashboard: bool,
}

impl LazyRoute for HomeRoute {
    fn data() -> Self {
        Self {
            dashboard: crate::pages::dashboard_shown(),
        }
    }

    async fn view(this: Self) -> AnyView {
        let (_, view) = futures::join!(
            crate::pages::load_dashboard(this.dashboard),
            home_view(this)
        );
        view
    }

    async fn preload() {
        // In the router's reactive owner, so the signed-in person is known; from a header
        // link's hover (no owner), the page's own chunk only.
        let dashboard = crate::pages::load_dashboard(crate::pages::dashboard_shown());
        #[cfg(feature = "hydrate")]
        futures::join!(__preload_home_view(), dashboard);
        #[cfg(not(feature = "hydrate"))]
        dashboard.await;
    }
}

#[lazy]
fn home_view(_this: HomeRoute) -> AnyView {
    view! { <HomePage /> }.into_any()
}

/// Starts fetching the chunk of the page a link leads to (a header link the pointer or the
/// focus is on), so that following it does not wait for the chunk. Paths without a chunk
/// of their own, and a chunk already fetched, cost nothing.
pub fn preload(path: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        match path {
            "/" => HomeRoute::preload().await,
            "/studio" => StudioRoute::preload().await,
            "/characters" => CharactersRoute::preload().await,
            "/gallery" => GalleryRoute::preload().await,
            "/collections" => CollectionsRoute::preload().await,
            "/settings" => SettingsRoute::preload().await,
            "/admin" => AdminRoute::preload().await,
            "/login" => SignInRoute::preload().await,
            "/signup" => SignUpRoute::preload().await,
            _ => {}
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
