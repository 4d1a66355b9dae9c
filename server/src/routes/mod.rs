//! The HTTP surface: operations endpoints, `/api/v1`, static assets and the Leptos app.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod chunk_links;
pub mod generations;
pub mod health;
pub mod identity;
pub mod library;
pub mod media;
pub mod realtime;
pub mod shares;
pub mod spend;
pub mod whole_pages;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderName, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::{error::ApiErrorResponse, session_store::DbSessionStore, state::AppState};

/// The session cookie's name; over https it carries the `__Host-` prefix, which browsers
/// only accept with `Secure`, `Path=/` and no `Domain`.
pub const SESSION_COOKIE: &str = "avatar_session";
pub const SESSION_COOKIE_SECURE: &str = "__Host-avatar_session";
/// Sessions end after this many days without a request.
pub const SESSION_DAYS: i64 = 30;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router.
// Long because it is the route table: every route and its layers, read in one place.
pub fn router(state: AppState) -> Router {
    let leptos_options = state.leptos_options.clone();
    let request_timeout = state.backend.config.request_timeout;
    // Behind TLS (PUBLIC_URL https), browsers are told to use nothing else for two years.
    let hsts = state
        .backend
        .config
        .is_https()
        .then(|| HeaderValue::from_static("max-age=63072000"));
    let routes = route_list();
    let pkg_dir = format!(
        "{}/{}",
        leptos_options.site_root, leptos_options.site_pkg_dir
    );

    let backend = state.backend.clone();
    let context = move || {
        provide_context(backend.clone());
        chunk_links::note_lazy_calls();
    };
    let chunk_links = chunk_links::ChunkLinks::load(&leptos_options).map(Arc::new);

    // Everything a person or a script reaches through an account: the API, the server
    // functions and the pages. Sessions and authentication apply here and nowhere else
    // (operations endpoints and static files never touch the session table).
    let sessions = session_layer(&state);

    // The pages: rendered to their end and sent whole (`whole_pages`).
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(middleware::from_fn_with_state(
            whole_pages::Pages {
                chunk_links,
                render_limit: request_timeout,
            },
            whole_pages::send_whole,
        ));

    let app_routes = Router::new()
        .nest("/api/v1", api::router())
        .route("/media/{id}", get(media::serve))
        .route("/ws", get(realtime::connect))
        .merge(identity::router())
        .merge(pages)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ))
        .layer(sessions);

    app_routes
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        // Public avatar links need no account: outside the sessions, like the health checks.
        .route("/avatars/{token}", get(media::public_avatar))
        .nest_service(
            &format!("/{}", leptos_options.site_pkg_dir),
            assets::service(&pkg_dir),
        )
        .layer(middleware::from_fn(record_metrics))
        .layer(
            ServiceBuilder::new()
                // A client's own request id is kept only when it is short and plain;
                // otherwise the server makes one (it ends up in every log line).
                .layer(middleware::from_fn(drop_odd_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<Body>| {
                            let request_id = request
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default();
                            tracing::info_span!(
                                "request",
                                request_id = %request_id,
                                method = %request.method(),
                                path = %request.uri().path(),
                                // Filled in by `client::resolve`, below.
                                client = tracing::field::Empty,
                            )
                        })
                        .on_request(())
                        .on_response(
                            |response: &axum::http::Response<_>,
                             latency: Duration,
                             _span: &tracing::Span| {
                                tracing::info!(
                                    status = response.status().as_u16(),
                                    latency_ms =
                                        u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                                    "answered"
                                );
                            },
                        ),
                )
                // The client's address and scheme (through TRUSTED_PROXIES), for everything
                // below and the log span above.
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    crate::client::resolve,
                ))
                .layer(middleware::from_fn(echo_request_id))
                .layer(CatchPanicLayer::custom(panic_response))
                // A request that takes longer than REQUEST_TIMEOUT_SECONDS is answered 503.
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    request_timeout,
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                // Document-only headers: not on the application's files (`assets`).
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    assets::unless_asset(HeaderValue::from_static("DENY")),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::STRICT_TRANSPORT_SECURITY,
                    hsts,
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    assets::unless_asset(HeaderValue::from_static(
                        "strict-origin-when-cross-origin",
                    )),
                ))
                .layer(CompressionLayer::new()),
        )
        .with_state(state)
}

/// The browser sessions (tower-sessions over the database): the cookie's name and flags
/// and the sliding expiry. Public for the SSR benchmark, whose hand-written page sits
/// behind the same session and authentication layers as the real ones.
pub fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let secure_cookie = state.backend.config.is_https();
    SessionManagerLayer::new(DbSessionStore::new(state.backend.db.clone()))
        .with_name(if secure_cookie {
            SESSION_COOKIE_SECURE
        } else {
            SESSION_COOKIE
        })
        .with_secure(secure_cookie)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(SESSION_DAYS)))
        // Sliding expiry: every authenticated response renews the cookie; the store
        // writes the row at most once a minute.
        .with_always_save(true)
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading suppressed through a process-wide flag in `leptos_server`; a page
/// rendered by another server in the same process at that moment (tests start many) would
/// wait forever (leptos issue #4773). The list is the same for every server, so it is
/// computed once, before any server can serve.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The label a request is counted under: fixed endpoints by name, everything else by the
/// area it belongs to, so that the number of series stays bounded whatever paths clients
/// send.
fn route_label(path: &str) -> &'static str {
    match path {
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        "/ws" => "/ws",
        p if p.starts_with("/api/v1/") => "/api/v1",
        p if p.starts_with("/api/") => "server_fn",
        p if p.starts_with("/pkg/") => "/pkg",
        p if p.starts_with("/media/") => "/media",
        p if p.starts_with("/avatars/") => "/avatars",
        _ => "page",
    }
}

/// Whether a client-supplied `X-Request-Id` may be used: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn acceptable_request_id(value: &[u8]) -> bool {
    (1..=64).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

async fn drop_odd_request_id(mut request: Request, next: Next) -> Response {
    let odd = request.headers().get_all(REQUEST_ID).iter().count() > 1
        || request
            .headers()
            .get(REQUEST_ID)
            .is_some_and(|v| !acceptable_request_id(v.as_bytes()));
    if odd {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// Answers with the request's id (the caller's, or the one made for it), so that a failed
/// call can be found in the logs — except the application's files, which are logged with
/// it but do not repeat it (`assets`).
async fn echo_request_id(request: Request, next: Next) -> Response {
    let id = request.headers().get(REQUEST_ID).cloned();
    let mut response = next.run(request).await;
    if let Some(id) = id.filter(|_| !assets::is_asset(&response)) {
        response.headers_mut().entry(REQUEST_ID).or_insert(id);
    }
    response
}

/// Counts requests and times them.
async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let route = route_label(request.uri().path());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route, "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiErrorResponse::internal(&"a request handler panicked").into_response()
}
