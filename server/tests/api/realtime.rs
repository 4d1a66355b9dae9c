//! `GET /ws` from a script's side: the messages of API.md ("Realtime") for a real job, who
//! may connect, what another person sees (nothing), a client that stops reading while many
//! events are published, and events that cross from one server process to another.
//!
//! Over 500 lines because each of these behaviours is a test of its own.

use crate::common;
use std::time::Duration;

use crate::common::{api::Api, on_both, TestServer};
use backend::db::Dialect;
use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Credentials for the upgrade request.
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

fn ws_request(
    server: &TestServer,
    auth: &Auth<'_>,
    origin: Option<&str>,
) -> tungstenite::handshake::client::Request {
    let mut req = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .unwrap();
    let headers = req.headers_mut();
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => {
            headers.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        Auth::Cookie(c) => {
            headers.insert("cookie", HeaderValue::from_str(c).unwrap());
        }
    }
    if let Some(o) = origin {
        headers.insert("origin", HeaderValue::from_str(o).unwrap());
    }
    req
}

async fn connect(server: &TestServer, api: &Api) -> Socket {
    let token = api.token.as_deref().unwrap();
    let (socket, resp) =
        tokio_tungstenite::connect_async(ws_request(server, &Auth::Bearer(token), None))
            .await
            .expect("the upgrade is accepted");
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    socket
}

/// The status an upgrade is refused with.
async fn refused(server: &TestServer, auth: &Auth<'_>, origin: Option<&str>) -> (u16, Value) {
    match tokio_tungstenite::connect_async(ws_request(server, auth, origin)).await {
        Ok(_) => panic!("the upgrade should have been refused"),
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp
                .body()
                .as_deref()
                .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            (resp.status().as_u16(), body)
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// The next JSON text frame (pings are answered by the library), within `within`.
async fn next_json(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match msg.expect("a frame") {
            Message::Text(t) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Reads every JSON frame of `socket` into a channel, on a task of its own.
fn reader(mut socket: Socket) -> mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = socket.next().await {
            if let Message::Text(t) = msg {
                if tx
                    .send(serde_json::from_str::<Value>(t.as_str()).unwrap())
                    .is_err()
                {
                    break;
                }
            }
        }
    });
    rx
}

/// The first message on a new connection is `hello`.
async fn expect_hello(socket: &mut Socket) {
    assert_eq!(
        next_json(socket, Duration::from_secs(5)).await.unwrap()["type"],
        "hello"
    );
}

async fn sign_in_cookie(server: &TestServer, name: &str) -> String {
    let resp = server
        .client
        .post(server.url("/api/v1/auth/signup"))
        .header("origin", &server.base)
        .json(&json!({"email": format!("{name}@example.com"), "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    common::session_cookie(&resp)
}

#[tokio::test]
async fn a_builtin_job_is_seen_from_hello_to_completed_by_its_owner_only() {
    on_both(|dialect| async move {
        let server = TestServer::start_with(dialect, &[("BUILTIN_DELAY_MS", "300")]).await;
        let ada = Api::new_user(&server, "ada").await;
        let bob = Api::new_user(&server, "bob").await;
        let mut ada_ws = connect(&server, &ada).await;
        let mut bob_ws = connect(&server, &bob).await;
        for ws in [&mut ada_ws, &mut bob_ws] {
            let hello = next_json(ws, Duration::from_secs(5)).await.unwrap();
            assert_eq!(hello["type"], "hello", "{hello}");
            assert!(
                chrono::DateTime::parse_from_rfc3339(hello["server_time"].as_str().unwrap())
                    .is_ok(),
                "{hello}"
            );
        }

        let accepted = ada
            .expect(
                Method::POST,
                "/api/v1/generations",
                Some(json!({"prompt": "A lighthouse keeper with a red beard", "size": "256x256"})),
                StatusCode::ACCEPTED,
            )
            .await;
        let job_id = accepted["jobs"][0]["id"].as_str().unwrap().to_owned();
        let image_id = accepted["jobs"][0]["image_id"].as_str().unwrap().to_owned();

        let mut stages = Vec::new();
        let mut seqs = Vec::new();
        let mut created = false;
        let completed = loop {
            let msg = next_json(&mut ada_ws, Duration::from_secs(30))
                .await
                .expect("the job's events keep coming until it completes");
            match msg["type"].as_str().unwrap() {
                "image" if msg["image"]["id"] == image_id.as_str() => {
                    assert_eq!(msg["event"], "created", "{msg}");
                    assert_eq!(msg["image"]["status"], "pending", "{msg}");
                    created = true;
                }
                "job" => {
                    assert_eq!(msg["job_id"], job_id.as_str(), "{msg}");
                    assert_eq!(msg["image_id"], image_id.as_str(), "{msg}");
                    stages.push(msg["status"].as_str().unwrap().to_owned());
                    seqs.push(msg["seq"].as_i64().unwrap());
                    if msg["status"] == "completed" {
                        break msg;
                    }
                    assert!(
                        msg["image"].is_null(),
                        "only the completed event carries the image: {msg}"
                    );
                }
                other => panic!("unexpected message {other}: {msg}"),
            }
        };
        assert!(created, "the pending image was announced");
        assert_eq!(
            stages,
            ["pending", "generating", "uploading", "completed"],
            "{dialect:?}"
        );
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq grows: {seqs:?}");
        assert_eq!(completed["attempt"], 1);
        assert!(completed["error"].is_null());
        let image = &completed["image"];
        assert_eq!(image["id"], image_id.as_str());
        assert_eq!(image["status"], "completed");
        assert_eq!(
            (image["width"].as_u64(), image["height"].as_u64()),
            (Some(256), Some(256))
        );
        assert_eq!(image["url"], format!("/media/{image_id}"));
        // The event's seq is the job's own.
        let job = ada
            .expect(
                Method::GET,
                &format!("/api/v1/generations/{job_id}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(job["seq"], completed["seq"]);

        // Bob, connected all along, heard nothing of it.
        assert_eq!(
            next_json(&mut bob_ws, Duration::from_millis(500)).await,
            None
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn upgrades_without_credentials_or_from_a_foreign_origin_are_refused() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "ada").await;
    let token = api.token.as_deref().unwrap();
    let cookie = sign_in_cookie(&server, "cora").await;

    let (status, body) = refused(&server, &Auth::None, Some(&server.base)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = refused(&server, &Auth::Bearer("not-a-token"), None).await;
    assert_eq!(status, 401);

    // Cross-site WebSocket hijacking: a page elsewhere opening our socket with the cookie.
    let (status, body) = refused(
        &server,
        &Auth::Cookie(&cookie),
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "cross_site_request");
    // A browser always says where it comes from; a cookie without an Origin is refused.
    let (status, _) = refused(&server, &Auth::Cookie(&cookie), None).await;
    assert_eq!(status, 403);
    // A token does not make a foreign origin acceptable.
    let (status, _) = refused(&server, &Auth::Bearer(token), Some("https://evil.example")).await;
    assert_eq!(status, 403);

    // The site's own pages, and scripts with a token, are let in.
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_request(
        &server,
        &Auth::Cookie(&cookie),
        Some(&server.base),
    ))
    .await
    .unwrap();
    expect_hello(&mut socket).await;
    let mut scripted = connect(&server, &api).await;
    expect_hello(&mut scripted).await;

    // A plain GET is told what the endpoint is.
    let resp = api.request(Method::GET, "/ws").send().await.unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_a_websocket");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_gets_resync_and_slows_nobody() {
    const EVENTS: usize = 10_000;
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("BUILTIN_DELAY_MS", "0"), ("REALTIME_PING_SECONDS", "600")],
    )
    .await;
    let api = Api::new_user(&server, "ada").await;
    let me = api
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let user_id = me["id"].as_str().unwrap().to_owned();
    let uploaded = api.upload_one("face.png", common::png(32, 32)).await;
    let mut image: model::Image = serde_json::from_value(uploaded).unwrap();
    // Large events (an Image with a long prompt) fill any socket buffer quickly.
    image.prompt = Some("a very long prompt ".repeat(200));

    let mut stalled = connect(&server, &api).await;
    expect_hello(&mut stalled).await;
    let mut healthy = reader(connect(&server, &api).await);
    assert_eq!(healthy.recv().await.unwrap()["type"], "hello");

    // Published at the pace of the healthy client (never more than half the hub's buffer
    // ahead of it), while the stalled one reads nothing at all.
    let hub = server.backend.runtime.hub.clone();
    let mut received = Vec::with_capacity(EVENTS);
    let mut slowest_publish = Duration::ZERO;
    for i in 0..EVENTS {
        while i - received.len() >= backend::events::CAPACITY / 2 {
            let msg = tokio::time::timeout(Duration::from_secs(10), healthy.recv())
                .await
                .expect("the healthy client keeps receiving")
                .unwrap();
            received.push(msg);
        }
        image.title = Some(format!("event {i}"));
        let started = std::time::Instant::now();
        hub.image(&user_id, model::ImageEventKind::Updated, &image);
        slowest_publish = slowest_publish.max(started.elapsed());
    }
    while received.len() < EVENTS {
        let msg = tokio::time::timeout(Duration::from_secs(10), healthy.recv())
            .await
            .expect("the healthy client gets every event")
            .unwrap();
        received.push(msg);
    }
    for (i, msg) in received.iter().enumerate() {
        assert_eq!(msg["type"], "image");
        assert_eq!(
            msg["image"]["title"],
            format!("event {i}"),
            "in order, none lost"
        );
    }
    // Publishing never waited for the stalled connection (a generous bound: it is a
    // channel send, microseconds; a blocked publisher would take until the stall ends).
    assert!(
        slowest_publish < Duration::from_millis(500),
        "{slowest_publish:?}"
    );

    // The workers are not held up either: a job runs to the end meanwhile.
    let accepted = api
        .expect(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(json!({"prompt": "A quick sketch", "size": "256x256"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(accepted["jobs"][0]["status"], "completed");

    // The stalled client reads again: what its buffers held, then `resync` (not a closed
    // connection), then what happens next.
    image.title = Some("after the stall".to_owned());
    let mut seen = 0;
    let mut resynced = false;
    loop {
        let msg = next_json(&mut stalled, Duration::from_secs(10))
            .await
            .expect("the stalled client is still connected");
        if msg["type"] == "resync" {
            resynced = true;
            hub.image(&user_id, model::ImageEventKind::Updated, &image);
        } else if resynced && msg["type"] == "image" && msg["image"]["title"] == "after the stall" {
            break;
        } else {
            seen += 1;
        }
    }
    assert!(resynced);
    assert!(seen < EVENTS, "it could not have taken every event: {seen}");
    // Still a working connection.
    stalled
        .send(Message::Ping(Vec::new().into()))
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn events_cross_from_one_server_process_to_another() {
    if backend::testing::skip_postgres() {
        return;
    }
    let a = TestServer::start(Dialect::Postgres).await;
    let b = a.start_beside(&[]).await;
    let api = Api::new_user(&a, "ada").await;
    let mut on_a = connect(&a, &api).await;
    expect_hello(&mut on_a).await;

    // The upload is handled by the other process.
    let on_b = api.at(b.addr);
    let uploaded = on_b.upload_one("face.png", common::png(16, 16)).await;
    let created = next_json(&mut on_a, Duration::from_secs(10)).await.unwrap();
    assert_eq!(created["type"], "image");
    assert_eq!(created["event"], "created");
    assert_eq!(created["image"]["id"], uploaded["id"]);

    let id = uploaded["id"].as_str().unwrap();
    on_b.expect(
        Method::PATCH,
        &format!("/api/v1/images/{id}"),
        Some(json!({"favorite": true})),
        StatusCode::OK,
    )
    .await;
    let updated = next_json(&mut on_a, Duration::from_secs(10)).await.unwrap();
    assert_eq!(updated["event"], "updated");
    assert_eq!(updated["image"]["favorite"], true);
    // Each event arrives once: B does not hear its own relayed messages again, nor A.
    assert_eq!(next_json(&mut on_a, Duration::from_millis(500)).await, None);
    b.stop().await;
    a.stop().await;
}

/// Whether the server closes `socket` within `within` (a close frame, or the end).
async fn closed_within(socket: &mut Socket, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test]
async fn signing_out_or_revoking_the_token_closes_the_connection_at_once() {
    // The periodic check is an hour away: what closes the sockets is the ending itself.
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("REALTIME_RECHECK_SECONDS", "3600")]).await;
    let api = Api::new_user(&server, "ada").await;
    let mut scripted = connect(&server, &api).await;
    expect_hello(&mut scripted).await;
    let cookie = sign_in_cookie(&server, "cora").await;
    let (mut browser, _) = tokio_tungstenite::connect_async(ws_request(
        &server,
        &Auth::Cookie(&cookie),
        Some(&server.base),
    ))
    .await
    .unwrap();
    expect_hello(&mut browser).await;
    // Both stay open while their credentials hold.
    assert!(!closed_within(&mut scripted, Duration::from_millis(500)).await);

    let tokens = api
        .expect(Method::GET, "/api/v1/tokens", None, StatusCode::OK)
        .await;
    let id = tokens["items"][0]["id"].as_str().unwrap();
    api.expect(
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(
        closed_within(&mut scripted, Duration::from_secs(1)).await,
        "a revoked token's socket closes"
    );
    assert!(
        !closed_within(&mut browser, Duration::from_millis(100)).await,
        "others stay"
    );

    // Cora signs in on a second browser and signs out everywhere else: the first
    // browser's socket closes, the second's stays.
    let resp = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .header("origin", &server.base)
        .json(&json!({"email": "cora@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let second = common::session_cookie(&resp);
    let (mut second_browser, _) = tokio_tungstenite::connect_async(ws_request(
        &server,
        &Auth::Cookie(&second),
        Some(&server.base),
    ))
    .await
    .unwrap();
    expect_hello(&mut second_browser).await;
    let resp = server
        .client
        .post(server.url("/api/v1/sessions/revoke-others"))
        .header("origin", &server.base)
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert!(
        closed_within(&mut browser, Duration::from_secs(1)).await,
        "a session ended from elsewhere closes its socket"
    );
    assert!(
        !closed_within(&mut second_browser, Duration::from_millis(300)).await,
        "the session that asked stays"
    );

    let resp = server
        .client
        .post(server.url("/api/v1/auth/logout"))
        .header("origin", &server.base)
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(
        closed_within(&mut second_browser, Duration::from_secs(1)).await,
        "a signed-out session's socket closes"
    );
    server.stop().await;
}

#[tokio::test]
async fn disabling_an_account_from_the_command_line_closes_its_connections_at_once() {
    // With PostgreSQL the operator command tells every server process; the periodic
    // check is an hour away.
    if backend::testing::skip_postgres() {
        return;
    }
    let a =
        TestServer::start_with(Dialect::Postgres, &[("REALTIME_RECHECK_SECONDS", "3600")]).await;
    let b = a
        .start_beside(&[("REALTIME_RECHECK_SECONDS", "3600")])
        .await;
    let ada = Api::new_user(&a, "ada").await;
    let bob = Api::new_user(&a, "bob").await;
    let mut sockets = Vec::new();
    for (server, api) in [(&a, &ada), (&b, &ada.at(b.addr)), (&a, &bob)] {
        let mut socket = connect(server, api).await;
        expect_hello(&mut socket).await;
        sockets.push(socket);
    }

    let mut cmd = common::binary();
    cmd.args(["user", "disable", "ada@example.com"])
        .env("DATA_DIR", a.data_dir.path())
        .env("DATABASE_URL", a.config.database_url.expose());
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let [on_a, on_b, bobs] = &mut sockets[..] else {
        unreachable!()
    };
    assert!(
        closed_within(on_a, Duration::from_secs(2)).await,
        "the socket on the first process closes"
    );
    assert!(
        closed_within(on_b, Duration::from_secs(2)).await,
        "and the one on the second"
    );
    assert!(
        !closed_within(bobs, Duration::from_millis(300)).await,
        "another account's stays"
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn the_connection_limit_holds_when_many_upgrades_arrive_at_once() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("REALTIME_MAX_CONNECTIONS_PER_USER", "3")],
    )
    .await;
    let api = Api::new_user(&server, "ann").await;
    let token = api.token.clone().unwrap();
    // Thirty upgrades at the same moment, each on its own task.
    let attempts: Vec<_> = (0..30)
        .map(|_| {
            let request = ws_request(&server, &Auth::Bearer(&token), None);
            tokio::spawn(async move { tokio_tungstenite::connect_async(request).await })
        })
        .collect();
    let mut open = Vec::new();
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok((socket, _)) => open.push(socket),
            Err(tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
                refused += 1;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(
        open.len(),
        3,
        "exactly the limit is open ({refused} refused)"
    );
    // Closing one lets one more in (once the server has seen it go).
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let request = ws_request(&server, &Auth::Bearer(&token), None);
        if let Ok((socket, _)) = tokio_tungstenite::connect_async(request).await {
            again = Some(socket);
            break;
        }
    }
    assert!(again.is_some(), "a freed place is taken again");
    server.stop().await;
}
