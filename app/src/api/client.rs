//! How the browser calls a server function: one request for every function (issue 17 §2).
//!
//! Each server function's own client (`ServerFn::run_on_client`) is compiled once per
//! function: the request, the codecs, the error's decoding, the redirect hook. Here the
//! arguments are encoded as that client does ([`Posted`]: form fields by serde_qs, or JSON
//! for a function declared with `input = Json`), posted by [`send`], the same code for
//! every function, and only the answer's JSON is read per type ([`read`], from bytes like
//! every other reader in the browser). On the server [`call`] runs the function's body
//! directly, as a call of the function itself does.

use std::future::Future;

use leptos::server_fn::{
    codec::{Json, PostUrl},
    error::{FromServerFnError, ServerFnErrorErr},
    Http, ServerFn,
};
use serde::{de::DeserializeOwned, Serialize};

use crate::AppError;

/// A server function's answer as it travels: its JSON text, or its error.
pub type Answer = Result<String, AppError>;

/// Calls the server function `F` with `args`, from the browser or on the server. The future
/// is `Send` either way, so a `Resource` may await it (the browser has one thread).
pub fn call<F>(args: F) -> impl Future<Output = Result<F::Output, AppError>> + Send + 'static
where
    F: ServerFn<Error = AppError> + Serialize + Send + 'static,
    F::Protocol: Posted,
    F::Output: DeserializeOwned + 'static,
{
    #[cfg(feature = "ssr")]
    {
        args.run_body()
    }
    #[cfg(not(feature = "ssr"))]
    {
        send_wrapper::SendWrapper::new(async move { read(&post(&args).await?) })
    }
}

/// Posts `args` to the server function `F` and returns its answer's text.
pub async fn post<F>(args: &F) -> Answer
where
    F: ServerFn + Serialize,
    F::Protocol: Posted,
{
    let body = F::Protocol::encode(args)?;
    send(F::PATH, F::Protocol::CONTENT_TYPE, body).await
}

/// How a server function's arguments are posted: its input encoding, as its own client
/// writes it.
pub trait Posted {
    const CONTENT_TYPE: &'static str;

    fn encode<A: Serialize>(args: &A) -> Result<String, AppError>;
}

/// Form fields (serde_qs), the default.
impl<O> Posted for Http<PostUrl, O> {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    fn encode<A: Serialize>(args: &A) -> Result<String, AppError> {
        serde_qs::to_string(args).map_err(|e| unsent(e.to_string()))
    }
}

/// JSON, for the functions declared with `input = Json`.
impl<O> Posted for Http<Json, O> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn encode<A: Serialize>(args: &A) -> Result<String, AppError> {
        serde_json::to_string(args).map_err(|e| unsent(e.to_string()))
    }
}

fn unsent(message: String) -> AppError {
    AppError::from_server_fn_error(ServerFnErrorErr::Serialization(message))
}

/// Reads a server function's answer (JSON, from bytes: see `crate::hydration_codec`).
pub fn read<O: DeserializeOwned>(json: &str) -> Result<O, AppError> {
    crate::json::from_slice(json.as_bytes()).map_err(|e| undecodable(e.to_string()))
}

/// An answer read as another type than the one it was kept as.
pub(crate) const ANOTHER_TYPE: &str = "an answer of another type";

/// The error of an answer that cannot be read: not JSON of its type, not a server
/// function's answer, or kept as another type.
pub(crate) fn undecodable(message: String) -> AppError {
    AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(message))
}

/// Posts `body` (of `content_type`) to the server function at `path`, as its own client
/// does (the same headers, its redirect hook), and returns the answer's text or the error it
/// decodes to.
#[cfg(feature = "hydrate")]
pub async fn send(path: &'static str, content_type: &'static str, body: String) -> Answer {
    use leptos::server_fn::redirect::{call_redirect_hook, REDIRECT_HEADER};
    let failed = |e: gloo_net::Error| {
        AppError::from_server_fn_error(ServerFnErrorErr::Request(e.to_string()))
    };
    let response = gloo_net::http::Request::post(path)
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(body)
        .map_err(failed)?
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    let redirected = response.headers().get(REDIRECT_HEADER).is_some();
    let location = response
        .headers()
        .get("Location")
        .unwrap_or_else(|| response.url());
    let text = response.text().await.map_err(failed)?;
    let answer = if (400..=599).contains(&status) {
        Err(AppError::de(text.into()))
    } else {
        Ok(text)
    };
    if (300..=399).contains(&status) || redirected {
        call_redirect_hook(&location);
    }
    answer
}

/// Only the browser posts to a server function (the server runs its body).
#[cfg(not(feature = "hydrate"))]
pub async fn send(_path: &'static str, _content_type: &'static str, _body: String) -> Answer {
    Err(AppError::from_server_fn_error(ServerFnErrorErr::Request(
        "server functions are called over HTTP from the browser".to_owned(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::library::{ListCharacters, ListImageCards, RenameCollection};

    fn encode<F>(args: &F) -> Result<String, AppError>
    where
        F: ServerFn + Serialize,
        F::Protocol: Posted,
    {
        F::Protocol::encode(args)
    }

    #[test]
    fn answers_are_read_as_the_functions_output_and_bad_ones_are_errors() {
        assert_eq!(read::<Vec<u32>>("[1,2]"), Ok(vec![1, 2]));
        assert_eq!(read::<()>("null"), Ok(()));
        // What could not be read is reported as a failed exchange, not as a success.
        assert!(matches!(
            read::<u32>("{\"truncated\":"),
            Err(AppError::Transport(_))
        ));
    }

    /// The arguments are posted as the form fields the server function reads.
    #[test]
    fn arguments_are_encoded_as_the_functions_own_client_posts_them() {
        assert_eq!(encode(&ListCharacters { cursor: None }), Ok(String::new()));
        assert_eq!(
            encode(&ListCharacters {
                cursor: Some("c_1 &=2".into())
            }),
            Ok("cursor=c_1+%26%3D2".to_owned())
        );
        let rename = RenameCollection {
            id: "col_1".into(),
            name: "Knights & \"heroes\"".into(),
        };
        let encoded = encode(&rename).expect("encodes");
        let back: RenameCollection = serde_qs::from_str(&encoded).expect("decodes");
        assert_eq!((back.id, back.name), (rename.id, rename.name));
        // A function declared with `input = Json` is posted JSON.
        let cards = ListImageCards {
            filter: model::ImageFilter::default(),
        };
        let encoded = encode(&cards).expect("encodes");
        let back: ListImageCards = serde_json::from_str(&encoded).expect("JSON");
        assert_eq!(back.filter, cards.filter);
    }
}
