//! One tile of the grid, and the bar of bulk actions for the selected tiles.

use leptos::prelude::*;
use model::{BulkAction, Collection, Image};

use crate::components::{ConfirmButton, Picture};

// A component's props are owned: #[component] builds a props struct from them.
#[allow(clippy::needless_pass_by_value)]
#[component]
pub(super) fn Tile(
    image: Image,
    index: usize,
    selected: RwSignal<Vec<String>>,
    open: RwSignal<Option<usize>>,
) -> impl IntoView {
    let id = image.id.clone();
    let label = image.label();
    let is_selected = {
        let id = id.clone();
        Memo::new(move |_| selected.read().contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            selected.update(|s| {
                if let Some(pos) = s.iter().position(|x| *x == id) {
                    s.remove(pos);
                } else {
                    s.push(id.clone());
                }
            })
        }
    };
    let picture = if image.has_media() {
        view! { <Picture image_id=id.clone() alt=label.clone() square=true width=256 height=256 /> }
            .into_any()
    } else {
        view! { <span class="tile__placeholder">{image.status.as_str()}</span> }.into_any()
    };
    view! {
        <li class="tile" class:tile--selected=move || is_selected.get()>
            <button type="button" class="tile__open" on:click=move |_| open.set(Some(index)) aria-label=format!("Open {label}")>
                {picture}
            </button>
            <label class="tile__select">
                <input type="checkbox" prop:checked=move || is_selected.get() on:change=toggle />
                <span class="visually-hidden">{format!("Select {}", image.label())}</span>
            </label>
            {image.favorite.then(|| view! { <span class="tile__favorite" title="Favourite" aria-label="Favourite">"★"</span> })}
            <span class="tile__caption">{image.label()}</span>
        </li>
    }
}

#[component]
pub(super) fn BulkBar(
    selected: RwSignal<Vec<String>>,
    trash: Memo<bool>,
    collections: Signal<Vec<Collection>>,
    run: impl Fn(BulkAction, Vec<String>, Option<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let target = RwSignal::new(String::new());
    view! {
        <Show when=move || !selected.read().is_empty()>
            <div class="bulk-bar" role="toolbar" aria-label="Selected images">
                <strong>{move || format!("{} selected", selected.read().len())}</strong>
                {move || if trash.get() {
                    view! {
                        <button type="button" class="button" on:click=move |_| run(BulkAction::Restore, selected.get(), None)>"Restore"</button>
                        <ConfirmButton
                            label="Delete for good"
                            question=Signal::derive(move || format!("Delete {} for good? This cannot be undone.", images_word(selected.read().len())))
                            confirm="Delete for good"
                            on_confirm=Callback::new(move |()| run(BulkAction::Purge, selected.get_untracked(), None))
                        />
                    }.into_any()
                } else {
                    view! {
                        <label>
                            <span class="visually-hidden">"Move to collection"</span>
                            <select on:change=move |ev| target.set(event_target_value(&ev)) prop:value=move || target.get()>
                                <option value="">"No collection"</option>
                                {move || collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <button type="button" class="button" on:click=move |_| {
                            let to = Some(target.get()).filter(|t| !t.is_empty());
                            run(BulkAction::Move, selected.get(), to)
                        }>"Move"</button>
                        <button type="button" class="button button--danger" on:click=move |_| run(BulkAction::Delete, selected.get(), None)>"Delete"</button>
                    }.into_any()
                }}
                <a class="button" href=move || format!("/api/v1/images/export?ids={}", selected.read().join(",")) download="">"Export (ZIP)"</a>
                <button type="button" class="button button--small" on:click=move |_| selected.set(Vec::new())>"Clear selection"</button>
            </div>
        </Show>
    }
}

/// "1 image", "3 images".
pub(super) fn images_word(n: usize) -> String {
    if n == 1 {
        "1 image".to_owned()
    } else {
        format!("{n} images")
    }
}
