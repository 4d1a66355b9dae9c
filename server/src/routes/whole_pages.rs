//! Pages are sent in one piece.
//!
//! Leptos streams a page as it renders it: the shell, then each part whose data arrived,
//! then the hydration data, each a chunk of its own. Every page here reads its data from
//! the database in a millisecond or two, so nothing arrives sooner that way; what the
//! chunks do cost is a write to the socket each (a system call, and a wake-up of the
//! reader) and chunked encoding. A page's body is gathered here and sent whole, with its
//! length. (Pages stay far below [`PAGE_LIMIT`]; the gallery's 100 images are 150 KiB.)

use axum::body::HttpBody as _;
use axum::{
    body::Body,
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The most a page may be.
const PAGE_LIMIT: usize = 16 * 1024 * 1024;

/// Gathers an HTML response streamed in chunks into one body.
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
    match axum::body::to_bytes(body, PAGE_LIMIT).await {
        Ok(bytes) => Response::from_parts(parts, Body::from(bytes)),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered whole");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
