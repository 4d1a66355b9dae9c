//! Importing an image from a web address for a character (as its avatar, or as one more of
//! its images), and storing an avatar that still lives at an outside address. The image is
//! fetched by the server with the same checks as an upload; the page never loads images
//! from other sites.

use leptos::prelude::*;

use crate::{
    api::library::ImportForCharacter,
    components::{
        field_error, form_error, succeeded, Field, FormAction, FormError, NoticeLine, PostForm,
    },
};

#[component(transparent)]
pub(super) fn ImportForCharacterForm(
    id: String,
    /// The avatar's address while it is outside this studio.
    #[prop(into)]
    external: Signal<Option<String>>,
    action: FormAction<ImportForCharacter>,
) -> impl IntoView {
    let id_store = id.clone();
    let busy = move || action.pending().get();
    view! {
        {move || external.get().map(|url| {
            let (shown, id) = (url.clone(), id_store.clone());
            view! {
                <div class="notice" role="note" data-testid="external-avatar">
                    <p>
                        "The avatar is still at "
                        <a href=shown.clone() target="_blank" rel="noopener noreferrer" class="meta__url">{shown.clone()}</a>
                        ", outside this studio. Store it here to see it on these pages, resize it and use it as an identity reference."
                    </p>
                    <PostForm action=action>
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="url" value=url />
                        <input type="hidden" name="as_avatar" value="on" />
                        <button type="submit" class="button" disabled=busy>"Store it here"</button>
                    </PostForm>
                </div>
            }
        })}
        <FormError error=form_error(action) />
        <PostForm action=action class="form form--inline import-form">
            <input type="hidden" name="id" value=id />
            <Field label="Or import from a web address" name="url" kind="url" required=true maxlength=2048 error=field_error(action, "url") />
            <div class="field field--check">
                <input id="import-as-avatar" type="checkbox" name="as_avatar" value="on" />
                <label for="import-as-avatar">"Make it the avatar"</label>
            </div>
            <button type="submit" class="button" disabled=busy>
                {move || if busy() { "Importing…" } else { "Import" }}
            </button>
        </PostForm>
        <NoticeLine notice=succeeded(action, "Imported.") />
    }
}
