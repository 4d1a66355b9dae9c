//! Signed share links: open without signing in until they expire, are revoked or are
//! tampered with.

use crate::common::{api::Api, on_both, png, TestServer};
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

/// Status of an anonymous GET of `url`.
async fn opens(server: &TestServer, url: &str) -> StatusCode {
    server.client.get(url).send().await.unwrap().status()
}

#[tokio::test]
async fn share_links_are_listed_and_revoked_and_a_revoked_link_stays_dead() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let api = Api::new_user(&server, "links").await;
        let image = api.upload_one("a.png", png(64, 64)).await;
        let other_image = api.upload_one("b.png", png(32, 32)).await;
        let (id, other_id) = (
            image["id"].as_str().unwrap(),
            other_image["id"].as_str().unwrap(),
        );
        let share = |hours: u32| {
            let api = &api;
            async move {
                api.expect(
                    Method::POST,
                    &format!("/api/v1/images/{id}/share"),
                    Some(json!({"expires_in_hours": hours})),
                    StatusCode::OK,
                )
                .await
            }
        };
        let list_shares = |query: &'static str| {
            let api = &api;
            async move {
                api.expect(
                    Method::GET,
                    &format!("/api/v1/images/{id}/shares{query}"),
                    None,
                    StatusCode::OK,
                )
                .await
            }
        };
        let (first, second) = (share(2).await, share(24).await);
        let (first_url, second_url) = (
            first["url"].as_str().unwrap().to_owned(),
            second["url"].as_str().unwrap().to_owned(),
        );
        assert_eq!(first["image_id"], id);
        assert!(first["revoked_at"].is_null());

        // Listed newest first, with the same URLs as when they were made.
        let list = list_shares("").await;
        let listed: Vec<_> = list["items"].as_array().unwrap().iter().collect();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["id"], second["id"]);
        assert_eq!(listed[0]["url"], second["url"]);
        assert_eq!(listed[1]["url"], first["url"]);
        let paged = list_shares("?limit=1").await;
        assert_eq!(paged["items"].as_array().unwrap().len(), 1);
        assert!(paged["next_cursor"].is_string());

        // Revoked: 404 at once, and again without error; the other link still opens.
        let revoke = format!("/api/v1/shares/{}", first["id"].as_str().unwrap());
        api.expect(Method::DELETE, &revoke, None, StatusCode::NO_CONTENT)
            .await;
        api.expect(Method::DELETE, &revoke, None, StatusCode::NO_CONTENT)
            .await;
        assert_eq!(opens(&server, &first_url).await, StatusCode::NOT_FOUND);
        assert_eq!(
            opens(&server, &format!("{first_url}&w=32")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(opens(&server, &second_url).await, StatusCode::OK);
        let list = list_shares("").await;
        assert!(list["items"][1]["revoked_at"].is_string(), "{list}");

        // The trash closes every link; restoring opens the unrevoked one only.
        api.expect(
            Method::DELETE,
            &format!("/api/v1/images/{id}"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
        assert_eq!(opens(&server, &second_url).await, StatusCode::NOT_FOUND);
        api.expect(
            Method::POST,
            &format!("/api/v1/images/{id}/restore"),
            None,
            StatusCode::OK,
        )
        .await;
        assert_eq!(opens(&server, &second_url).await, StatusCode::OK);
        assert_eq!(
            opens(&server, &first_url).await,
            StatusCode::NOT_FOUND,
            "revoked before the trash"
        );

        // A link's signature does not open another image, and a link without its id (as
        // they were before links were recorded) opens nothing.
        let moved = second_url.replace(id, other_id);
        assert_eq!(opens(&server, &moved).await, StatusCode::NOT_FOUND);
        let share_param = format!("share={}&", second["id"].as_str().unwrap());
        assert_eq!(
            opens(&server, &second_url.replace(&share_param, "")).await,
            StatusCode::NOT_FOUND
        );

        // Past its time the row says no, whatever the URL says.
        backend::with_pool!(server.db(), |pool| {
            sqlx::query("UPDATE share_links SET expires_at = 1000 WHERE id = $1")
                .bind(second["id"].as_str().unwrap())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .unwrap();
        assert_eq!(opens(&server, &second_url).await, StatusCode::NOT_FOUND);

        // At most 50 active links per image.
        for _ in 0..50 {
            share(1).await;
        }
        let refused = api
            .send(
                Method::POST,
                &format!("/api/v1/images/{id}/share"),
                Some(json!({"expires_in_hours": 1})),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_share_links");
        server.stop().await;
    })
    .await;
}
