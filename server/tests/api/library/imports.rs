//! Imports from URLs: refused for private addresses (SSRF), stored when allowed, and
//! `avatar-studio import-urls` bringing external avatars into storage.

use super::stored_objects;
use crate::common;
use crate::common::{api::Api, png, TestServer};
use backend::db::Dialect;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::{net::SocketAddr, time::Duration};

/// A tiny HTTP server for imports: `/ok.png` is a picture, `/notes.png` is text,
/// `/hop` redirects to `/ok.png`.
async fn image_host() -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let picture = png(48, 32);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let picture = picture.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (head, body): (String, Vec<u8>) = match path.as_str() {
                    "/ok.png" => ("200 OK\r\ncontent-type: image/png".to_owned(), picture),
                    "/notes.png" => (
                        "200 OK\r\ncontent-type: image/png".to_owned(),
                        b"plain text".to_vec(),
                    ),
                    "/hop" => ("302 Found\r\nlocation: /ok.png".to_owned(), Vec::new()),
                    _ => ("404 Not Found".to_owned(), Vec::new()),
                };
                let response = format!(
                    "HTTP/1.1 {head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn imports_are_refused_for_private_addresses() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "ssrf").await;
    let host = image_host().await;
    let port = host.port();
    for url in [
        format!("http://127.0.0.1:{port}/ok.png"),
        format!("http://localhost:{port}/ok.png"),
        format!("http://[::1]:{port}/ok.png"),
        format!("http://0.0.0.0:{port}/ok.png"),
        "http://10.0.0.1/ok.png".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://2130706433:{port}/ok.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok.png"),
    ] {
        let started = std::time::Instant::now();
        let body = api
            .expect(
                Method::POST,
                "/api/v1/images/import",
                Some(json!({"url": url})),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(body["error"]["code"], "url_not_allowed", "{url}");
        assert_eq!(body["error"]["field"], "url");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "refused without trying to connect: {url}"
        );
    }
    let body = api
        .expect(
            Method::POST,
            "/api/v1/images/import",
            Some(json!({"url": "file:///etc/passwd"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(body["error"]["code"], "invalid_url");
    assert!(stored_objects(&server).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn imports_store_images_and_set_avatars_when_private_addresses_are_allowed() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("OUTBOUND_ALLOW_PRIVATE", "true")]).await;
    let api = Api::new_user(&server, "import").await;
    let host = image_host().await;

    let image = api
        .expect(
            Method::POST,
            "/api/v1/images/import",
            Some(json!({"url": format!("http://{host}/hop")})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(image["kind"], "imported");
    assert_eq!(image["source_url"], format!("http://{host}/hop"));
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(48), Some(32))
    );
    assert_eq!(image["title"], "ok");

    let body = api
        .expect(
            Method::POST,
            "/api/v1/images/import",
            Some(json!({"url": format!("http://{host}/notes.png")})),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
    assert_eq!(body["error"]["code"], "unsupported_image");
    let body = api
        .expect(
            Method::POST,
            "/api/v1/images/import",
            Some(json!({"url": format!("http://{host}/missing.png")})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("404"),
        "{body}"
    );

    let character = api
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Bo"})),
            StatusCode::CREATED,
        )
        .await;
    let c = character["id"].as_str().unwrap();
    let avatar = api
        .expect(
            Method::POST,
            &format!("/api/v1/characters/{c}/avatar/import"),
            Some(json!({"url": format!("http://{host}/ok.png")})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(avatar["character_id"], c);
    let character = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{c}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(character["avatar_image_id"], avatar["id"]);
    server.stop().await;
}

/// `avatar-studio import-urls`, through the real binary: every avatar that still points
/// outside our storage is imported and reported; a failure is reported, leaves that
/// character alone and makes the exit status non-zero.
#[tokio::test]
async fn import_urls_brings_external_avatars_into_storage() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("OUTBOUND_ALLOW_PRIVATE", "true")]).await;
    let api = Api::new_user(&server, "operator").await;
    let host = image_host().await;
    let mut ids = Vec::new();
    for name in ["Good", "Broken"] {
        let c = api
            .expect(
                Method::POST,
                "/api/v1/characters",
                Some(json!({"name": name})),
                StatusCode::CREATED,
            )
            .await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let user: Value = api
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let user_id = user["id"].as_str().unwrap();
    let good_url = format!("http://{host}/ok.png");
    let broken_url = format!("http://{host}/missing.png");
    for (id, url) in ids.iter().zip([&good_url, &broken_url]) {
        assert!(
            backend::db::characters::set_external_avatar(server.db(), user_id, id, url)
                .await
                .unwrap()
        );
    }
    let before = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{}", ids[0]),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        before["avatar_url"],
        good_url.as_str(),
        "an external avatar is shown as its address"
    );

    let run = || {
        let mut cmd = common::binary();
        cmd.arg("import-urls")
            .env("DATA_DIR", server.data_dir.path())
            .env("DATABASE_URL", server.config.database_url.expose())
            .env("OUTBOUND_ALLOW_PRIVATE", "true")
            .env("LOG_FORMAT", "json");
        // On a blocking thread: the image host runs on this test's runtime.
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let output = run().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "one import failed: {stdout}");
    assert!(
        stdout.contains(&format!(
            "imported  character {}: {good_url} -> image ",
            ids[0]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "failed    character {}: {broken_url}: The server answered 404",
            ids[1]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 avatar(s) imported, 1 failed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 avatar(s) could not be imported"),
        "{stderr}"
    );

    let good = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{}", ids[0]),
            None,
            StatusCode::OK,
        )
        .await;
    let image_id = good["avatar_image_id"].as_str().unwrap();
    assert_eq!(good["avatar_url"], format!("/media/{image_id}"));
    let image = api
        .expect(
            Method::GET,
            &format!("/api/v1/images/{image_id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(image["kind"], "imported");
    assert_eq!(image["source_url"], good_url.as_str());
    assert_eq!(image["character_id"], ids[0].as_str());
    let broken = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{}", ids[1]),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(broken["avatar_url"], broken_url.as_str(), "left as it was");

    // Run again: nothing left but the broken one.
    let again = run().await.unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 avatar(s) imported, 1 failed"));
    server.stop().await;
}

/// The character page (issue 19 §5): an avatar still at an outside address is shown as
/// that address with "Store it here"; the page's import form stores an image for the
/// character, as its avatar or as one more of its images (posted as the browser does).
#[tokio::test]
async fn the_character_page_shows_an_external_avatar_and_imports_from_a_url() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("OUTBOUND_ALLOW_PRIVATE", "true")]).await;
    let cookie = server.sign_up("importer@example.com").await;
    let api = Api::for_session(&server.base, &server.client, &cookie).await;
    let host = image_host().await;
    let ada = api
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Ada"})),
            StatusCode::CREATED,
        )
        .await;
    let id = ada["id"].as_str().unwrap();
    let me = api
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let outside = format!("http://{host}/ok.png");
    backend::db::characters::set_external_avatar(
        server.db(),
        me["id"].as_str().unwrap(),
        id,
        &outside,
    )
    .await
    .unwrap();

    let page = |path: String| {
        let (client, cookie) = (&server.client, &cookie);
        let url = server.url(&path);
        async move {
            let resp = client
                .get(url)
                .header(reqwest::header::COOKIE, cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.text().await.unwrap()
        }
    };
    let html = page(format!("/characters/{id}")).await;
    assert!(html.contains("The avatar is still at"), "{html}");
    assert!(
        html.contains(&format!("href=\"{outside}\"")),
        "the address, as a link"
    );
    assert!(html.contains("Store it here"));

    let post = |fields: Vec<(&'static str, String)>| {
        let (client, cookie) = (&server.client, &cookie);
        let url = server.url("/api/import_for_character");
        let origin = server.base.clone();
        async move {
            client
                .post(url)
                .header(reqwest::header::ORIGIN, origin)
                .header(reqwest::header::COOKIE, cookie)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    // "Store it here": the outside avatar becomes a stored one.
    let stored = post(vec![
        ("id", id.to_owned()),
        ("url", outside.clone()),
        ("as_avatar", "on".to_owned()),
    ])
    .await;
    assert_eq!(
        stored.status(),
        StatusCode::OK,
        "{}",
        stored.text().await.unwrap()
    );
    let now = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{id}"),
            None,
            StatusCode::OK,
        )
        .await;
    let avatar = now["avatar_image_id"]
        .as_str()
        .expect("a stored avatar")
        .to_owned();
    assert_eq!(now["avatar_url"], format!("/media/{avatar}"));
    let html = page(format!("/characters/{id}")).await;
    assert!(!html.contains("The avatar is still at"));

    // One more image of hers, not the avatar.
    let more = post(vec![
        ("id", id.to_owned()),
        ("url", format!("http://{host}/hop")),
    ])
    .await;
    assert_eq!(more.status(), StatusCode::OK);
    let images = api
        .expect(
            Method::GET,
            &format!("/api/v1/images?character_id={id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(images["items"].as_array().unwrap().len(), 2);
    let now = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(now["avatar_image_id"], avatar.as_str(), "the avatar stays");
    // Refused addresses say why, on the field.
    let refused = post(vec![
        ("id", id.to_owned()),
        ("url", format!("http://{host}/notes.png")),
    ])
    .await;
    assert!(refused.status().is_client_error());
    server.stop().await;
}
