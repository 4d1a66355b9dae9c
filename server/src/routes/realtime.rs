//! `GET /ws`: the realtime channel (API.md, "Realtime"). The signed-in person (session
//! cookie, or a bearer token for scripts) gets `hello`, then every event of their own from
//! the events hub, as text frames of JSON serialised once by the hub.
//!
//! - A foreign `Origin` is refused (cross-site WebSocket hijacking): a browser always sends
//!   one, so a cookie-authenticated upgrade without it is refused too.
//! - Small buffers: an idle connection holds a few kilobytes (`scripts/bench-ws.sh`).
//! - A client that falls behind the hub's buffer gets `{"type": "resync"}` and then the
//!   events from that point on; it is never cut off for being slow, and it never slows
//!   anyone else (publishing does not wait for any connection).
//! - Pings find dead peers: one that answers nothing for two ping intervals, or does not
//!   take a message for as long, is dropped.
//! - The credential is checked again every `REALTIME_RECHECK_SECONDS`: a session that
//!   signed out, a revoked token or a deleted account closes the connection (1008).

use std::time::Duration;

use axum::{
    extract::{
        ws::{
            close_code, rejection::WebSocketUpgradeRejection, CloseFrame, Message, Utf8Bytes,
            WebSocket, WebSocketUpgrade,
        },
        State,
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use backend::{
    events::Frame,
    services::auth::{self, Credential, Principal},
    Db,
};
use bytes::Bytes;
use model::ServerMessage;
use tokio::{sync::broadcast::error::RecvError, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{auth::Authenticated, error::ApiErrorResponse, state::AppState};

/// What the client sends is never more than a pong or a close; a little room suffices.
const READ_BUFFER: usize = 1024;
const MAX_INCOMING: usize = 16 * 1024;
/// One message is at most an `Image` with its prompts, far below this; more pending
/// output than this means the peer is not reading and the hub's buffer takes over.
const MAX_PENDING_OUTPUT: usize = 1024 * 1024;

const RESYNC: &str = r#"{"type":"resync"}"#;

pub async fn connect(
    State(state): State<AppState>,
    principal: Option<Authenticated>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(Authenticated(principal)) = principal else {
        return ApiErrorResponse::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in, or send a personal access token as Authorization: Bearer <token>.",
        )
        .into_response();
    };
    let backend = &state.backend;
    // Scripts with a token may omit Origin (browsers cannot send a bearer token with a
    // WebSocket); a browser's cookie always comes with one, and it must be ours.
    let by_cookie = matches!(principal.credential, Credential::Session { .. });
    let claims_origin = headers.contains_key(axum::http::header::ORIGIN);
    if by_cookie || claims_origin {
        if let Err(why) = crate::auth::check_origin(&headers, &backend.config.public_url, true) {
            tracing::warn!(reason = why, "refused a cross-site WebSocket");
            return ApiErrorResponse::new(
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "This WebSocket did not come from this site's own pages, so it was refused.",
            )
            .into_response();
        }
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => {
            return ApiErrorResponse::new(
                e.status(),
                "not_a_websocket",
                format!("GET /ws takes a WebSocket upgrade: {}", e.body_text()),
            )
            .into_response()
        }
    };
    let user_id = principal.user_id().to_owned();
    let settings = &backend.config.realtime;
    // Subscribed before the upgrade answers: nothing published from here on is missed.
    let Some(events) = backend
        .runtime
        .hub
        .subscribe_within(&user_id, settings.max_per_user)
    else {
        return ApiErrorResponse::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            format!(
                "You have {} live connections open already; close a tab or two.",
                settings.max_per_user
            ),
        )
        .into_response();
    };
    let connection = Connection {
        db: backend.db.clone(),
        principal,
        shutdown: state.shutdown.clone(),
        ping: settings.ping_interval,
        recheck: settings.recheck_interval,
    };
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_PENDING_OUTPUT)
        .max_message_size(MAX_INCOMING)
        .max_frame_size(MAX_INCOMING)
        .on_upgrade(move |socket| serve(socket, events, connection))
}

/// Who a connection serves, and what ends it. Kept small (no `Backend`, which is over a
/// kilobyte): every idle connection holds one.
struct Connection {
    db: Db,
    principal: Principal,
    shutdown: CancellationToken,
    ping: Duration,
    recheck: Duration,
}

/// One connection, until the peer leaves, stops answering, its credential ends, or the
/// server shuts down.
async fn serve(
    mut socket: WebSocket,
    mut events: tokio::sync::broadcast::Receiver<Frame>,
    connection: Connection,
) {
    let _open = OpenConnection::new();
    let Connection {
        db,
        principal,
        shutdown,
        ping,
        recheck: recheck_every,
    } = connection;
    let patience = ping * 2;
    let hello = ServerMessage::Hello {
        server_time: chrono::Utc::now(),
    };
    let hello = serde_json::to_string(&hello).unwrap_or_default();
    if send(&mut socket, Message::Text(hello.into()), patience)
        .await
        .is_err()
    {
        return;
    }
    let mut pings = tokio::time::interval_at(Instant::now() + ping, ping);
    // Spread over the interval, so that many connections do not check at the same moment.
    let offset = Duration::from_millis(
        u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos()),
        ) % u64::try_from(recheck_every.as_millis()).unwrap_or(1).max(1),
    );
    let mut rechecks =
        tokio::time::interval_at(Instant::now() + recheck_every + offset, recheck_every);
    let mut last_heard = Instant::now();
    loop {
        let outgoing = tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                let close = CloseFrame {
                    code: close_code::AWAY,
                    reason: Utf8Bytes::from_static("the server is restarting"),
                };
                let _ = send(&mut socket, Message::Close(Some(close)), Duration::from_secs(1)).await;
                return;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                // Pongs, and anything else the client says: it is alive.
                Some(Ok(_)) => {
                    last_heard = Instant::now();
                    continue;
                }
            },
            event = events.recv() => match event {
                // A credential of this account just ended: check ours now, not at the tick.
                Ok(frame) if frame.as_ref() == backend::events::RECHECK => {
                    match check_credential(&db, &principal, &mut socket).await {
                        Flow::Continue => continue,
                        Flow::Close => return,
                    }
                }
                Ok(frame) => match Utf8Bytes::try_from(frame) {
                    Ok(text) => Message::Text(text),
                    Err(_) => continue,
                },
                Err(RecvError::Lagged(missed)) => {
                    // Start again from now: the client re-reads the state, then goes on.
                    events = events.resubscribe();
                    metrics::counter!("avatar_realtime_resyncs_total").increment(1);
                    tracing::debug!(missed, "a realtime client fell behind; asking it to resync");
                    Message::Text(Utf8Bytes::from_static(RESYNC))
                }
                Err(RecvError::Closed) => return,
            },
            _ = rechecks.tick() => match check_credential(&db, &principal, &mut socket).await {
                Flow::Continue => continue,
                Flow::Close => return,
            },
            _ = pings.tick() => {
                if last_heard.elapsed() > patience {
                    tracing::info!("a realtime client stopped answering; closing its connection");
                    return;
                }
                Message::Ping(Bytes::new())
            }
        };
        if send(&mut socket, outgoing, patience).await.is_err() {
            return;
        }
    }
}

enum Flow {
    Continue,
    Close,
}

/// Checks that the connection's session or token still holds; if not, closes the socket
/// with 1008. A database that does not answer keeps the connection (checked again later).
async fn check_credential(
    db: &backend::Db,
    principal: &auth::Principal,
    socket: &mut WebSocket,
) -> Flow {
    // Boxed: the database call's state would otherwise sit in every idle connection's
    // future.
    match Box::pin(auth::still_valid(db, principal)).await {
        Ok(true) => Flow::Continue,
        Ok(false) => {
            tracing::info!("a realtime client's session or token ended; closing its connection");
            let close = CloseFrame {
                code: close_code::POLICY,
                reason: Utf8Bytes::from_static("signed out"),
            };
            let _ = send(socket, Message::Close(Some(close)), Duration::from_secs(1)).await;
            Flow::Close
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot check a realtime client's credential");
            Flow::Continue
        }
    }
}

/// Sends one message, giving up on a peer that does not take it within `patience`.
async fn send(socket: &mut WebSocket, message: Message, patience: Duration) -> Result<(), ()> {
    match tokio::time::timeout(patience, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            tracing::info!("a realtime client took no data for too long; closing its connection");
            Err(())
        }
    }
}

/// Counts open connections in the `avatar_realtime_connections` gauge.
struct OpenConnection;

impl OpenConnection {
    fn new() -> Self {
        metrics::gauge!("avatar_realtime_connections").increment(1.0);
        Self
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("avatar_realtime_connections").decrement(1.0);
    }
}
