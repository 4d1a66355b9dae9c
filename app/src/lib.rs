//! The Leptos UI of Avatar Studio and its thin server functions. Server functions get the
//! caller, call a `backend` service and map its error — nothing more (DESIGN.md).

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    SsrMode, StaticSegment,
};

pub use error::AppError;

use crate::{
    components::{Footer, Header},
    pages::{
        CharactersPage, CollectionsPage, GalleryPage, HomePage, NotFound, SettingsPage, StudioPage,
    },
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
        <Title formatter=|title: String| {
            if title.is_empty() {
                model::PRODUCT_NAME.to_owned()
            } else {
                format!("{title} · {}", model::PRODUCT_NAME)
            }
        } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header />
            <main id="main" class="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound /> }>
                    // In-order streaming: the page is complete without JavaScript.
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("studio") view=StudioPage />
                    <Route path=StaticSegment("characters") view=CharactersPage />
                    <Route path=StaticSegment("gallery") view=GalleryPage />
                    <Route path=StaticSegment("collections") view=CollectionsPage />
                    <Route path=StaticSegment("settings") view=SettingsPage />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}
