//! Server rendering builds a `Suspend`'s view once, not twice.
//!
//! On the server, a `<Suspense>` or `<Transition>` walks its children once more when its
//! resources have loaded (Leptos' "dry resolve", to find resources read only once the
//! first ones are there). A `{move || Suspend::new(async move { … })}` is then called, and
//! when its future is ready at once its whole view is built — and thrown away, since the
//! render that follows calls the closure again and builds the view anew. For the gallery's
//! hundred tiles that second build was about a fifth of the server's time
//! (`scripts/bench-ssr.sh` under perf, issue 17 §5).
//!
//! [`read`] awaits the data and then one poll more on the server (`past_dry_resolve`):
//! the dry walk finds the `Suspend` pending and leaves it, and the render awaits it and
//! builds the view once. Only for a view that reads no
//! further resource outside a `<Suspense>` of its own (the walk no longer sees inside it).
//! In the browser it is ready at once: hydration needs a `Suspend` whose data are there to
//! be ready on its first poll.

/// Reads a `Suspend`'s data (a resource, any future) so that its view is built once:
/// `match suspend::read(list).await { … }`.
pub async fn read<F: std::future::IntoFuture>(data: F) -> F::Output {
    let data = data.await;
    past_dry_resolve().await;
    data
}

/// Ready on the second poll on the server (waking itself), at once in the browser.
async fn past_dry_resolve() {
    #[cfg(feature = "ssr")]
    {
        let mut polled = false;
        std::future::poll_fn(|cx| {
            if polled {
                std::task::Poll::Ready(())
            } else {
                polled = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn pending_once_then_ready() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut fut = pin!(super::past_dry_resolve());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(()));
    }
}
