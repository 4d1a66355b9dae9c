//! A resource the browser reads for itself (not part of the server's render), one machinery
//! for every such resource (issue 17 §2).
//!
//! Leptos' `LocalResource<T>` is compiled once per value type and per fetcher (each place's
//! closure is a type of its own). Here every one is a `LocalResource<Decoded>` made by one
//! function, [`erased`], with one fetcher type (a boxed closure returning a boxed future).
//! The answer is decoded once, when it arrives, and kept without its type; reading it
//! ([`BrowserResource::get`], or awaiting it) clones the value out, as `LocalResource::get`
//! does.

use std::{
    any::Any,
    future::{Future, IntoFuture},
    marker::PhantomData,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use leptos::{prelude::*, server_fn::ServerFn};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    api::client::{self, Posted},
    AppError,
};

/// An answer, decoded, without its type.
type Decoded = Result<Rc<dyn Any>, AppError>;

/// A fetch on its way, whatever it fetches.
type Fetching = Pin<Box<dyn Future<Output = Decoded>>>;

/// A resource whose value is an `O`, fetched in the browser (never on the server, whose
/// render shows it as not there yet).
pub struct BrowserResource<O> {
    decoded: LocalResource<Decoded>,
    of: PhantomData<fn() -> O>,
}

impl<O> Clone for BrowserResource<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for BrowserResource<O> {}

impl<O: Clone + 'static> BrowserResource<O> {
    /// The value, if it is there (tracked, like `LocalResource::get`).
    pub fn get(&self) -> Option<Result<O, AppError>> {
        self.decoded.with(|d| d.as_ref().map(typed::<O>))
    }
}

/// The value kept as `O`; kept as anything else, it is an error, not a wrong value.
fn typed<O: Clone + 'static>(decoded: &Decoded) -> Result<O, AppError> {
    match decoded {
        Ok(value) => value
            .downcast_ref::<O>()
            .cloned()
            .ok_or_else(|| client::undecodable(client::ANOTHER_TYPE.into())),
        Err(e) => Err(e.clone()),
    }
}

impl<O: Clone + 'static> IntoFuture for BrowserResource<O> {
    type Output = Result<O, AppError>;
    type IntoFuture = Reading<O>;

    fn into_future(self) -> Reading<O> {
        Reading {
            decoded: self.decoded.into_future(),
            of: PhantomData,
        }
    }
}

/// Awaiting a [`BrowserResource`]: its value, once there.
pub struct Reading<O> {
    decoded: <LocalResource<Decoded> as IntoFuture>::IntoFuture,
    of: PhantomData<fn() -> O>,
}

impl<O: Clone + 'static> Future for Reading<O> {
    type Output = Result<O, AppError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.decoded)
            .poll(cx)
            .map(|decoded| typed::<O>(&decoded))
    }
}

/// A resource of the server function `F`, called with the arguments `args` returns (and
/// again whenever a signal `args` reads changes).
#[track_caller]
pub fn browser_resource<F>(args: impl Fn() -> F + 'static) -> BrowserResource<F::Output>
where
    F: ServerFn<Error = AppError> + Serialize + Send + 'static,
    F::Protocol: Posted,
    F::Output: DeserializeOwned + Clone + 'static,
{
    browser_resource_of(move || client::call(args()))
}

/// A resource of whatever `fetch`'s future gives, fetched again whenever a signal that
/// `fetch` itself reads (before it returns the future) changes.
#[track_caller]
pub fn browser_resource_of<O, Fut>(fetch: impl Fn() -> Fut + 'static) -> BrowserResource<O>
where
    O: 'static,
    Fut: Future<Output = Result<O, AppError>> + 'static,
{
    let fetcher = move || -> Fetching {
        let fetching = fetch();
        Box::pin(async move { fetching.await.map(|value| Rc::new(value) as Rc<dyn Any>) })
    };
    BrowserResource {
        decoded: erased(Box::new(fetcher)),
        of: PhantomData,
    }
}

/// Every browser resource, made by this one function with one fetcher type.
#[track_caller]
fn erased(fetcher: Box<dyn Fn() -> Fetching>) -> LocalResource<Decoded> {
    LocalResource::new(fetcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_read_as_its_own_type_only() {
        let kept: Decoded = Ok(Rc::new(vec![1u32, 2]));
        assert_eq!(typed::<Vec<u32>>(&kept), Ok(vec![1, 2]));
        assert!(typed::<Vec<u64>>(&kept).is_err());
        let failed: Decoded = Err(AppError::NotFound);
        assert_eq!(typed::<Vec<u32>>(&failed), Err(AppError::NotFound));
    }
}
