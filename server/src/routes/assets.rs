//! The application's files under `/pkg/` (the WebAssembly chunks, the script, the
//! stylesheet), and what their answers carry.
//!
//! A first visit fetches dozens of these files (a signed-in page 80–100 chunks), each
//! answered with its own headers over HTTP/1.1. Headers that only mean something on a
//! document — `X-Frame-Options`, `Referrer-Policy` — and the request id, which only helps
//! someone quoting a failed page or API call, are left off them: 126 of a chunk's 408 bytes
//! (issue 17); so is `Accept-Ranges` (22 more, see `mark`). `X-Content-Type-Options:
//! nosniff` stays (it is what keeps a script from being read as anything but its type), and
//! so does HSTS, which a browser honours on any answer.

use axum::http::{header, HeaderValue, Response};
use tower::ServiceBuilder;
use tower_http::{
    services::ServeDir,
    set_header::{MakeHeaderValue, SetResponseHeaderLayer},
};

/// Marks an answer as one of the application's files (a response extension, read by the
/// outer layers that add document-only headers).
#[derive(Clone, Copy, Debug)]
pub struct StaticAsset;

/// Whether `response` is one of the application's files.
pub fn is_asset<B>(response: &Response<B>) -> bool {
    response.extensions().get::<StaticAsset>().is_some()
}

/// The value of a header every answer carries except the application's files.
pub fn unless_asset<B>(value: HeaderValue) -> impl MakeHeaderValue<Response<B>> + Clone {
    move |response: &Response<B>| (!is_asset(response)).then(|| value.clone())
}

/// Serves the files in `dir`, precompressed (brotli or gzip by the request's
/// `Accept-Encoding`).
pub fn service(
    dir: &str,
) -> impl tower::Service<
    axum::extract::Request,
    Response = impl axum::response::IntoResponse,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + Sync
       + 'static {
    ServiceBuilder::new()
        .map_response(mark)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            // The file names are stable across builds: revalidate, answered by 304.
            HeaderValue::from_static("no-cache"),
        ))
        // The same address answers brotli, gzip or plain bytes by the request's
        // Accept-Encoding; ServeDir does not say so, and a shared cache (a CDN, nginx's
        // proxy_cache) would then hand one client's brotli to another that cannot read it.
        .layer(SetResponseHeaderLayer::overriding(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
        .service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
}

/// Marks the answer as an application file, and leaves off ServeDir's `Accept-Ranges:
/// bytes` (22 bytes on each of a first visit's 35–96 files): it only advertises resuming a
/// download, which nobody does with a chunk of a few KiB; a request with a `Range` is still
/// answered with its part.
fn mark<B>(mut response: Response<B>) -> Response<B> {
    response.extensions_mut().insert(StaticAsset);
    response.headers_mut().remove(header::ACCEPT_RANGES);
    response
}
