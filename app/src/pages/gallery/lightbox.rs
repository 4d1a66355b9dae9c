//! The lightbox: one image as large as the screen allows, the previous and next by
//! arrow keys, buttons or a swipe, a zoom to the original's full resolution (a click, a
//! spread of two fingers or a trackpad's pinch; the gestures are `gesture`'s), and its
//! details beside it (a side panel on wide screens, a sheet that slides up on a phone).
//! It is a modal dialog: Tab stays inside, Escape closes it, and focus goes back to the
//! tile it was opened from.

use leptos::{ev, prelude::*};
use model::{Character, Collection, Image};

use crate::components::{focus_selector, handler, trap_tab, Notice, Picture};

use super::{
    details::{title_line, Actions, Facts, TitleLine},
    gesture::{self, Gesture, Point, Step},
    lineage::Lineage,
    shares::SharePanel,
};

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

    // Swipes and pinches (`gesture`). While two fingers move, the picture follows them;
    // when they lift, it snaps to the fitted picture or the original.
    let stage = NodeRef::<leptos::html::Div>::new();
    let gesture = StoredValue::new(Gesture::default());
    // The picture scaled under the fingers while they move: the scale and the
    // transform's origin within the picture, in CSS pixels.
    let following = RwSignal::new(None::<(f64, f64, f64)>);
    // Where the original should open: the spot under the fingers, as fractions of the
    // picture, and where on the screen it should stay.
    let zoom_to = StoredValue::new(None::<(f64, f64, Point)>);
    // A gesture's end is not also a click on the picture.
    let swallow_click = StoredValue::new(false);
    let picture_rect = move || {
        let stage = stage.get_untracked()?;
        let img = stage.query_selector("img").ok().flatten()?;
        Some(img.get_bounding_client_rect())
    };
    let apply = move |s: Step| match s {
        Step::Nothing => {}
        Step::Scale { scale, around } => {
            let origin = match following.get_untracked() {
                Some((_, x, y)) => Some((x, y)),
                // The transform's origin is fixed once, before the transform moves the box.
                None => stage
                    .get_untracked()
                    .and_then(|s| s.first_element_child())
                    .map(|el| {
                        let r = el.get_bounding_client_rect();
                        (around.x - r.left(), around.y - r.top())
                    }),
            };
            if let Some((x, y)) = origin {
                following.set(Some((scale, x, y)));
            }
        }
        Step::Pan { dx, dy } => {
            if let Some(stage) = stage.get_untracked() {
                stage.scroll_by_with_x_and_y(dx, dy);
            }
        }
        Step::Go(delta) => {
            swallow_click.set_value(true);
            step(delta);
        }
        Step::ZoomIn { around } => {
            swallow_click.set_value(true);
            // Scaling about the fingers' middle keeps that spot still, so the picture's
            // box as it is now tells which spot of the image is there.
            if let Some(r) = picture_rect().filter(|r| r.width() > 0.0 && r.height() > 0.0) {
                let fx = ((around.x - r.left()) / r.width()).clamp(0.0, 1.0);
                let fy = ((around.y - r.top()) / r.height()).clamp(0.0, 1.0);
                zoom_to.set_value(Some((fx, fy, around)));
            }
            following.set(None);
            zoomed.set(true);
        }
        Step::ZoomOut => {
            swallow_click.set_value(true);
            following.set(None);
            zoomed.set(false);
        }
        Step::Settle => {
            swallow_click.set_value(true);
            following.set(None);
        }
    };
    let at = |e: &web_sys::MouseEvent| Point::new(f64::from(e.client_x()), f64::from(e.client_y()));
    // Each pointer event goes to the gesture, and what it makes of it is done.
    let feed = move |event: &dyn Fn(&mut Gesture) -> Step| {
        apply(
            gesture
                .try_update_value(|g| event(g))
                .unwrap_or(Step::Nothing),
        );
    };
    let on_down = move |e: ev::PointerEvent| {
        swallow_click.set_value(false);
        let z = zoomed.get_untracked();
        feed(&|g| g.down(e.pointer_id(), at(&e), z));
    };
    let on_move = move |e: ev::PointerEvent| feed(&|g| g.moved(e.pointer_id(), at(&e)));
    let on_up = move |e: ev::PointerEvent| {
        let z = zoomed.get_untracked();
        feed(&|g| g.up(e.pointer_id(), at(&e), z));
    };
    let on_cancel = move |_: ev::PointerEvent| feed(&Gesture::cancel);
    // On the stage itself (events are not delegated here), so not passive: it can keep
    // the page from zooming.
    let on_wheel = move |e: ev::WheelEvent| {
        let s = gesture::wheel(e.ctrl_key(), e.delta_y(), at(&e), zoomed.get_untracked());
        if e.ctrl_key() {
            // The page itself is not zoomed by a pinch over the picture.
            e.prevent_default();
        }
        apply(s);
    };
    // The original has loaded: scroll it so that the spot the fingers spread over is
    // still under them.
    let on_full_load = move |_| {
        let (Some((fx, fy, around)), Some(stage), Some(r)) =
            (zoom_to.get_value(), stage.get_untracked(), picture_rect())
        else {
            return;
        };
        zoom_to.set_value(None);
        let dx = r.left() + fx * r.width() - around.x;
        let dy = r.top() + fy * r.height() - around.y;
        stage.scroll_by_with_x_and_y(dx, dy);
    };
    let clicked = move || {
        !swallow_click
            .try_update_value(std::mem::take)
            .unwrap_or(false)
    };
    let transform = move || {
        following
            .get()
            .map(|(scale, _, _)| format!("scale({scale})"))
    };
    let origin = move || following.get().map(|(_, x, y)| format!("{x}px {y}px"));

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
                    <div class="lightbox__backdrop" on:click=handler(move |_| open.set(None))></div>
                    <div class="lightbox__body" node_ref=body class:lightbox__body--sheet-open=move || sheet_open.get()>
                        <div class="lightbox__bar">
                            <button type="button" class="button button--small" on:click=handler(move |_| step(-1)) aria-label="Previous image">"←"</button>
                            <span class="lightbox__count">{move || format!("{} of {}", open.get().map_or(0, |i| i + 1), count())}</span>
                            <button type="button" class="button button--small" on:click=handler(move |_| step(1)) aria-label="Next image">"→"</button>
                            {has_media.then(|| view! {
                                <button type="button" class="button button--small" aria-pressed=move || zoomed.get().to_string() on:click=handler(move |_| { zoom_to.set_value(None); zoomed.update(|z| *z = !*z) })>
                                    {move || if zoomed.get() { "Fit" } else { "Zoom" }}
                                </button>
                            })}
                            <button type="button" class="button button--small lightbox__close" node_ref=close_button on:click=handler(move |_| open.set(None)) aria-label="Close">"Close"</button>
                        </div>
                        <div
                            class="lightbox__stage"
                            class:lightbox__stage--zoomed=move || zoomed.get()
                            node_ref=stage
                            on:pointerdown=handler(on_down)
                            on:pointermove=handler(on_move)
                            on:pointerup=handler(on_up)
                            on:pointercancel=handler(on_cancel)
                            on:wheel=handler(on_wheel)
                        >
                            {if has_media {
                                let (fit_id, full_id, fit_label, full_label) = (id.clone(), id.clone(), label.clone(), label.clone());
                                view! {
                                    <Show
                                        when=move || zoomed.get()
                                        fallback=move || view! {
                                            <button
                                                type="button"
                                                class="lightbox__picture"
                                                aria-label="Zoom to full size"
                                                style:transform=transform
                                                style:transform-origin=origin
                                                on:click=handler(move |_| if clicked() { zoom_to.set_value(None); zoomed.set(true) })
                                            >
                                                <Picture image_id=fit_id.clone() alt=fit_label.clone() sizes="(min-width: 56rem) 65vw, 100vw" eager=true />
                                            </button>
                                        }
                                    >
                                        <button
                                            type="button"
                                            class="lightbox__picture lightbox__picture--full"
                                            aria-label="Fit to the screen"
                                            style:transform=transform
                                            style:transform-origin=origin
                                            on:click=handler(move |_| if clicked() { zoomed.set(false) })
                                        >
                                            <img src=format!("/media/{full_id}") alt=full_label.clone() decoding="async" on:load=handler(on_full_load) />
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
                                on:click=handler(move |_| sheet_open.update(|o| *o = !*o))
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
