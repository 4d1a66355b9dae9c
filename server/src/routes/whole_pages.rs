//! Pages are sent in one piece.
//!
//! Leptos streams a page as it renders it: the shell, then each part whose data arrived,
//! then the hydration data, each a chunk of its own. Every page here reads its data from
//! the database in a millisecond or two, so nothing arrives sooner that way; what the
//! chunks do cost is a write to the socket each (a system call, and a wake-up of the
//! reader) and chunked encoding. A page's chunks are gathered here and sent together, with
//! the page's length, without being copied into one buffer: hyper writes them out in one
//! vectored write. (Pages stay far below [`PAGE_LIMIT`]; the gallery's 100 images are
//! 150 KiB.) A split build's page also gets, in its head, the links of the chunks its
//! render needed ([`super::chunk_links`]).
//!
//! A page is also rendered to its end in a task of its own, even when its client leaves
//! before it arrives (a reload, a click on another link, a closed tab). Leptos renders a
//! page under one reactive owner, and a `<Suspense>`/`<Transition>` checks its children
//! again from an effect, which runs on another worker thread. When the client left and the
//! request's future was dropped, the owner was dropped with it and disposed the values that
//! effect was still reading: the worker panicked ("you tried to access a reactive value
//! which … has already been disposed", from the Studio's job cards, `show_when` and
//! `NoticeLine`, up to three times in a run of the browser tests; leptos issue 4829 reports
//! the same from its prefetch list). Rendered to its end, a page's owner is cleaned up by
//! Leptos itself, after its last chunk, as for every page a client waits for. A render is
//! short (milliseconds) and bounded by the request timeout, so a page nobody waits for
//! costs what a page somebody waits for costs, and no more (the spawn adds no
//! instructions per request that `scripts/bench-ssr.sh --instructions` can see). The server
//! functions, which Leptos registers with the pages, go the same way: a call whose client
//! left is finished rather than cut off; their answers are not pages and pass unchanged.

use std::{
    collections::VecDeque,
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes, HttpBody as _},
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt as _;
use http_body::{Frame, SizeHint};
use leptos::PrefetchLazyFn;
use tracing::Instrument as _;

use super::chunk_links::ChunkLinks;

/// The most a page may be.
const PAGE_LIMIT: usize = 16 * 1024 * 1024;

/// What the pages' layer needs.
#[derive(Clone)]
pub struct Pages {
    /// The chunks of WebAssembly of each lazily loaded function, when the build is split.
    pub chunk_links: Option<Arc<ChunkLinks>>,
    /// The longest a page may take to render (the request timeout): a render whose client
    /// left is not waited for by anyone, and is stopped after this.
    pub render_limit: Duration,
}

/// Renders a page to its end in a task of its own (see the module's documentation) and
/// sends it whole.
pub async fn send_whole(State(pages): State<Pages>, request: Request, next: Next) -> Response {
    let render = tokio::time::timeout(
        pages.render_limit,
        render_whole(pages.chunk_links, request, next),
    );
    match tokio::spawn(render.instrument(tracing::Span::current())).await {
        Ok(Ok(response)) => response,
        Ok(Err(_)) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        // A panicking render panics here as it did in place, for the panic layer above.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => {
            tracing::error!(error = %e, "a page's render was stopped");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Gathers an HTML response streamed in chunks, to send it whole, with the links of the
/// chunks of WebAssembly its render needed when the build is split.
async fn render_whole(
    chunk_links: Option<Arc<ChunkLinks>>,
    mut request: Request,
    next: Next,
) -> Response {
    // The render notes here the lazily loaded functions it calls (`note_lazy_calls`).
    let called = chunk_links.is_some().then(|| {
        let called = PrefetchLazyFn::default();
        request.extensions_mut().insert(called.clone());
        called
    });
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
        Ok(mut whole) => {
            let links = chunk_links.zip(called);
            if let Some(links) = links.and_then(|(links, called)| links.links_of(&called)) {
                whole.end_head_with(links);
            }
            Response::from_parts(parts, Body::new(whole))
        }
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

    /// Inserts `html` at the end of the page's head (before `</head>`, which is in the
    /// first chunk that holds the shell), without copying the page: the chunk is cut in two
    /// around it. A page without a head is left as it is.
    fn end_head_with(&mut self, html: Bytes) {
        let found = self
            .chunks
            .iter()
            .enumerate()
            .find_map(|(i, chunk)| memchr::memmem::find(chunk, HEAD_END).map(|at| (i, at)));
        let Some((i, at)) = found else {
            return;
        };
        let chunk = self.chunks.remove(i).unwrap_or_default();
        self.left += html.len() as u64;
        self.chunks.insert(i, chunk.slice(at..));
        self.chunks.insert(i, html);
        self.chunks.insert(i, chunk.slice(..at));
    }
}

const HEAD_END: &[u8] = b"</head>";

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

#[cfg(test)]
mod tests {
    use super::*;

    async fn whole(chunks: &[&'static str]) -> Whole {
        let chunks: Vec<_> = chunks
            .iter()
            .map(|c| Ok::<_, Infallible>(Bytes::from_static(c.as_bytes())))
            .collect();
        let stream = futures::stream::iter(chunks);
        Whole::gather(Body::from_stream(stream)).await.unwrap()
    }

    async fn sent(whole: Whole) -> String {
        let length = whole.size_hint().exact().unwrap();
        let bytes = axum::body::to_bytes(Body::new(whole), usize::MAX)
            .await
            .unwrap();
        assert_eq!(bytes.len() as u64, length, "the length sent is the page's");
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn links_go_at_the_end_of_the_head_wherever_the_chunks_were_cut() {
        let mut page = whole(&[
            "<html><head><title>T",
            "</title></head><body>",
            "x</body></html>",
        ])
        .await;
        page.end_head_with(Bytes::from_static(b"<link a><link b>"));
        assert_eq!(
            sent(page).await,
            "<html><head><title>T</title><link a><link b></head><body>x</body></html>"
        );
    }

    #[tokio::test]
    async fn a_page_without_a_head_is_sent_as_it_was() {
        let mut page = whole(&["<p>no head</p>"]).await;
        page.end_head_with(Bytes::from_static(b"<link a>"));
        assert_eq!(sent(page).await, "<p>no head</p>");
    }
}
