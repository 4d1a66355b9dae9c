//! The Leptos UI of Avatar Studio and its thin server functions. Server functions get the
//! caller, call a `backend` service and map its error — nothing more (DESIGN.md).

// Still needed after the pages were split into parts: computing the layout of the server
// build's async view code for the job card and the gallery page goes past the default
// query depth (128) even with their parts type-erased.
#![recursion_limit = "256"]

pub mod api;
pub mod browser_data;
pub mod browser_resource;
pub mod components;
// The page header a server sends; nothing the browser runs.
#[cfg(any(feature = "ssr", test))]
pub mod csp;
pub mod drafts;
pub mod error;
pub mod format;
pub mod hydration_codec;
pub mod instance;
pub mod json;
pub mod live;
pub mod markup;
pub mod pages;
pub mod routes;
pub mod server_resource;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
mod ssr;
pub mod suspend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, ParamSegment, SsrMode, StaticSegment,
};

pub use error::AppError;

/// Percent-encodes a path and query for use as one query value (`/` stays readable).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

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
fn signed_in_user() -> Option<model::Viewer> {
    ssr::principal().map(|p| p.caller.to_model().into())
}

/// In the browser the answer comes from the server's render (see `SharedValue`).
#[cfg(not(feature = "ssr"))]
fn signed_in_user() -> Option<model::Viewer> {
    None
}

/// What this instance offers (`instance`), as the server knows it while rendering a page:
/// its configuration, the same for every request.
#[cfg(feature = "ssr")]
fn instance_info() -> Option<model::InstanceInfo> {
    // Not `ssr::backend()`, which reports a missing backend as an internal error: the
    // route list is made by rendering the app once without one.
    use_context::<backend::Backend>().map(|b| backend::services::instance::info(&b.config))
}

/// In the browser the answer comes from the server's render (see `SharedValue`).
#[cfg(not(feature = "ssr"))]
fn instance_info() -> Option<model::InstanceInfo> {
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
    components::Header,
    live::Live,
    pages::NotFound,
    routes::{
        AdminRoute, CharacterRoute, CharactersRoute, CollectionsRoute, ForgotPasswordRoute,
        GalleryRoute, HomeRoute, ResetPasswordRoute, SettingsRoute, SignInRoute, SignUpRoute,
        StudioRoute, VerifyEmailRoute,
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
                // What never changes from page to page is written here, on the server only,
                // rather than with leptos_meta's components in `App`: those would be hydrated
                // in the browser, and their code (builders and attribute types) was part of
                // the main chunk every first visit downloads (issue 17).
                <link rel="stylesheet" id="leptos" href="/pkg/avatar-studio.css" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <meta
                    name="description"
                    content="Self-hosted AI avatar studio: create characters, generate avatars with OpenAI, Gemini or the built-in generator, and manage every image you make."
                />
                <meta name="theme-color" content="#5b4bdb" />
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

/// Marks the page as interactive (`<html data-hydrated="true">`), so that people, the
/// end-to-end tests and the time-to-interactive benchmark tell a hydrated page from a
/// server-rendered one. Called by the browser's entry point once the whole page,
/// including its lazily loaded route, is hydrated: an effect of `App` would run while
/// the route's chunk is still on its way, and a click then would be lost. The live
/// connection (a chunk of its own) opens then.
pub fn mark_hydrated() {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
    live::hydrated();
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    let (routing, set_routing) = signal(false);
    view! {
        // While a page (its chunk, its data) loads after a click, the page stays and a bar
        // at the top of the window says that something is on its way.
        <Router set_is_routing=set_routing>
            <div class="route-progress" role="progressbar" aria-label="Loading the page" hidden=move || !routing.get()></div>
            <Layout />
        </Router>
    }
    // Type-erased: the browser's entry point awaits the whole app (`hydrate_lazy`), and
    // the layout of that future with the full view type passes the compiler's depth limit.
    .into_any()
}

/// Everything inside the router: the live connection (while someone is signed in), the
/// header, the page, the footer and the notifications.
#[component]
fn Layout() -> impl IntoView {
    let user = components::provide_current_user();
    instance::provide_instance();
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
            // Counted in the browser only. The server formats the title after the page's
            // body, when the job book may be held by the Studio's resources or already
            // cleaned up: reading it then panicked ("already disposed") and the page was
            // a 500, now and then, on a busy server.
            let running = if cfg!(feature = "ssr") { 0 } else { live.running() };
            match running {
                0 => title,
                n => format!("({n} running) {title}"),
            }
        } />
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header />
        <main id="main" class="main" tabindex="-1">
            <Routes fallback=|| view! { <NotFound /> }>
                // In-order streaming: the page is complete without JavaScript.
                <Route path=StaticSegment("") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::InOrder />
                // In order: the jobs are in the HTML before the page hydrates.
                <Route path=StaticSegment("studio") view={Lazy::<StudioRoute>::new()} ssr=SsrMode::InOrder />
                // In order, like the gallery and the collections: lists in the HTML, so they
                // read (and their forms post) without JavaScript.
                <Route path=StaticSegment("characters") view={Lazy::<CharactersRoute>::new()} ssr=SsrMode::InOrder />
                // Whole before it is sent: the head's title names the character.
                <Route path=(StaticSegment("characters"), ParamSegment("id")) view={Lazy::<CharacterRoute>::new()} ssr=SsrMode::Async />
                <Route path=StaticSegment("gallery") view={Lazy::<GalleryRoute>::new()} ssr=SsrMode::InOrder />
                <Route path=StaticSegment("collections") view={Lazy::<CollectionsRoute>::new()} ssr=SsrMode::InOrder />
                // In order: the lists are in the HTML, so the page works without JavaScript.
                <Route path=StaticSegment("settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::InOrder />
                // Whole before it is sent: a caller who is not an administrator gets a 404.
                <Route path=StaticSegment("admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async />
                <Route path=StaticSegment("login") view={Lazy::<SignInRoute>::new()} />
                <Route path=StaticSegment("signup") view={Lazy::<SignUpRoute>::new()} />
                <Route path=StaticSegment("forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} />
                <Route path=StaticSegment("reset-password") view={Lazy::<ResetPasswordRoute>::new()} />
                <Route path=StaticSegment("verify-email") view={Lazy::<VerifyEmailRoute>::new()} />
            </Routes>
        </main>
        {components::footer()}
        {components::toasts()}
    }
}
