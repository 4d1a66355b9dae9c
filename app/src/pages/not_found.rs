use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

/// The 404 page: rendered for any path that is not a page (with status 404).
#[component]
pub fn NotFound() -> impl IntoView {
    mark_not_found();
    let path = use_location().pathname;
    view! {
        <Title text="Page not found" />
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-page__code" aria-hidden="true">"404"</p>
            <h1 id="error-title">"Page not found"</h1>
            <p>
                "There is no page at " <code class="error-page__path">{move || path.get()}</code>
                ". It may have moved, or the link may be mistyped."
            </p>
            <p class="actions">
                <a href="/" class="button button--primary">"Go to the home page"</a>
                <a href="/gallery" class="button">"Open the gallery"</a>
            </p>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn mark_not_found() {
    crate::ssr::set_status(http::StatusCode::NOT_FOUND);
}

#[cfg(not(feature = "ssr"))]
fn mark_not_found() {}
