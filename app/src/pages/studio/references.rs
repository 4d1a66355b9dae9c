//! The Studio's reference images: chosen from the library or dropped in (kept in the
//! browser, through [`drafts`], until the form is sent), with the model's limit.

use leptos::{prelude::*, task::spawn_local};
use model::{ImageFilter, ImageStatus};

use super::state::FormState;
use crate::{
    api::library::ListImages,
    browser_resource::browser_resource,
    components::{handler, show_when, Picture},
    drafts, AppError,
};

/// The reference images of the form; `max` is how many the chosen model takes.
#[component]
pub(super) fn References(form: FormState, max: Signal<u8>) -> impl IntoView {
    let FormState {
        references,
        drafts,
        error,
        ..
    } = form;
    let dragging = RwSignal::new(false);
    let picking = RwSignal::new(false);
    let refs_used = move || references.with(Vec::len) + drafts.with(Vec::len);

    let add_files = move |files: Vec<web_sys::File>| {
        for file in files {
            spawn_local(async move {
                match drafts::save(file).await {
                    Ok(d) => drafts.update(|list| list.push(d)),
                    Err(message) => error.set(Some(AppError::Refused {
                        code: "draft".to_owned(),
                        message,
                    })),
                }
            });
        }
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(list) = ev.data_transfer().and_then(|dt| dt.files()) {
            add_files((0..list.length()).filter_map(|i| list.get(i)).collect());
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(list) = input.files() {
            add_files((0..list.length()).filter_map(|i| list.get(i)).collect());
        }
        input.set_value("");
    };

    view! {
        <fieldset class="references">
            <legend>{move || format!("Reference images ({} of at most {})", refs_used(), max.get())}</legend>
            {show_when(move || max.get() == 0, move || view! {
                <p class="muted">"This model takes no reference images."</p>
            })}
            <ul class="references__list" aria-label="Chosen reference images">
                <For each=move || references.get() key=|id| id.clone() let:id>
                    <li class="references__item">
                        <Picture image_id=id.clone() alt="Reference image" square=true sizes="5rem" />
                        <button type="button" class="button button--small" on:click=handler({
                            let id = id.clone();
                            move |_| references.update(|r| r.retain(|x| *x != id))
                        })>"Remove"</button>
                    </li>
                </For>
                <For each=move || drafts.get() key=|d| d.id.clone() let:draft>
                    <li class="references__item references__item--draft" data-testid="reference-draft">
                        <img src=draft.preview.clone() alt=format!("Waiting to upload: {}", draft.name) />
                        <span class="muted">"Not uploaded yet"</span>
                        <button type="button" class="button button--small" on:click=handler({
                            let id = draft.id.clone();
                            move |_| {
                                let id = id.clone();
                                drafts.update(|d| d.retain(|x| x.id != id));
                                spawn_local(drafts::remove(id));
                            }
                        })>"Remove"</button>
                    </li>
                </For>
            </ul>
            <div
                class="dropzone dropzone--small"
                class:dropzone--active=move || dragging.get()
                on:dragenter=handler(move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); })
                on:dragover=handler(move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); })
                on:dragleave=handler(move |_| dragging.set(false))
                on:drop=handler(on_drop)
                data-testid="reference-dropzone"
            >
                <p>"Drop reference images here, or"</p>
                <label class="button button--small">
                    "choose files"
                    <input type="file" class="visually-hidden" multiple accept="image/png,image/jpeg,image/webp" on:change=handler(on_pick) />
                </label>
                <button type="button" class="button button--small" aria-expanded=move || picking.get().to_string() on:click=handler(move |_| picking.update(|p| *p = !*p))>
                    "Pick from your library"
                </button>
            </div>
            {show_when(move || picking.get(), move || view! {
                <LibraryPicker references=references />
            })}
            <p class="field__error" role="alert">{form.field_error("reference_image_ids")}</p>
        </fieldset>
    }
}

/// The library's finished images, to choose references from.
#[component]
fn LibraryPicker(references: RwSignal<Vec<String>>) -> impl IntoView {
    let images = browser_resource(|| ListImages {
        filter: ImageFilter {
            status: Some(ImageStatus::Completed),
            limit: Some(48),
            ..ImageFilter::default()
        },
    });
    view! {
        <div class="picker" role="group" aria-label="Your library">
            {move || match images.get() {
                None => view! { <p class="muted">"Loading your images…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">"Your library is empty: drop a file instead."</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ul class="picker__grid">
                        {page.items.into_iter().map(|image| {
                            let id = image.id.clone();
                            let checked = {
                                let id = id.clone();
                                move || references.with(|r| r.contains(&id))
                            };
                            let label = image.label();
                            view! {
                                <li>
                                    <label class="picker__item">
                                        <input type="checkbox" prop:checked=checked on:change=handler(move |ev| {
                                            let on = event_target_checked(&ev);
                                            let id = id.clone();
                                            references.update(|r| {
                                                r.retain(|x| *x != id);
                                                if on { r.push(id); }
                                            });
                                        }) />
                                        <Picture image_id=image.id.clone() alt=label square=true sizes="6rem" />
                                    </label>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}
