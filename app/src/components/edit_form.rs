//! "Edit with a prompt": an instruction ("make the hair blue") applied to a finished image
//! by the provider's editing path, making a new image whose parent is this one. Used on
//! job cards and in the gallery's lightbox; the new job is followed live like any other.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{client::call, generation::EditImage},
    components::{handler, Notice},
    live::use_live,
};

/// The instruction as sent: trimmed; nothing to send when blank.
pub fn instruction(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|s| !s.is_empty())
}

#[component]
pub fn EditForm(
    image_id: String,
    /// Where to say what happened.
    message: RwSignal<Option<Notice>>,
) -> impl IntoView {
    let live = use_live();
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let field = format!("edit-{image_id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(prompt) = instruction(&text.get_untracked()) else {
            message.set(Some(Notice {
                ok: false,
                text: "Say what to change, e.g. “make the hair blue”.".to_owned(),
            }));
            return;
        };
        let id = image_id.clone();
        busy.set(true);
        spawn_local(async move {
            match call(EditImage { id, prompt }).await {
                Ok(jobs) => {
                    live.merge(jobs, Vec::new());
                    text.set(String::new());
                    message.set(Some(Notice::done(
                        "Editing: the new image appears here when it is done.",
                    )));
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <details class="edit-form">
            <summary class="button button--small">"Edit with a prompt"</summary>
            <form class="form form--inline" on:submit=handler(submit)>
                <div class="field">
                    <label for=field.clone()>"What to change"</label>
                    <input id=field type="text" maxlength="4000" placeholder="make the hair blue" required=true
                        prop:value=move || text.get() on:input=handler(move |ev| text.set(event_target_value(&ev))) />
                </div>
                <button type="submit" class="button button--small" disabled=move || busy.get()>
                    {move || if busy.get() { "Starting…" } else { "Edit" }}
                </button>
            </form>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::instruction;

    #[test]
    fn a_blank_instruction_is_not_sent() {
        assert_eq!(
            instruction("  make the hair blue "),
            Some("make the hair blue".to_owned())
        );
        assert_eq!(instruction(" \n "), None);
    }
}
