//! A resource of a server function's answer, one machinery for every function (issue 17 §2).
//!
//! Leptos' `Resource<T>` is compiled once per value type `T` and per pair of closures (the
//! source and the fetcher, so once per place a resource is made): its async machinery
//! (`ArcAsyncDerived<T>`), and in the browser the function's own client. Here every
//! resource is a `Resource<Fetched>` made by one function, [`erased`], with one source type
//! (a [`Key`]) and one fetcher type (a boxed future). In the browser a [`Fetched`] is the
//! answer's JSON *text* as it came (from the page's hydration data, or from
//! [`client::send`]), read as the function's output only where it is awaited
//! ([`ServerResource`]); on the server it holds the typed answer, which the server's render
//! reads without any JSON, and which is written once into the page for the browser
//! (`"`/`'` exchanged, as [`QuotesSwappedJson`](crate::hydration_codec::QuotesSwappedJson)
//! does, so the literal needs an escape only where the data has an apostrophe).

use std::{
    future::{Future, IntoFuture},
    marker::PhantomData,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use leptos::{
    prelude::*,
    server::codee::{Decoder, Encoder},
    server_fn::{error::FromServerFnError, ServerFn},
};
use serde::{de::DeserializeOwned, Serialize};

use crate::{api::client, hydration_codec::swap_quotes, AppError};

/// A server function's answer, kept by a resource without its type; see the module's
/// documentation.
#[derive(Clone)]
pub struct Fetched(Kept);

/// On the server: the typed `Result<O, AppError>` and the function that writes it.
#[cfg(feature = "ssr")]
#[derive(Clone)]
struct Kept {
    answer: Arc<dyn std::any::Any + Send + Sync>,
    write: fn(&Fetched) -> String,
}

/// In the browser: the answer's JSON text, or its error.
#[cfg(not(feature = "ssr"))]
type Kept = Result<Arc<str>, AppError>;

/// The first byte of a success's text in the page; an error's starts with [`FAILED`].
const SUCCEEDED: char = 'o';
const FAILED: char = 'e';

impl Fetched {
    #[cfg(feature = "ssr")]
    fn new<O: Serialize + Send + Sync + 'static>(answer: Result<O, AppError>) -> Self {
        Self(Kept {
            answer: Arc::new(answer),
            write: Self::write::<O>,
        })
    }

    /// The answer as the text the page carries ([`success_text`], [`failure_text`]).
    #[cfg(feature = "ssr")]
    fn write<O: Serialize + 'static>(&self) -> String {
        match self.0.answer.downcast_ref::<Result<O, AppError>>() {
            Some(Ok(value)) => {
                let mut text = vec![SUCCEEDED as u8];
                match serde_json::to_writer(&mut text, value) {
                    Ok(()) => success_text(text),
                    Err(e) => failure_text(&client::undecodable(e.to_string())),
                }
            }
            Some(Err(e)) => failure_text(e),
            None => failure_text(&client::undecodable(client::ANOTHER_TYPE.into())),
        }
    }

    /// Reads the answer as `O`: on the server, the value itself.
    #[cfg(feature = "ssr")]
    fn read<O: Clone + 'static>(&self) -> Result<O, AppError> {
        self.0
            .answer
            .downcast_ref::<Result<O, AppError>>()
            .cloned()
            .unwrap_or_else(|| Err(client::undecodable(client::ANOTHER_TYPE.into())))
    }

    /// A fetch that failed before it reached the function.
    #[cfg(feature = "ssr")]
    fn failure(error: AppError) -> Self {
        Self::new::<()>(Err(error))
    }

    /// The server never reads an answer back from a page.
    #[cfg(feature = "ssr")]
    fn answered(_answer: client::Answer) -> Self {
        Self::new::<()>(Err(client::undecodable("read back on the server".into())))
    }

    #[cfg(not(feature = "ssr"))]
    fn write(&self) -> String {
        match &self.0 {
            Ok(json) => {
                let mut text = Vec::with_capacity(json.len() + 1);
                text.push(SUCCEEDED as u8);
                text.extend_from_slice(json.as_bytes());
                success_text(text)
            }
            Err(e) => failure_text(e),
        }
    }

    /// Reads the answer as `O`: in the browser, from its JSON.
    #[cfg(not(feature = "ssr"))]
    fn read<O: DeserializeOwned>(&self) -> Result<O, AppError> {
        match &self.0 {
            Ok(json) => client::read(json),
            Err(e) => Err(e.clone()),
        }
    }

    #[cfg(not(feature = "ssr"))]
    fn failure(error: AppError) -> Self {
        Self(Err(error))
    }

    /// An answer as the browser receives it: text, or an error.
    #[cfg(not(feature = "ssr"))]
    fn answered(answer: client::Answer) -> Self {
        Self(answer.map(Arc::from))
    }
}

/// A success in the page: `text` is [`SUCCEEDED`] and the answer's JSON, whose quotes are
/// exchanged here.
fn success_text(mut text: Vec<u8>) -> String {
    swap_quotes(&mut text[1..]);
    // Two ASCII bytes exchanged: the text stays UTF-8.
    String::from_utf8(text).unwrap_or_default()
}

/// An error in the page: [`FAILED`] and the error's JSON (`ErrorJson`).
fn failure_text(error: &AppError) -> String {
    format!("{FAILED}{}", String::from_utf8_lossy(&error.ser()))
}

/// Reads what [`success_text`] or [`failure_text`] wrote.
fn from_page(text: &str) -> Result<client::Answer, AppError> {
    if let Some(json) = text.strip_prefix(SUCCEEDED) {
        let mut json = json.as_bytes().to_vec();
        swap_quotes(&mut json);
        Ok(Ok(
            String::from_utf8(json).map_err(|e| client::undecodable(e.to_string()))?
        ))
    } else if let Some(error) = text.strip_prefix(FAILED) {
        Ok(Err(AppError::de(error.to_owned().into())))
    } else {
        Err(client::undecodable("not a server function's answer".into()))
    }
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetched")
    }
}

/// How a [`Fetched`] travels in the page (see the module's documentation).
pub struct FetchedText;

impl Encoder<Fetched> for FetchedText {
    type Error = std::convert::Infallible;
    type Encoded = String;

    fn encode(val: &Fetched) -> Result<String, Self::Error> {
        #[cfg(feature = "ssr")]
        return Ok((val.0.write)(val));
        #[cfg(not(feature = "ssr"))]
        Ok(val.write())
    }
}

impl Decoder<Fetched> for FetchedText {
    type Error = AppError;
    type Encoded = str;

    fn decode(val: &str) -> Result<Fetched, Self::Error> {
        from_page(val).map(Fetched::answered)
    }
}

/// A resource of the server function whose output is `O`, read as `O` where it is awaited
/// (or with [`get`](Self::get)).
pub struct ServerResource<O> {
    fetched: Resource<Fetched, FetchedText>,
    of: PhantomData<fn() -> O>,
}

impl<O> Clone for ServerResource<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for ServerResource<O> {}

impl<O: DeserializeOwned + Clone + 'static> ServerResource<O> {
    /// The answer, if it is there (tracked, like `Resource::get`).
    pub fn get(&self) -> Option<Result<O, AppError>> {
        self.fetched.with(|f| f.as_ref().map(Fetched::read))
    }
}

impl<O: DeserializeOwned + Clone + 'static> IntoFuture for ServerResource<O> {
    type Output = Result<O, AppError>;
    type IntoFuture = Reading<O>;

    fn into_future(self) -> Reading<O> {
        Reading {
            fetched: self.fetched.into_future(),
            of: PhantomData,
        }
    }
}

/// Awaiting a [`ServerResource`]: its answer, once there, read as `O`.
pub struct Reading<O> {
    fetched: <Resource<Fetched, FetchedText> as IntoFuture>::IntoFuture,
    of: PhantomData<fn() -> O>,
}

impl<O: DeserializeOwned + Clone + 'static> Future for Reading<O> {
    type Output = Result<O, AppError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.fetched)
            .poll(cx)
            .map(|fetched| fetched.read())
    }
}

/// A resource of the server function `F`, called with the arguments `args` makes of
/// `source`'s value (and again whenever it changes), handed to the browser in the page.
#[track_caller]
pub fn server_resource<S, F>(
    source: impl Fn() -> S + Send + Sync + 'static,
    args: impl Fn(S) -> F + Send + Sync + 'static,
) -> ServerResource<F::Output>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    F: ServerFn<Error = AppError> + Serialize + Send + 'static,
    F::Protocol: client::Posted,
    F::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let fetcher = move |key: Key| -> Fetching {
        match key.0.as_any().downcast_ref::<S>() {
            Some(s) => Box::pin(fetch(args(s.clone()))),
            None => Box::pin(std::future::ready(Fetched::failure(client::undecodable(
                "a key of another type".into(),
            )))),
        }
    };
    ServerResource {
        fetched: erased(Box::new(move || Key(Arc::new(source()))), Box::new(fetcher)),
        of: PhantomData,
    }
}

/// A source's value without its type, compared by its own `PartialEq` (a different type is
/// a different value).
#[derive(Clone)]
struct Key(Arc<dyn Keyed>);

trait Keyed: Send + Sync {
    fn as_any(&self) -> &dyn std::any::Any;
    fn same_as(&self, other: &dyn std::any::Any) -> bool;
}

impl<S: PartialEq + Send + Sync + 'static> Keyed for S {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn same_as(&self, other: &dyn std::any::Any) -> bool {
        other.downcast_ref::<S>() == Some(self)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_as(other.0.as_any())
    }
}

/// A fetch on its way, whatever the function.
type Fetching = Pin<Box<dyn Future<Output = Fetched> + Send>>;

/// Every resource, made by this one function with one source type and one fetcher type: the
/// reactive system's async machinery is compiled once, not once per place a resource is
/// made (each place's closures are types of their own).
#[track_caller]
fn erased(
    source: Box<dyn Fn() -> Key + Send + Sync>,
    fetcher: Box<dyn Fn(Key) -> Fetching + Send + Sync>,
) -> Resource<Fetched, FetchedText> {
    Resource::new_with_options(source, fetcher, false)
}

/// On the server: the function's body.
#[cfg(feature = "ssr")]
async fn fetch<F>(args: F) -> Fetched
where
    F: ServerFn<Error = AppError> + Send + 'static,
    F::Output: Serialize + Send + Sync + 'static,
{
    Fetched::new(args.run_body().await)
}

/// In the browser: a request to the function's address, whose answer is kept as text.
#[cfg(not(feature = "ssr"))]
fn fetch<F>(args: F) -> impl Future<Output = Fetched> + Send + 'static
where
    F: ServerFn<Error = AppError> + Serialize + 'static,
    F::Protocol: client::Posted,
{
    send_wrapper::SendWrapper::new(async move { Fetched::answered(client::post(&args).await) })
}

#[cfg(test)]
mod tests {
    use model::Page;

    use super::*;

    fn through_the_page<O>(answer: Result<O, AppError>) -> Result<client::Answer, AppError>
    where
        O: Serialize + Send + Sync + 'static,
    {
        let text = FetchedText::encode(&Fetched::new(answer)).expect("encodes");
        from_page(&text)
    }

    /// What the browser reads from the page is what the server function answered.
    #[test]
    fn an_answer_comes_back_from_the_page_as_the_function_wrote_it() {
        let page = Page {
            items: vec![
                "A knight's \"copper\" helmet".to_owned(),
                "</script><script>alert('x')</script>".into(),
                "café, 東京, 🦊, back\\slash \\' and \\\"".into(),
            ],
            next_cursor: Some("c_'1'".into()),
        };
        let json = through_the_page(Ok(page.clone()))
            .expect("decodes")
            .expect("a success");
        assert_eq!(json, serde_json::to_string(&page).expect("encodes"));
        assert_eq!(client::read::<Page<String>>(&json), Ok(page));
    }

    /// In the page's literal, only the data's apostrophes need an escape.
    #[test]
    fn the_page_carries_the_json_with_its_quotes_exchanged() {
        let text = FetchedText::encode(&Fetched::new(Ok(vec!["Ada's", "x"]))).expect("encodes");
        assert_eq!(text, "o['Ada\"s','x']");
    }

    #[test]
    fn an_error_comes_back_from_the_page_as_the_same_error() {
        for error in [
            AppError::NotFound,
            AppError::Validation {
                field: Some("name".into()),
                message: "It's \"too\" long </script>".into(),
            },
        ] {
            let back = through_the_page::<u32>(Err(error.clone())).expect("decodes");
            assert_eq!(back, Err(error));
        }
    }

    #[test]
    fn the_server_reads_the_answer_itself() {
        let fetched = Fetched::new(Ok(vec![1u32, 2]));
        assert_eq!(fetched.read::<Vec<u32>>(), Ok(vec![1, 2]));
        // Read as anything else, it is an error, not a wrong value.
        assert!(fetched.read::<String>().is_err());
    }

    #[test]
    fn a_source_is_the_same_only_as_an_equal_value_of_its_own_type() {
        let one = Key(Arc::new((1u32, "a".to_owned())));
        assert!(one == Key(Arc::new((1u32, "a".to_owned()))));
        assert!(one != Key(Arc::new((2u32, "a".to_owned()))));
        assert!(one != Key(Arc::new((1u64, "a".to_owned()))));
        assert!(Key(Arc::new(())) == Key(Arc::new(())));
    }

    #[test]
    fn text_that_no_server_wrote_is_an_error() {
        for text in ["", "x{}", "{\"Ok\":1}"] {
            assert!(from_page(text).is_err(), "{text:?}");
        }
    }
}
