//! Event handlers of one type per event.

/// `f` as a boxed handler, for `on:click=handler(move |_| …)`.
///
/// Leptos compiles each `on:` attribute for the type of its closure: the attribute's
/// constructor, its conversion into a shared callback and, with `erase_components`, its
/// type-erased form, once per handler. Boxed, every handler of one event has the same type
/// (`Box<dyn FnMut(E)>`, what Leptos' own `on_target` hands it), so that code exists once
/// per event rather than once per handler (issue 17 §2, README "Bundle"). What the handler
/// does is unchanged: Leptos calls it with the event, inside the owner it was made in.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}
