//! Who may see what: every library endpoint and `/media` answers 404 for another
//! person's resource and 401 without credentials, on both databases.

use crate::common::{api::Api, on_both, png, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every endpoint of the library and `/media`: another user's resource is 404, no
/// credentials is 401, and nothing of the owner's changed.
#[tokio::test]
async fn other_users_get_404_and_anonymous_requests_401() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let owner = Api::new_user(&server, "owner").await;
        let other = Api::new_user(&server, "other").await;
        let anonymous = Api::anonymous(&server);

        let character = owner
            .expect(
                Method::POST,
                "/api/v1/characters",
                Some(json!({"name": "Ada"})),
                StatusCode::CREATED,
            )
            .await;
        let collection = owner
            .expect(
                Method::POST,
                "/api/v1/collections",
                Some(json!({"name": "Portraits"})),
                StatusCode::CREATED,
            )
            .await;
        let image = owner.upload_one("a.png", png(32, 32)).await;
        let (c, col, i) = (
            character["id"].as_str().unwrap().to_owned(),
            collection["id"].as_str().unwrap().to_owned(),
            image["id"].as_str().unwrap().to_owned(),
        );
        let link = owner
            .expect(
                Method::POST,
                &format!("/api/v1/images/{i}/share"),
                Some(json!({"expires_in_hours": 1})),
                StatusCode::OK,
            )
            .await;
        let share = link["id"].as_str().unwrap().to_owned();

        let table: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/api/v1/characters/{c}"), None),
            (
                Method::PATCH,
                format!("/api/v1/characters/{c}"),
                Some(json!({"name": "Mine"})),
            ),
            (Method::DELETE, format!("/api/v1/characters/{c}"), None),
            (
                Method::PUT,
                format!("/api/v1/characters/{c}/avatar"),
                Some(json!({"image_id": i})),
            ),
            (
                Method::POST,
                format!("/api/v1/characters/{c}/avatar/import"),
                Some(json!({"url": "https://example.com/a.png"})),
            ),
            (Method::GET, format!("/api/v1/collections/{col}"), None),
            (
                Method::PATCH,
                format!("/api/v1/collections/{col}"),
                Some(json!({"name": "Mine"})),
            ),
            (Method::DELETE, format!("/api/v1/collections/{col}"), None),
            (Method::GET, format!("/api/v1/images/{i}"), None),
            (
                Method::PATCH,
                format!("/api/v1/images/{i}"),
                Some(json!({"favorite": true})),
            ),
            (Method::DELETE, format!("/api/v1/images/{i}"), None),
            (Method::POST, format!("/api/v1/images/{i}/restore"), None),
            (
                Method::POST,
                format!("/api/v1/images/{i}/share"),
                Some(json!({"expires_in_hours": 1})),
            ),
            (Method::GET, format!("/api/v1/images/{i}/shares"), None),
            (Method::DELETE, format!("/api/v1/shares/{share}"), None),
            (
                Method::POST,
                "/api/v1/images/import".to_owned(),
                Some(json!({"url": "https://example.com/a.png", "collection_id": col})),
            ),
            (Method::GET, format!("/api/v1/images/export?ids={i}"), None),
            (
                Method::GET,
                format!("/api/v1/images/export?collection_id={col}"),
                None,
            ),
            (Method::GET, format!("/media/{i}"), None),
            (Method::GET, format!("/media/{i}?w=64"), None),
        ];
        for (method, path, body) in &table {
            other
                .expect(method.clone(), path, body.clone(), StatusCode::NOT_FOUND)
                .await;
            anonymous
                .expect(method.clone(), path, body.clone(), StatusCode::UNAUTHORIZED)
                .await;
        }
        // Using the owner's collection or character as a destination is also "not found".
        let resp = other
            .upload(vec![("x.png", png(8, 8))], &[("collection_id", &col)])
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let resp = other
            .upload(vec![("x.png", png(8, 8))], &[("character_id", &c)])
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        // Bulk actions on the owner's images do nothing and say so.
        for action in ["delete", "move", "restore"] {
            let result = other
                .expect(
                    Method::POST,
                    "/api/v1/images/bulk",
                    Some(json!({"action": action, "ids": [i]})),
                    StatusCode::OK,
                )
                .await;
            assert_eq!(result["done"], json!([]), "{action}");
            assert_eq!(result["failed"][0]["id"], i.as_str());
        }
        // Lists show none of the owner's things; anonymous lists are 401.
        for path in [
            "/api/v1/images",
            "/api/v1/characters",
            "/api/v1/collections",
        ] {
            let list = other.expect(Method::GET, path, None, StatusCode::OK).await;
            assert_eq!(list["items"], json!([]), "{path}");
            anonymous
                .expect(Method::GET, path, None, StatusCode::UNAUTHORIZED)
                .await;
        }
        let stats = other
            .expect(Method::GET, "/api/v1/stats", None, StatusCode::OK)
            .await;
        assert_eq!(stats["images"]["total"], 0);
        anonymous
            .expect(Method::GET, "/api/v1/stats", None, StatusCode::UNAUTHORIZED)
            .await;
        assert_eq!(
            anonymous
                .upload(vec![("x.png", png(8, 8))], &[])
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        anonymous
            .expect(
                Method::POST,
                "/api/v1/images/bulk",
                Some(json!({"action": "delete", "ids": [i]})),
                StatusCode::UNAUTHORIZED,
            )
            .await;

        // The owner's things are untouched (the link another user tried to revoke opens).
        let shared = server
            .client
            .get(link["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(shared.status(), StatusCode::OK);
        let got = owner
            .expect(
                Method::GET,
                &format!("/api/v1/characters/{c}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(got["name"], "Ada");
        let got = owner
            .expect(
                Method::GET,
                &format!("/api/v1/collections/{col}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(got["name"], "Portraits");
        let got = owner
            .expect(
                Method::GET,
                &format!("/api/v1/images/{i}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(got["deleted_at"], Value::Null);
        assert_eq!(got["favorite"], false);
        let media = owner
            .request(Method::GET, &format!("/media/{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(media.status(), StatusCode::OK);
        server.stop().await;
    })
    .await;
}
