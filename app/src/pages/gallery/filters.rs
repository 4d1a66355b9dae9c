//! The gallery's filters: a plain GET form, so they live in the address and work before
//! hydration (with its "Apply" button). Once the page is interactive they apply as they
//! change: a choice at once, the search after a pause in typing; the address is replaced,
//! not pushed, so "Back" leaves the gallery instead of undoing keystrokes.

use leptos::{ev, prelude::*};
use leptos_router::components::Form;
use model::{Collection, ImageFilter, ImageKind};
use wasm_bindgen::JsCast;

use crate::components::handler;
use crate::live::later;

/// How long typing must pause before the search applies.
const TYPING_PAUSE_MS: u32 = 350;

#[component]
pub(super) fn Filters(
    filter: Memo<ImageFilter>,
    collections: Signal<Vec<Collection>>,
) -> impl IntoView {
    let current = move || filter.get();
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    // Each keystroke makes the earlier ones' pending search moot.
    let typed = StoredValue::new(0u64);
    let form_of = |e: &ev::Event| {
        e.current_target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    };
    let is_search = |e: &ev::Event| {
        e.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .is_some_and(|i| i.type_() == "search")
    };
    let on_input = move |e: ev::Event| {
        if !is_search(&e) {
            return;
        }
        let Some(form) = form_of(&e) else { return };
        typed.update_value(|n| *n += 1);
        let mine = typed.get_value();
        later(TYPING_PAUSE_MS, move || {
            if typed.try_get_value() == Some(mine) {
                let _ = form.request_submit();
            }
        });
    };
    let on_change = move |e: ev::Event| {
        if is_search(&e) {
            return;
        }
        if let Some(form) = form_of(&e) {
            let _ = form.request_submit();
        }
    };
    view! {
        <Form method="GET" action="" replace=true noscroll=true attr:class="filters" attr:role="search" on:input=handler(on_input) on:change=handler(on_change)>
            <input type="hidden" name="view" value=move || if current().trashed == Some(true) { "trash" } else { "" } />
            <label class="filters__search">
                <span class="visually-hidden">"Search prompts and titles"</span>
                <input type="search" name="q" placeholder="Search prompts and titles" value=move || current().q.unwrap_or_default() />
            </label>
            <label class="filters__select">
                <span class="filters__label">"Kind"</span>
                <select name="kind">
                    <option value="" selected=move || current().kind.is_none()>"All"</option>
                    {ImageKind::ALL.iter().map(|k| {
                        let k = *k;
                        view! { <option value=k.as_str() selected=move || current().kind == Some(k)>{k.as_str()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="filters__select">
                <span class="filters__label">"Collection"</span>
                <select name="collection">
                    <option value="">"All"</option>
                    {move || {
                        let chosen = current().collection_id;
                        collections.get().into_iter().map(|c| {
                            let selected = chosen.as_deref() == Some(c.id.as_str());
                            view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
                        }).collect_view()
                    }}
                </select>
            </label>
            <label class="filters__check">
                <input type="checkbox" name="favorite" value="true" checked=move || current().favorite == Some(true) />
                "Favourites"
            </label>
            <button type="submit" class="button filters__apply" hidden=move || interactive.get()>"Apply"</button>
        </Form>
    }
}
