//! Form building blocks: labelled fields with their own error message (announced to
//! screen readers), and a summary for errors that are not about one field.

use leptos::prelude::*;

use super::{FormAction, Notice};
use crate::AppError;

/// The message for one field from the last result of a form's action.
pub fn field_error<T>(action: FormAction<T>, field: &'static str) -> Signal<Option<String>>
where
    T: leptos::server_fn::ServerFn<Error = AppError> + 'static,
    T::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    message_for(action.error(), field)
}

fn message_for(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
}

/// The error of the last result of a form's action, if any.
pub fn form_error<T>(action: FormAction<T>) -> Signal<Option<AppError>>
where
    T: leptos::server_fn::ServerFn<Error = AppError> + 'static,
    T::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    action.error()
}

/// A confirmation saying `message` once the last result of a form's action is a success.
pub fn succeeded<T>(action: FormAction<T>, message: &'static str) -> Signal<Option<Notice>>
where
    T: leptos::server_fn::ServerFn<Error = AppError> + 'static,
    T::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    done_when(action.succeeded(), message)
}

fn done_when(succeeded: Signal<bool>, message: &'static str) -> Signal<Option<Notice>> {
    Signal::derive(move || succeeded.get().then(|| Notice::done(message)))
}

/// A labelled input (a text area with `kind="textarea"`). `error` is the message for this field, shown under it and linked
/// with `aria-describedby`.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] minlength: Option<u32>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional, into)] value: MaybeProp<String>,
    #[prop(into, default = Signal::stored(None))] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {(!hint.is_empty()).then(|| view! { <p class="field__hint" id=hint_id.clone()>{hint}</p> })}
            {if kind == "textarea" {
                view! {
                    <textarea
                        id=id.clone()
                        name=name
                        rows="3"
                        required=required
                        minlength=minlength.map(|n| n.to_string())
                        maxlength=maxlength.map(|n| n.to_string())
                        aria-invalid=move || error.get().is_some().then_some("true")
                        aria-describedby=described_by
                    >{value.get_untracked()}</textarea>
                }.into_any()
            } else {
                view! {
                    <input
                        id=id.clone()
                        name=name
                        type=kind
                        autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                        required=required
                        minlength=minlength.map(|n| n.to_string())
                        maxlength=maxlength.map(|n| n.to_string())
                        value=move || value.get()
                        aria-invalid=move || error.get().is_some().then_some("true")
                        aria-describedby=described_by
                    />
                }.into_any()
            }}
            <p class="field__error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The errors of a form that are not about one field (wrong password, too many attempts,
/// a provider's refusal), in a live region.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <div class="form-error" role="alert" aria-live="assertive">
            {move || {
                error
                    .get()
                    .and_then(|e| e.general())
                    .map(|message| view! { <p class="notice notice--error">{message}</p> })
            }}
        </div>
    }
}
