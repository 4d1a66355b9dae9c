//! The lightbox: one image as large as the screen allows, the previous and next by
//! arrow keys, buttons or a swipe, a zoom to the original's full resolution, and its
//! details beside it (a side panel on wide screens, a sheet that slides up on a phone).
//! It is a modal dialog: Tab stays inside, Escape closes it, and focus goes back to the
//! tile it was opened from.

use leptos::{ev, prelude::*};
use model::{Character, Collection, Image};

use crate::components::{focus_selector, trap_tab, Notice, Picture};

use super::{
    details::{title_line, Actions, Facts, TitleLine},
    lineage::Lineage,
    shares::SharePanel,
};

/// How far a finger must travel sideways to go to the next image, in CSS pixels.
const SWIPE_PX: f64 = 60.0;

#[component]
pub(super) fn Lightbox(
    images: Signal<Vec<Image>>,
    open: RwSignal<Option<usize>>,
    trash: Memo<bool>,
    collections: Signal<Vec<Collection>>,
    characters: Signal<Vec<Character>>,
    refresh: Callback<()>,
    message: RwSignal<Option<Notice>>,
    /// Opens another image (one of the lineage).
    walk: Callback<Image>,
) -> impl IntoView {
    let current = Memo::new(move |_| open.get().and_then(|i| images.read().get(i).cloned()));
    let count = move || images.read().len();
    let zoomed = RwSignal::new(false);
    let sheet_open = RwSignal::new(false);
    let step = move |delta: isize| {
        if let Some(i) = open.get_untracked() {
            let n = count() as isize;
            if n > 0 {
                zoomed.set(false);
                open.set(Some(((i as isize + delta).rem_euclid(n)) as usize));
            }
        }
    };
    let close = Callback::new(move |()| open.set(None));
    let body = NodeRef::<leptos::html::Div>::new();
    let close_button = NodeRef::<leptos::html::Button>::new();
    // Opened: focus on "Close". Closed: focus back on the tile it was opened from.
    Effect::new(move |was: Option<Option<usize>>| {
        let now = open.get();
        match (was.flatten(), now) {
            (None, Some(_)) => {
                sheet_open.set(false);
                if let Some(b) = close_button.get() {
                    let _ = b.focus();
                }
            }
            (Some(i), None) => {
                zoomed.set(false);
                focus_selector(&format!(".tile[data-index='{i}'] .tile__open"));
            }
            _ => {}
        }
        now
    });
    let handle = window_event_listener(ev::keydown, move |ev| {
        if open.get_untracked().is_none() {
            return;
        }
        // Arrows move the caret in a field being typed in, not to another image.
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        match ev.key().as_str() {
            "Escape" => open.set(None),
            "ArrowRight" if !typing => step(1),
            "ArrowLeft" if !typing => step(-1),
            "Tab" => {
                if let Some(b) = body.get_untracked() {
                    trap_tab(&b, &ev);
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());

    // A swipe: where the finger went down, and whether it is still the same gesture.
    let swipe_from = StoredValue::new(None::<f64>);
    let on_down = move |e: ev::PointerEvent| {
        if !zoomed.get_untracked() {
            swipe_from.set_value(Some(f64::from(e.client_x())));
        }
    };
    let on_up = move |e: ev::PointerEvent| {
        if let Some(from) = swipe_from.get_value() {
            swipe_from.set_value(None);
            let dx = f64::from(e.client_x()) - from;
            if dx.abs() >= SWIPE_PX {
                step(if dx < 0.0 { 1 } else { -1 });
            }
        }
    };

    view! {
        {move || current.get().map(|image| {
            let id = image.id.clone();
            let label = image.label();
            let heading = title_line(&image);
            let has_media = image.has_media();
            let shareable = has_media && !trash.get_untracked();
            let editable = !trash.get_untracked();
            let (facts_image, actions_image, lineage_image, title_image) = (image.clone(), image.clone(), image.clone(), image.clone());
            view! {
                <div class="lightbox" role="dialog" aria-modal="true" aria-label=heading.clone()>
                    <div class="lightbox__backdrop" on:click=move |_| open.set(None)></div>
                    <div class="lightbox__body" node_ref=body class:lightbox__body--sheet-open=move || sheet_open.get()>
                        <div class="lightbox__bar">
                            <button type="button" class="button button--small" on:click=move |_| step(-1) aria-label="Previous image">"←"</button>
                            <span class="lightbox__count">{move || format!("{} of {}", open.get().map_or(0, |i| i + 1), count())}</span>
                            <button type="button" class="button button--small" on:click=move |_| step(1) aria-label="Next image">"→"</button>
                            {has_media.then(|| view! {
                                <button type="button" class="button button--small" aria-pressed=move || zoomed.get().to_string() on:click=move |_| zoomed.update(|z| *z = !*z)>
                                    {move || if zoomed.get() { "Fit" } else { "Zoom" }}
                                </button>
                            })}
                            <button type="button" class="button button--small lightbox__close" node_ref=close_button on:click=move |_| open.set(None) aria-label="Close">"Close"</button>
                        </div>
                        <div
                            class="lightbox__stage"
                            class:lightbox__stage--zoomed=move || zoomed.get()
                            on:pointerdown=on_down
                            on:pointerup=on_up
                            on:pointercancel=move |_| swipe_from.set_value(None)
                        >
                            {if has_media {
                                let (fit_id, full_id, fit_label, full_label) = (id.clone(), id.clone(), label.clone(), label.clone());
                                view! {
                                    <Show
                                        when=move || zoomed.get()
                                        fallback=move || view! {
                                            <button type="button" class="lightbox__picture" aria-label="Zoom to full size" on:click=move |_| zoomed.set(true)>
                                                <Picture image_id=fit_id.clone() alt=fit_label.clone() sizes="(min-width: 56rem) 65vw, 100vw" eager=true />
                                            </button>
                                        }
                                    >
                                        <button type="button" class="lightbox__picture lightbox__picture--full" aria-label="Fit to the screen" on:click=move |_| zoomed.set(false)>
                                            <img src=format!("/media/{full_id}") alt=full_label.clone() decoding="async" />
                                        </button>
                                    </Show>
                                }.into_any()
                            } else {
                                view! { <p class="tile__placeholder">{image.status.as_str()}</p> }.into_any()
                            }}
                        </div>
                        <aside class="lightbox__meta" aria-label="Details">
                            <button
                                type="button"
                                class="lightbox__sheet-handle"
                                aria-expanded=move || sheet_open.get().to_string()
                                on:click=move |_| sheet_open.update(|o| *o = !*o)
                            >
                                <span class="lightbox__sheet-title">{heading.clone()}</span>
                                <span class="lightbox__sheet-toggle">{move || if sheet_open.get() { "Hide details" } else { "Details" }}</span>
                            </button>
                            <div class="lightbox__details">
                                <TitleLine image=title_image editable=editable message=message refresh=refresh />
                                <Facts image=facts_image />
                                <Actions image=actions_image trash=trash collections=collections characters=characters refresh=refresh message=message close=close />
                                {shareable.then(|| view! { <SharePanel image_id=id.clone() /> })}
                                <Lineage image=lineage_image walk=walk />
                            </div>
                        </aside>
                    </div>
                </div>
            }
        })}
    }
}
