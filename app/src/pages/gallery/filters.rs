//! The gallery's filters: a plain GET form, so they live in the address and work before
//! hydration.

use leptos::prelude::*;
use leptos_router::components::Form;
use model::{Collection, ImageFilter, ImageKind};

#[component]
pub(super) fn Filters(
    filter: Memo<ImageFilter>,
    collections: Signal<Vec<Collection>>,
) -> impl IntoView {
    let current = move || filter.get();
    view! {
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <input type="hidden" name="view" value=move || if current().trashed == Some(true) { "trash" } else { "" } />
            <label class="filters__search">
                <span class="visually-hidden">"Search prompts and titles"</span>
                <input type="search" name="q" placeholder="Search prompts and titles" value=move || current().q.unwrap_or_default() />
            </label>
            <label>
                <span class="filters__label">"Kind"</span>
                <select name="kind">
                    <option value="" selected=move || current().kind.is_none()>"All"</option>
                    {ImageKind::ALL.iter().map(|k| {
                        let k = *k;
                        view! { <option value=k.as_str() selected=move || current().kind == Some(k)>{k.as_str()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
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
            <button type="submit" class="button">"Apply"</button>
        </Form>
    }
}
