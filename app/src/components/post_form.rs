//! A form that posts to a server function: [`PostForm`] and its [`FormAction`], in place of
//! Leptos' `ActionForm` and `ServerAction` (issue 17 §2).
//!
//! Without JavaScript the form posts itself, as before. In the browser, `ActionForm` turned
//! the form's fields into the server function's arguments (serde_qs' decoder, compiled
//! once per form), dispatched a `ServerAction` of that type (an action's machinery,
//! compiled once per form) and encoded the arguments back into the same fields to send
//! them. Here the fields are sent as the browser encodes them (`URLSearchParams`), through
//! one action whose input is that body and whose output is the answer's text, the same for
//! every form; only reading the answer (`serde_json`, from bytes like every other answer)
//! is compiled per form. The server checks the fields as it does for a form posted without
//! JavaScript, so a bad field is the same error either way.

use std::marker::PhantomData;

use leptos::{
    ev::SubmitEvent,
    prelude::*,
    server::ServerActionError,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use serde::de::DeserializeOwned;

use crate::{
    api::client::{read, send, Answer},
    components::handler,
    AppError,
};

/// The action behind a [`PostForm`]: its pending state, its version (bumped by each answer)
/// and its last answer, read as the server function `T`'s output.
pub struct FormAction<T> {
    action: Action<String, Answer>,
    of: PhantomData<fn() -> T>,
}

impl<T> Clone for FormAction<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for FormAction<T> {}

impl<T> FormAction<T>
where
    T: ServerFn<Error = AppError> + 'static,
    T::Output: DeserializeOwned + Send + Sync + 'static,
{
    /// A new action for the server function `T`. After a form posted without JavaScript
    /// failed, the page it returns to starts with that error (as `ServerAction` does).
    #[track_caller]
    pub fn new() -> Self {
        Self {
            action: action_for(T::PATH),
            of: PhantomData,
        }
    }

    /// The last answer, if any, as `T`'s output.
    pub fn value(self) -> Signal<Option<Result<T::Output, AppError>>> {
        let value = self.action.value();
        Signal::derive(move || {
            value
                .get()
                .map(|answer| answer.and_then(|json| read(&json)))
        })
    }

    /// The last answer's error, if any: read without decoding the answer, by the same code
    /// for every form.
    pub fn error(self) -> Signal<Option<AppError>> {
        last_error(self.action)
    }

    /// Whether the last answer was a success (the same code for every form).
    pub fn succeeded(self) -> Signal<bool> {
        last_succeeded(self.action)
    }

    /// Whether a post is on its way.
    pub fn pending(self) -> Memo<bool> {
        self.action.pending()
    }

    /// How many answers have come back.
    pub fn version(self) -> RwSignal<usize> {
        self.action.version()
    }
}

impl<T> Default for FormAction<T>
where
    T: ServerFn<Error = AppError> + 'static,
    T::Output: DeserializeOwned + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

/// How the browser encodes a form's fields (`URLSearchParams`).
const FORM: &str = "application/x-www-form-urlencoded";

/// The action posting to the server function at `path`: the same code for every form (only
/// the address differs), so nothing of an action's machinery is compiled per form.
#[track_caller]
fn action_for(path: &'static str) -> Action<String, Answer> {
    let failed = use_context::<ServerActionError>().and_then(|error| {
        (error.path() == path).then(|| Err(ServerFnUrlError::<AppError>::decode_err(error.err())))
    });
    // In the browser the request's future is not `Send` (it holds JavaScript values),
    // so the action is a thread-local one; on the server it must not be: a thread-local
    // action's value is empty on any other thread, and the page's suspended parts,
    // which show the error, may be rendered on another.
    #[cfg(feature = "hydrate")]
    let action =
        Action::new_unsync_with_value(failed, move |body: &String| send(path, FORM, body.clone()));
    #[cfg(not(feature = "hydrate"))]
    let action =
        Action::new_with_value(failed, move |body: &String| send(path, FORM, body.clone()));
    action
}

fn last_error(action: Action<String, Answer>) -> Signal<Option<AppError>> {
    let value = action.value();
    Signal::derive(move || {
        value.with(|answer| match answer {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        })
    })
}

fn last_succeeded(action: Action<String, Answer>) -> Signal<bool> {
    let value = action.value();
    Signal::derive(move || value.with(|answer| matches!(answer, Some(Ok(_)))))
}

/// Where a [`PostForm`] posts: a [`FormAction`] of any server function, without its type,
/// so that the form component is compiled once, not once per server function.
#[derive(Clone, Copy)]
pub struct FormTarget {
    path: &'static str,
    action: Action<String, Answer>,
}

impl<T: ServerFn> From<FormAction<T>> for FormTarget {
    fn from(action: FormAction<T>) -> Self {
        Self {
            path: T::PATH,
            action: action.action,
        }
    }
}

/// A `<form>` posting to a [`FormAction`]'s server function; its fields are the function's
/// arguments. Its `class` is a property of its own rather than an attribute added to the
/// component (`attr:class`), which would be type-erased and carried to the element at run
/// time.
#[component]
pub fn PostForm(
    #[prop(into)] action: FormTarget,
    #[prop(optional)] class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    form_posting_to(action.path, action.action, class, children())
}

/// The form itself, the same code for every server function.
fn form_posting_to(
    url: &'static str,
    action: Action<String, Answer>,
    class: Option<&'static str>,
    children: AnyView,
) -> AnyView {
    let on_submit = move |ev: SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        // The fields as the browser encodes them; without them, let the form post itself.
        let Some(body) = encoded_fields(&ev) else {
            return;
        };
        ev.prevent_default();
        action.dispatch_local(body);
    };
    view! { <form action=url method="post" class=class on:submit=handler(on_submit)>{children}</form> }
        .into_any()
}

/// The submitted form's fields (and the button that submitted it), URL-encoded.
fn encoded_fields(ev: &SubmitEvent) -> Option<String> {
    let data = leptos::form::form_data_from_event(ev).ok()?;
    web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data)
        .ok()?
        .to_string()
        .as_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        api::library::{CreateCollection, RenameCollection},
        components::field_error,
    };

    /// Without JavaScript a failed form returns to its page with the error in the address
    /// (`__path`, `__err`); the page's action for that server function starts with it.
    #[test]
    fn a_form_posted_without_javascript_that_failed_starts_with_its_error() {
        let owner = Owner::new();
        owner.set();
        let error = AppError::Validation {
            field: Some("name".into()),
            message: "Give the collection a name.".into(),
        };
        let url = ServerFnUrlError::new(CreateCollection::PATH, error.clone())
            .to_url("http://localhost/collections")
            .expect("a URL");
        let encoded = url
            .query_pairs()
            .find(|(key, _)| key == "__err")
            .expect("the error is in the address")
            .1
            .into_owned();
        provide_context(ServerActionError::new(CreateCollection::PATH, &encoded));

        let create = FormAction::<CreateCollection>::new();
        assert_eq!(create.error().get_untracked(), Some(error.clone()));
        assert_eq!(
            field_error(create, "name").get_untracked().as_deref(),
            Some("Give the collection a name.")
        );
        assert_eq!(field_error(create, "description").get_untracked(), None);
        assert!(!create.succeeded().get_untracked());
        assert_eq!(create.value().get_untracked(), Some(Err(error)));
        assert!(!create.pending().get_untracked());

        // Another form on the same page starts without it.
        let rename = FormAction::<RenameCollection>::new();
        assert_eq!(rename.error().get_untracked(), None);
        assert_eq!(rename.value().get_untracked(), None);
    }
}
