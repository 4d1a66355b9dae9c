//! A character's public avatar link (issue 19 §5): stable and unguessable, opens the
//! current avatar for anyone (with the variant ladder) until it is revoked, and is the
//! owner's alone to make or revoke.

use crate::common::{api::Api, on_both, png, TestServer};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

async fn get(server: &TestServer, url: &str) -> reqwest::Response {
    server.client.get(url).send().await.unwrap()
}

fn width_of(bytes: &[u8]) -> u32 {
    image::load_from_memory(bytes).unwrap().width()
}

#[tokio::test]
async fn a_public_avatar_link_opens_the_current_avatar_for_anyone_until_it_is_revoked() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let api = Api::new_user(&server, "public").await;
        let other = Api::new_user(&server, "not-the-owner").await;
        let first = api.upload_one("first.png", png(64, 48)).await;
        let second = api.upload_one("second.png", png(80, 40)).await;
        let ada = api
            .expect(
                Method::POST,
                "/api/v1/characters",
                Some(json!({"name": "Ada"})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(ada["public_avatar_url"], Value::Null);
        let id = ada["id"].as_str().unwrap();
        let path = format!("/api/v1/characters/{id}/public-avatar");
        let set_avatar = |image: &Value| {
            let body = json!({"image_id": image["id"]});
            let api = &api;
            let path = format!("/api/v1/characters/{id}/avatar");
            async move {
                api.expect(Method::PUT, &path, Some(body), StatusCode::OK)
                    .await
            }
        };

        // Someone else can neither publish nor revoke it.
        other
            .expect(Method::POST, &path, None, StatusCode::NOT_FOUND)
            .await;
        other
            .expect(Method::DELETE, &path, None, StatusCode::NOT_FOUND)
            .await;

        let link = api.expect(Method::POST, &path, None, StatusCode::OK).await;
        let url = link["url"].as_str().unwrap().to_owned();
        let token = url
            .strip_prefix(&format!("{}/avatars/", server.base))
            .unwrap_or_else(|| panic!("{url}"));
        assert_eq!(token.len(), 43, "a 256-bit token: {token}");
        // Stable: asking again answers the same link, and the character shows it.
        assert_eq!(
            api.expect(Method::POST, &path, None, StatusCode::OK).await["url"],
            url
        );
        let shown = api
            .expect(
                Method::GET,
                &format!("/api/v1/characters/{id}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(shown["public_avatar_url"], url);

        // No avatar yet: nothing to open.
        assert_eq!(get(&server, &url).await.status(), StatusCode::NOT_FOUND);
        set_avatar(&first).await;
        let opened = get(&server, &url).await;
        assert_eq!(opened.status(), StatusCode::OK);
        assert_eq!(opened.headers()[header::CONTENT_TYPE], "image/png");
        assert!(opened.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("public"));
        assert_eq!(
            opened.headers()["cross-origin-resource-policy"],
            "cross-origin"
        );
        let etag = opened.headers()[header::ETAG].clone();
        assert_eq!(width_of(&opened.bytes().await.unwrap()), 64);
        let again = server
            .client
            .get(&url)
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        // Any rung of the ladder, in another format; off the ladder is a 400.
        let small = server
            .client
            .get(format!("{url}?w=32&h=32&fit=cover&format=webp"))
            .send()
            .await
            .unwrap();
        assert_eq!(small.status(), StatusCode::OK);
        assert_eq!(small.headers()[header::CONTENT_TYPE], "image/webp");
        assert_eq!(width_of(&small.bytes().await.unwrap()), 32);
        assert_eq!(
            get(&server, &format!("{url}?w=33")).await.status(),
            StatusCode::BAD_REQUEST
        );

        // The link follows the avatar.
        set_avatar(&second).await;
        assert_eq!(
            width_of(&get(&server, &url).await.bytes().await.unwrap()),
            80
        );
        // An avatar in the trash is no longer the avatar: the link opens nothing.
        let second_id = second["id"].as_str().unwrap();
        api.expect(
            Method::DELETE,
            &format!("/api/v1/images/{second_id}"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
        assert_eq!(get(&server, &url).await.status(), StatusCode::NOT_FOUND);
        set_avatar(&first).await;
        assert_eq!(get(&server, &url).await.status(), StatusCode::OK);

        // Guessing: other tokens, malformed or not, are 404 like a revoked one.
        let mut wrong = token.to_owned();
        wrong.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
        for bad in [wrong.as_str(), "short", "..%2F..%2Fetc", &"x".repeat(500)] {
            let status = get(&server, &format!("{}/avatars/{bad}", server.base))
                .await
                .status();
            assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        }

        // Revoked: 404 from now on; publishing again makes another address.
        api.expect(Method::DELETE, &path, None, StatusCode::NO_CONTENT)
            .await;
        assert_eq!(get(&server, &url).await.status(), StatusCode::NOT_FOUND);
        let shown = api
            .expect(
                Method::GET,
                &format!("/api/v1/characters/{id}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(shown["public_avatar_url"], Value::Null);
        let renewed = api.expect(Method::POST, &path, None, StatusCode::OK).await;
        assert_ne!(renewed["url"], url);
        assert_eq!(get(&server, &url).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            get(&server, renewed["url"].as_str().unwrap())
                .await
                .status(),
            StatusCode::OK
        );

        // Documented.
        let doc = api
            .expect(Method::GET, "/api/v1/openapi.json", None, StatusCode::OK)
            .await;
        assert!(doc["paths"]["/api/v1/characters/{id}/public-avatar"]["post"].is_object());
        assert!(doc["paths"]["/api/v1/characters/{id}/public-avatar"]["delete"].is_object());
        assert!(doc["paths"]["/avatars/{token}"]["get"].is_object());
        assert!(
            doc["components"]["schemas"]["Character"]["properties"]["public_avatar_url"]
                .is_object()
        );
        server.stop().await;
    })
    .await;
}
