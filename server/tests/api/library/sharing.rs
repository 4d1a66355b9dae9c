//! Signed share links: open without signing in until they expire, are revoked or are
//! tampered with.

use crate::common::{api::Api, png, TestServer};
use backend::db::Dialect;
use reqwest::{header, Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn shared_links_open_without_sign_in_until_they_expire_or_are_tampered_with() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "share").await;
    let image = api.upload_one("a.png", png(64, 64)).await;
    let id = image["id"].as_str().unwrap();
    let link = api
        .expect(
            Method::POST,
            &format!("/api/v1/images/{id}/share"),
            Some(json!({"expires_in_hours": 2})),
            StatusCode::OK,
        )
        .await;
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&server.base), "{url}");
    let anonymous = server.client.get(url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::OK);
    assert_eq!(anonymous.headers()[header::CONTENT_TYPE], "image/png");
    // A variant through the same link.
    let variant = server
        .client
        .get(format!("{url}&w=32"))
        .header(header::ACCEPT, "image/webp")
        .send()
        .await
        .unwrap();
    assert_eq!(variant.status(), StatusCode::OK);
    assert_eq!(variant.headers()[header::CONTENT_TYPE], "image/webp");

    let tampered = url.replace("exp=", "exp=9");
    assert_eq!(
        server.client.get(&tampered).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    api.expect(
        Method::POST,
        &format!("/api/v1/images/{id}/share"),
        Some(json!({"expires_in_hours": 0})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    api.expect(
        Method::DELETE,
        &format!("/api/v1/images/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        server.client.get(url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "trashed"
    );
    server.stop().await;
}
