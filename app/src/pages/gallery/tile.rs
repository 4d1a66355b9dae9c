//! One tile of the grid, and the bar of bulk actions for the selected tiles.

use leptos::{ev::MouseEvent, prelude::*};
use model::{BulkAction, Collection, Image};

use crate::components::{handler, show_when, ConfirmButton, Picture};

use super::state::Pick;

/// What a tile needs besides its image: the page's selection and lightbox, and how a
/// pick is made (the page knows the order a range follows).
#[derive(Clone, Copy)]
pub(super) struct TileHooks {
    pub selected: RwSignal<Vec<String>>,
    pub open: RwSignal<Option<usize>>,
    pub pick: Callback<(String, Pick)>,
}

/// How a click picks: with Shift a range, with Ctrl or ⌘ one more (or one less).
fn pick_of(ev: &MouseEvent) -> Option<Pick> {
    if ev.shift_key() {
        Some(Pick::Range)
    } else if ev.ctrl_key() || ev.meta_key() {
        Some(Pick::Toggle)
    } else {
        None
    }
}

/// A tile's contents (the picture that opens the lightbox, its checkbox, its favourite
/// star and caption) and whether it is selected, for the `<li>` the virtual grid places.
/// (The server-rendered grid's tiles are the same markup, written by `server_tiles`.)
///
/// A plain click opens the image; Shift-click and Ctrl/⌘-click pick instead. The checkbox
/// picks with a click or Space, a range with Shift.
pub(super) fn tile_parts(
    image: &Image,
    index: usize,
    hooks: TileHooks,
    sizes: String,
) -> (Memo<bool>, impl IntoView) {
    let TileHooks {
        selected,
        open,
        pick,
    } = hooks;
    let id = image.id.clone();
    let label = image.label();
    let is_selected = {
        let id = id.clone();
        Memo::new(move |_| selected.read().contains(&id))
    };
    let on_open = {
        let id = id.clone();
        move |ev: MouseEvent| match pick_of(&ev) {
            Some(how) => pick.run((id.clone(), how)),
            None => open.set(Some(index)),
        }
    };
    let on_check = {
        let id = id.clone();
        move |ev: MouseEvent| {
            let how = if ev.shift_key() {
                Pick::Range
            } else {
                Pick::Toggle
            };
            pick.run((id.clone(), how));
        }
    };
    let picture = if image.has_media() {
        view! { <Picture image_id=id.clone() alt=label.clone() sizes=sizes width=256 height=256 /> }
            .into_any()
    } else {
        view! { <span class="tile__placeholder">{image.status.as_str()}</span> }.into_any()
    };
    let parts = view! {
        <button type="button" class="tile__open" on:click=handler(on_open) aria-label=format!("Open {label}")>
            {picture}
        </button>
        <label class="tile__select">
            <input type="checkbox" prop:checked=move || is_selected.try_get().unwrap_or(false) on:click=handler(on_check) />
            <span class="visually-hidden">{format!("Select {label}")}</span>
        </label>
        {image.favorite.then(|| view! { <span class="tile__favorite" title="Favourite" aria-label="Favourite">"★"</span> })}
        <span class="tile__caption">{label.clone()}</span>
    };
    (is_selected, parts)
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
        {show_when(move || !selected.read().is_empty(), move || view! {
            <div class="bulk-bar" role="toolbar" aria-label="Selected images">
                <strong>{move || format!("{} selected", selected.read().len())}</strong>
                {move || if trash.get() {
                    view! {
                        <button type="button" class="button" on:click=handler(move |_| run(BulkAction::Restore, selected.get(), None))>"Restore"</button>
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
                            <select on:change=handler(move |ev| target.set(event_target_value(&ev))) prop:value=move || target.get()>
                                <option value="">"No collection"</option>
                                {move || collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <button type="button" class="button" on:click=handler(move |_| {
                            let to = Some(target.get()).filter(|t| !t.is_empty());
                            run(BulkAction::Move, selected.get(), to)
                        })>"Move"</button>
                        <button type="button" class="button button--danger" on:click=handler(move |_| run(BulkAction::Delete, selected.get(), None))>"Delete"</button>
                    }.into_any()
                }}
                <a class="button" href=move || format!("/api/v1/images/export?ids={}", selected.read().join(",")) download="">"Export (ZIP)"</a>
                <button type="button" class="button button--small" on:click=handler(move |_| selected.set(Vec::new()))>"Clear selection"</button>
                <span class="bulk-bar__hint">"Shift-click picks a range; Ctrl+A picks all, Esc none."</span>
            </div>
        })}
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
