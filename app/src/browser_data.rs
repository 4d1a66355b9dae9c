//! Values read from the server by the browser only, once the page runs: a signal that is
//! `None` on the server and in the first render (so hydration never differs) and that,
//! unlike a `LocalResource`, never suspends a surrounding `<Suspense>` or `<Transition>`
//! (one read inside would hold the server-rendered page at its fallback). For choices and
//! hints that only matter once the page is interactive: the upload limit, the variation
//! presets, an image's lineage.

use std::future::Future;

use leptos::{prelude::*, task::spawn_local};

/// Starts `fetch` in the browser after the first render and answers its result when it
/// comes (again whenever a signal `fetch` reads changes).
pub fn fetched<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = T> + 'static,
{
    let value = RwSignal::new(None);
    // Effects run only in the browser.
    Effect::new(move |_| {
        let pending = fetch();
        spawn_local(async move { value.set(Some(pending.await)) });
    });
    value.read_only()
}
