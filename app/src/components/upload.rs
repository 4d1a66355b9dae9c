//! Uploading images: drop files on the zone (or choose them), each goes up on its own
//! request to `POST /api/v1/uploads` with its own progress bar and its own answer. The
//! server decides what is an image; the browser only spares a person an obviously
//! hopeless wait (a file over the size limit).

use leptos::prelude::*;

use crate::components::{handler, show_when};
use crate::format::file_size;

/// Why a file of `size` bytes is not sent, when it is larger than the server's limit
/// (`MAX_UPLOAD_BYTES`, from the instance's details; without them everything is sent and
/// the server checks).
pub fn too_large(size: f64, limit: Option<u64>) -> Option<String> {
    let limit = limit.filter(|l| *l > 0)?;
    (size > limit as f64).then(|| {
        format!(
            "This file is {}, larger than the {} this studio accepts.",
            file_size(size as u64),
            file_size(limit)
        )
    })
}

// Uploads finish only in the browser; the server build never sees `Done`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq)]
pub enum UploadState {
    Uploading,
    Done,
    Failed(String),
}

#[derive(Debug, Clone, Copy)]
pub struct UploadItem {
    pub id: usize,
    pub name: StoredValue<String>,
    /// 0–100.
    pub progress: RwSignal<f64>,
    pub state: RwSignal<UploadState>,
}

/// The drop zone and the list of uploads under way. `on_uploaded` runs after each image
/// that the server kept.
#[component]
pub fn UploadPanel(
    #[prop(into)] on_uploaded: Callback<()>,
    /// Put the uploads into this collection.
    #[prop(into, optional)]
    collection_id: Signal<Option<String>>,
    /// Make the uploads images of this character.
    #[prop(into, optional)]
    character_id: Signal<Option<String>>,
) -> impl IntoView {
    let items = RwSignal::new(Vec::<UploadItem>::new());
    let dragging = RwSignal::new(false);
    let next_id = StoredValue::new(0usize);
    // The instance's limit (`MAX_UPLOAD_BYTES`), written into the page by the server.
    let limit = crate::instance::use_instance()
        .map(|i| i.max_upload_bytes)
        .filter(|b| *b > 0);

    let add_files = move |files: Vec<web_sys::File>| {
        for file in files {
            let id = next_id.get_value();
            next_id.set_value(id + 1);
            let item = UploadItem {
                id,
                name: StoredValue::new(file.name()),
                progress: RwSignal::new(0.0),
                state: RwSignal::new(UploadState::Uploading),
            };
            items.update(|list| list.push(item));
            if let Some(reason) = too_large(file.size(), limit) {
                item.state.set(UploadState::Failed(reason));
                continue;
            }
            let destination = (collection_id.get_untracked(), character_id.get_untracked());
            send(&file, item, destination, on_uploaded);
        }
    };

    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(list) = ev.data_transfer().and_then(|dt| dt.files()) {
            add_files(file_list(&list));
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(list) = input.files() {
            add_files(file_list(&list));
        }
        input.set_value("");
    };
    let finished = move || {
        items
            .get()
            .iter()
            .any(|i| i.state.get() != UploadState::Uploading)
    };

    view! {
        <div
            class="dropzone"
            class:dropzone--active=move || dragging.get()
            on:dragenter=handler(move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            })
            on:dragover=handler(move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            })
            on:dragleave=handler(move |_| dragging.set(false))
            on:drop=handler(on_drop)
            data-testid="dropzone"
        >
            <svg class="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
            </svg>
            <p>"Drop PNG, JPEG or WebP images here"</p>
            <label class="button button--primary">
                "Choose images"
                <input
                    type="file"
                    class="visually-hidden"
                    multiple
                    accept="image/png,image/jpeg,image/webp"
                    on:change=handler(on_pick)
                />
            </label>
            <p class="muted" data-testid="upload-limit">{match limit {
                Some(l) => format!("Up to {} each; several at once.", file_size(l)),
                None => "Several at once.".to_owned(),
            }}</p>
        </div>
        <ul class="upload-list" aria-live="polite" aria-label="Uploads">
            <For each=move || items.get() key=|item| item.id let:item>
                <UploadRow item=item />
            </For>
        </ul>
        {show_when(finished, move || view! {
            <button type="button" class="button button--small" on:click=handler(move |_| {
                items.update(|list| list.retain(|i| i.state.get_untracked() == UploadState::Uploading));
            })>"Clear finished"</button>
        })}
    }
}

#[component]
fn UploadRow(item: UploadItem) -> impl IntoView {
    let name = item.name.get_value();
    let status = move || match item.state.get() {
        UploadState::Uploading => format!("{:.0} %", item.progress.get()),
        UploadState::Done => "Uploaded".to_owned(),
        UploadState::Failed(message) => message,
    };
    let class = move || match item.state.get() {
        UploadState::Uploading => "upload upload--busy",
        UploadState::Done => "upload upload--done",
        UploadState::Failed(_) => "upload upload--failed",
    };
    view! {
        <li class=class>
            <span class="upload__name">{name.clone()}</span>
            <progress max="100" value=move || item.progress.get() aria-label=format!("Upload of {name}")></progress>
            <span class="upload__status" role="status">{status}</span>
        </li>
    }
}

fn file_list(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Sends one file with `XMLHttpRequest`, the browser API that reports upload progress.
#[cfg(feature = "hydrate")]
fn send(
    file: &web_sys::File,
    item: UploadItem,
    (collection_id, character_id): (Option<String>, Option<String>),
    on_uploaded: Callback<()>,
) {
    use wasm_bindgen::{closure::Closure, JsCast};

    let fail = move |message: &str| item.state.set(UploadState::Failed(message.to_owned()));
    let (Ok(xhr), Ok(form)) = (web_sys::XmlHttpRequest::new(), web_sys::FormData::new()) else {
        fail("This browser cannot upload files.");
        return;
    };
    // The destination goes before the file: the server reads the parts in order.
    if let Some(c) = collection_id {
        let _ = form.append_with_str("collection_id", &c);
    }
    if let Some(c) = character_id {
        let _ = form.append_with_str("character_id", &c);
    }
    if form
        .append_with_blob_and_filename("file", file, &file.name())
        .is_err()
        || xhr.open("POST", "/api/v1/uploads").is_err()
    {
        fail("This file cannot be read.");
        return;
    }

    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                item.progress
                    .set((e.loaded() / e.total() * 100.0).min(100.0));
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let request = xhr.clone();
    // Runs once (load, error or abort); it owns the progress closure, which is freed with it.
    let on_end = Closure::once_into_js(move |_: web_sys::Event| {
        drop(on_progress);
        let status = request.status().unwrap_or(0);
        if status == 201 {
            item.progress.set(100.0);
            item.state.set(UploadState::Done);
            on_uploaded.run(());
        } else if status == 0 {
            fail("The connection was lost. Try again.");
        } else {
            let text = request.response_text().ok().flatten().unwrap_or_default();
            let message = crate::json::from_slice::<model::ApiError>(text.as_bytes())
                .map(|e| e.error.message)
                .unwrap_or_else(|_| format!("The server answered {status}."));
            fail(&message);
        }
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    if xhr.send_with_opt_form_data(Some(&form)).is_err() {
        fail("The upload could not start.");
    }
}

#[cfg(not(feature = "hydrate"))]
fn send(
    _file: &web_sys::File,
    item: UploadItem,
    _destination: (Option<String>, Option<String>),
    _on_uploaded: Callback<()>,
) {
    item.state
        .set(UploadState::Failed("Uploads need JavaScript.".to_owned()));
}

#[cfg(test)]
mod tests {
    use super::too_large;

    #[test]
    fn only_files_over_the_servers_limit_are_held_back() {
        let mb = 1024 * 1024;
        assert_eq!(too_large(5.0 * mb as f64, Some(5 * mb)), None);
        assert_eq!(
            too_large(5.0 * mb as f64 + 1.0, Some(5 * mb)).as_deref(),
            Some("This file is 5.0 MB, larger than the 5.0 MB this studio accepts.")
        );
        assert_eq!(
            too_large(3.0 * mb as f64, Some(2 * mb)).as_deref(),
            Some("This file is 3.0 MB, larger than the 2.0 MB this studio accepts.")
        );
        // Not known yet: the server decides.
        assert_eq!(too_large(1e12, None), None);
    }
}
