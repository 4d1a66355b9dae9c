//! How pages travel: rendered whole on the server and sent in one piece, with their length.

use crate::common::{api::Api, TestServer};
use backend::db::Dialect;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

/// Leptos streams a page in chunks (the shell, each part whose data arrived, the hydration
/// data); the server gathers them and sends the page whole (`routes::whole_pages`): one
/// write instead of several, and a length instead of chunked encoding. The page is all
/// there, its hydration data included.
#[tokio::test]
async fn pages_are_sent_whole_with_their_length() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let cookie = server.sign_up("whole@example.com").await;
    for (path, cookie) in [("/", None), ("/login", None), ("/gallery", Some(&cookie))] {
        let mut request = server.client.get(server.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let headers = res.headers().clone();
        assert!(
            headers.get("transfer-encoding").is_none(),
            "{path}: {headers:?}"
        );
        let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        let html = res.text().await.unwrap();
        assert_eq!(html.len(), length, "{path}");
        // The last of Leptos' chunks (the scripts come after `</html>`) is there too.
        assert!(html.contains("__RESOLVED_RESOURCES"), "{path}: {html}");
        assert!(
            html.ends_with("__INCOMPLETE_CHUNKS=[];</script>"),
            "{path}: {html}"
        );
    }
    server.stop().await;
}

/// The Studio is sent with the person's jobs in it, finished ones included, so that it
/// reads without JavaScript. A finished card offers "Move to…" and "Avatar of…", whose
/// lists the browser fetches; read as local resources inside the jobs' `<Transition>`,
/// they made Leptos send the whole list as its skeleton on the server (and the
/// `<Transition>`'s effect, left walking the cards, panicked once the page was done).
#[tokio::test]
async fn the_studio_is_sent_with_its_finished_jobs() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let cookie = server.sign_up("finished@example.com").await;
    let api = Api::for_session(&server.base, &server.client, &cookie).await;
    api.expect(
        Method::POST,
        "/api/v1/generations?wait=true",
        Some(json!({"prompt": "a finished fox", "provider": "builtin"})),
        StatusCode::OK,
    )
    .await;
    let html = server.page("/studio", &cookie).await;
    let jobs = &html[html.find("Your jobs").expect("the jobs' heading")..];
    assert!(jobs.contains(r#"aria-label="Jobs""#), "{jobs}");
    assert!(jobs.contains(r#"data-status="completed""#), "{jobs}");
    assert!(jobs.contains("Move to…"), "{jobs}");
    assert!(
        !jobs.starts_with(r#"Your jobs</h2><div role="status" aria-busy="true" class="skeleton""#),
        "{jobs}"
    );
    server.stop().await;
}

/// A page whose client leaves before it arrives (a reload, a click on another link, a
/// closed tab) is still rendered to its end (`routes::whole_pages`). When such a render was
/// dropped half-way, Leptos' reactive owner went with it while a `<Transition>`'s effect
/// was still reading the page's values on another worker thread, and that thread panicked
/// ("… has already been disposed"; seen in the browser tests' server, up to three times a
/// run). Here the pages with the most parts (the Studio's job cards, a character's avatar job,
/// the home dashboard, the gallery) are requested hundreds of times, each left after up to
/// 15 ms, with jobs running: the real binary prints no panic, and still serves the page to
/// a client who waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_left_before_they_arrive_panic_nothing() {
    use tokio::io::AsyncWriteExt as _;

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::common::binary();
    // The jobs stay running for the whole test, so the cards have something to follow.
    cmd.env("DATA_DIR", dir.path())
        .env("BUILTIN_DELAY_MS", "60000");
    let server = crate::common::RunningBinary::spawn(cmd);
    let addr = server.wait_listening();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let cookie = crate::common::sign_up(&base, &client, "leaver@example.com").await;
    let api = Api::for_session(&base, &client, &cookie).await;
    for _ in 0..3 {
        api.expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "a fox in a hat", "provider": "builtin", "n": 4})),
            StatusCode::ACCEPTED,
        )
        .await;
    }
    let character = api
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Ada"})),
            StatusCode::CREATED,
        )
        .await;
    let character = format!("/characters/{}", character["id"].as_str().unwrap());
    api.expect(
        Method::POST,
        &format!("/api/v1{character}/avatar"),
        Some(json!({"prompt": "Ada, smiling", "provider": "builtin"})),
        StatusCode::ACCEPTED,
    )
    .await;

    let paths = ["/studio", character.as_str(), "/", "/gallery"];
    for i in 0..400_u64 {
        let path = paths[usize::try_from(i).unwrap() % paths.len()];
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\ncookie: {cookie}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        // Spread over 0-15 ms: some leave before the render starts, some during, some after.
        tokio::time::sleep(Duration::from_micros(i * 7_919 % 15_000)).await;
        drop(stream);
    }

    // A client who waits gets the Studio whole, with its jobs.
    let studio = client
        .get(format!("{base}/studio"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(studio.status(), StatusCode::OK);
    assert!(studio.text().await.unwrap().contains("a fox in a hat"));
    // The renders of the pages left behind end within their request's timeout; far sooner.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let panics: Vec<_> = server
        .stderr()
        .into_iter()
        .filter(|l| l.contains("panicked at"))
        .collect();
    assert!(panics.is_empty(), "the server panicked: {panics:#?}");
}
