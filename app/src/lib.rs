//! The Leptos UI of Avatar Studio and its thin server functions. Server functions get the
//! caller, call a `backend` service and map its error — nothing more (DESIGN.md).

// Still needed after the pages were split into parts: computing the layout of the server
// build's async view code for the job card and the gallery page goes past the default
// query depth (128) even with their parts type-erased.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
// The page header a server sends; nothing the browser runs.
#[cfg(any(feature = "ssr", test))]
pub mod csp;
pub mod drafts;
pub mod error;
pub mod format;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

pub use error::AppError;

/// A path on this site to go to after signing in. Only local paths are accepted
/// (`/settings`, not `//evil.example` or `https://…`), so a crafted link cannot send
/// people elsewhere; anything else goes to the Studio.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/studio".to_owned(),
    }
}

/// The signed-in account, as the server knows it while rendering a page.
#[cfg(feature = "ssr")]
fn signed_in_user() -> Option<model::User> {
    ssr::principal().map(|p| p.caller.to_model())
}

/// In the browser the answer comes from the server's render (see `SharedValue`).
#[cfg(not(feature = "ssr"))]
fn signed_in_user() -> Option<model::User> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            super::safe_next(Some("/settings?tab=keys")),
            "/settings?tab=keys"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "",
        ] {
            assert_eq!(super::safe_next(Some(bad)), "/studio", "{bad}");
        }
        assert_eq!(super::safe_next(None), "/studio");
    }
}

use crate::{
    components::{Footer, Header, Toasts},
    live::Live,
    pages::{
        AdminPage, CharacterPage, CharactersPage, CollectionsPage, ForgotPasswordPage, GalleryPage,
        HomePage, NotFound, ResetPasswordPage, SettingsPage, SignInPage, SignUpPage, StudioPage,
        VerifyEmailPage,
    },
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // Runs in the browser only, once the page is interactive: lets people (and the
    // end-to-end tests) tell a hydrated page from a server-rendered one.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/avatar-studio.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta
            name="description"
            content="Self-hosted AI avatar studio: create characters, generate avatars with OpenAI, Gemini or the built-in generator, and manage every image you make."
        />
        <Meta name="theme-color" content="#5b4bdb" />
        <Router>
            <Layout />
        </Router>
    }
}

/// Everything inside the router: the live connection (while someone is signed in), the
/// header, the page, the footer and the notifications.
#[component]
fn Layout() -> impl IntoView {
    let user = components::provide_current_user();
    let live = Live::new(live::now());
    provide_context(live);
    Effect::new(move |_| {
        if user.with(Option::is_some) {
            live.start();
        } else {
            live.stop();
        }
    });
    components::notify_finished_jobs(live);

    view! {
        // The tab's title counts the jobs under way, so that progress shows from another tab.
        <Title formatter=move |title: String| {
            let title = if title.is_empty() {
                model::PRODUCT_NAME.to_owned()
            } else {
                format!("{title} · {}", model::PRODUCT_NAME)
            };
            match live.running() {
                0 => title,
                n => format!("({n} running) {title}"),
            }
        } />
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header />
        <main id="main" class="main" tabindex="-1">
            <Routes fallback=|| view! { <NotFound /> }>
                // In-order streaming: the page is complete without JavaScript.
                <Route path=StaticSegment("") view=HomePage ssr=SsrMode::InOrder />
                // In order: the jobs are in the HTML before the page hydrates.
                <Route path=StaticSegment("studio") view=StudioPage ssr=SsrMode::InOrder />
                <Route path=StaticSegment("characters") view=CharactersPage />
                <Route path=(StaticSegment("characters"), ParamSegment("id")) view=CharacterPage />
                <Route path=StaticSegment("gallery") view=GalleryPage />
                <Route path=StaticSegment("collections") view=CollectionsPage />
                // In order: the lists are in the HTML, so the page works without JavaScript.
                <Route path=StaticSegment("settings") view=SettingsPage ssr=SsrMode::InOrder />
                // Whole before it is sent: a caller who is not an administrator gets a 404.
                <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async />
                <Route path=StaticSegment("login") view=SignInPage />
                <Route path=StaticSegment("signup") view=SignUpPage />
                <Route path=StaticSegment("forgot-password") view=ForgotPasswordPage />
                <Route path=StaticSegment("reset-password") view=ResetPasswordPage />
                <Route path=StaticSegment("verify-email") view=VerifyEmailPage />
            </Routes>
        </main>
        <Footer />
        <Toasts />
    }
}
