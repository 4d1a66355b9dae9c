//! Pages are sent in one piece.
//!
//! Leptos streams a page as it renders it: the shell, then each part whose data arrived,
//! then the hydration data, each a chunk of its own. Every page here reads its data from
//! the database in a millisecond or two, so nothing arrives sooner that way; what the
//! chunks do cost is a write to the socket each (a system call, and a wake-up of the
//! reader) and chunked encoding. A page's chunks are gathered here and sent together, with
//! the page's length, without being copied into one buffer: hyper writes them out in one
//! vectored write. (Pages stay far below [`PAGE_LIMIT`]; the gallery's 100 images are
//! 150 KiB.)

use std::{
    collections::VecDeque,
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes, HttpBody as _},
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt as _;
use http_body::{Frame, SizeHint};

/// The most a page may be.
const PAGE_LIMIT: usize = 16 * 1024 * 1024;

/// Gathers an HTML response streamed in chunks, to send it whole.
pub async fn send_whole(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !is_page || response.body().size_hint().exact().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    match Whole::gather(body).await {
        Ok(whole) => Response::from_parts(parts, Body::new(whole)),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered whole");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page's chunks as they were written, and how many bytes are left to send.
struct Whole {
    chunks: VecDeque<Bytes>,
    left: u64,
}

impl Whole {
    async fn gather(body: Body) -> anyhow::Result<Self> {
        let mut chunks = VecDeque::new();
        let mut length = 0;
        let mut data = body.into_data_stream();
        while let Some(chunk) = data.next().await {
            let chunk = chunk?;
            length += chunk.len();
            anyhow::ensure!(
                length <= PAGE_LIMIT,
                "a page longer than {PAGE_LIMIT} bytes"
            );
            if !chunk.is_empty() {
                chunks.push_back(chunk);
            }
        }
        Ok(Self {
            chunks,
            left: u64::try_from(length)?,
        })
    }
}

impl http_body::Body for Whole {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        Poll::Ready(this.chunks.pop_front().map(|chunk| {
            // Each chunk was counted in `left` when it was gathered.
            this.left -= chunk.len() as u64;
            Ok(Frame::data(chunk))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}
