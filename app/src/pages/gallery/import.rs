//! Importing an image from a URL into the gallery.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{client::call, library::ImportImage},
    components::{handler, Notice, NoticeLine},
};

/// Import an image from a web address into the library.
#[component]
pub(super) fn ImportForm(
    collection_id: Signal<Option<String>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Notice>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let address = url.get_untracked();
        if address.trim().is_empty() {
            return;
        }
        busy.set(true);
        let collection = collection_id.get_untracked();
        spawn_local(async move {
            match call(ImportImage {
                url: address,
                collection_id: collection,
            })
            .await
            {
                Ok(image) => {
                    result.set(Some(Notice::done(format!("Imported “{}”.", image.label()))));
                    url.set(String::new());
                    refresh.run(());
                }
                Err(e) => result.set(Some(Notice::failed(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="form form--inline import-form" on:submit=handler(submit)>
            <div class="field">
                <label for="import-url">"Or import from a web address"</label>
                <input id="import-url" type="url" inputmode="url" placeholder="https://…" required
                    prop:value=move || url.get() on:input=handler(move |ev| url.set(event_target_value(&ev))) />
            </div>
            <button type="submit" class="button" disabled=move || busy.get()>
                {move || if busy.get() { "Importing…" } else { "Import" }}
            </button>
        </form>
        <NoticeLine notice=result />
    }
}
