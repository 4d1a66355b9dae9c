//! A button for something that cannot be undone: the first press asks the question in
//! place, with the button that does it (focused, so Enter confirms and Escape or "Cancel"
//! backs out); only that second press acts.

use leptos::prelude::*;

use super::handler;

#[component]
pub fn ConfirmButton(
    /// What the first button says ("Empty the trash").
    label: &'static str,
    /// The question asked before acting ("Delete 3 images for good?").
    #[prop(into)]
    question: Signal<String>,
    /// What the confirming button says ("Delete for good").
    confirm: &'static str,
    #[prop(into)] on_confirm: Callback<()>,
    /// Small buttons (in toolbars of selected items).
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    let first_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |was: Option<bool>| {
        let now = asking.get();
        if now {
            if let Some(b) = confirm_button.get() {
                let _ = b.focus();
            }
        } else if was == Some(true) {
            // Back to where the person was.
            if let Some(b) = first_button.get() {
                let _ = b.focus();
            }
        }
        now
    });
    let class = if small {
        "button button--danger button--small"
    } else {
        "button button--danger"
    };
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class=class node_ref=first_button on:click=handler(move |_| asking.set(true))>{label}</button>
            }
        >
            <span
                class="confirm"
                role="group"
                aria-label=move || question.get()
                on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        // Only this question: not the dialog it may be in.
                        ev.stop_propagation();
                        asking.set(false);
                    }
                })
            >
                <span class="confirm__question">{move || question.get()}</span>
                <button type="button" class=class node_ref=confirm_button on:click=handler(move |_| {
                    asking.set(false);
                    on_confirm.run(());
                })>{confirm}</button>
                <button type="button" class="button button--small" on:click=handler(move |_| asking.set(false))>"Cancel"</button>
            </span>
        </Show>
    }
}
