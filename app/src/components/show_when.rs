//! A part of a view shown while a condition holds.

use leptos::prelude::*;

/// `children` while `when` is true, else nothing: what Leptos' `<Show>` does without a
/// fallback, without being a component. The condition is memoised, as `<Show>` does, so the
/// part is built again only when the condition changes, not whenever what it reads does.
///
/// `<Show>` is a component, and with `erase_components` each use is compiled with a
/// component's wrapper and a type-erased view of its own; 14 of them replaced by this took
/// 0.2–3.9 KiB off every route's first load (issue 17 §2, README "Bundle").
pub fn show_when<V: IntoView + 'static>(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> V + Send + Sync + 'static,
) -> impl IntoView {
    let when = Memo::new(move |_| when());
    move || when.get().then(&children)
}
