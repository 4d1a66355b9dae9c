//! The trash (issue 19 §5): deleting for good, a selection or everything, takes the
//! files and variants with the rows and touches nobody else's; an avatar that went to the
//! trash remembers its character, so restoring it can make it the avatar again.

use super::stored_objects;
use crate::common::{api::Api, on_both, png, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn id(image: &Value) -> String {
    image["id"].as_str().unwrap().to_owned()
}

async fn bulk(api: &Api, action: &str, ids: &[&str]) -> Value {
    api.expect(
        Method::POST,
        "/api/v1/images/bulk",
        Some(json!({"action": action, "ids": ids})),
        StatusCode::OK,
    )
    .await
}

/// The objects stored for one image: its original and its variants.
fn objects_of(server: &TestServer, image_id: &str) -> usize {
    stored_objects(server)
        .iter()
        .filter(|path| path.contains(image_id))
        .count()
}

#[tokio::test]
async fn a_trashed_avatar_remembers_its_character_and_can_be_made_the_avatar_again() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let api = Api::new_user(&server, "restorer").await;
        let portrait = api.upload_one("portrait.png", png(40, 40)).await;
        let other = api.upload_one("other.png", png(30, 30)).await;
        let ada = api
            .expect(
                Method::POST,
                "/api/v1/characters",
                Some(json!({"name": "Ada"})),
                StatusCode::CREATED,
            )
            .await;
        let cid = ada["id"].as_str().unwrap();
        api.expect(
            Method::PUT,
            &format!("/api/v1/characters/{cid}/avatar"),
            Some(json!({"image_id": portrait["id"]})),
            StatusCode::OK,
        )
        .await;

        let (portrait_id, other_id) = (id(&portrait), id(&other));
        let moved = bulk(&api, "delete", &[&portrait_id, &other_id]).await;
        assert_eq!(moved["done"].as_array().unwrap().len(), 2);
        let character = api
            .expect(
                Method::GET,
                &format!("/api/v1/characters/{cid}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(character["avatar_image_id"], Value::Null);
        let trashed = api
            .expect(
                Method::GET,
                &format!("/api/v1/images/{portrait_id}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(trashed["was_avatar_of"], cid);
        let plain = api
            .expect(
                Method::GET,
                &format!("/api/v1/images/{other_id}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(plain["was_avatar_of"], Value::Null);

        // Restored, it still says so; making it the avatar again works.
        let restored = api
            .expect(
                Method::POST,
                &format!("/api/v1/images/{portrait_id}/restore"),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(restored["deleted_at"], Value::Null);
        assert_eq!(restored["was_avatar_of"], cid);
        let back = api
            .expect(
                Method::PUT,
                &format!("/api/v1/characters/{cid}/avatar"),
                Some(json!({"image_id": portrait_id})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(back["avatar_image_id"], portrait_id.as_str());
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn deleting_for_good_takes_the_files_and_only_from_the_callers_trash() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let api = Api::new_user(&server, "purger").await;
        let other = Api::new_user(&server, "bystander").await;
        let images: Vec<String> = {
            let mut ids = Vec::new();
            for i in 0..4 {
                ids.push(id(&api
                    .upload_one(&format!("{i}.png"), png(40 + i, 40))
                    .await));
            }
            ids
        };
        let theirs = id(&other.upload_one("theirs.png", png(50, 50)).await);
        other
            .expect(
                Method::DELETE,
                &format!("/api/v1/images/{theirs}"),
                None,
                StatusCode::NO_CONTENT,
            )
            .await;
        // A cached variant, so that there is more than the original to delete.
        let variant = api
            .request(
                Method::GET,
                &format!("/media/{}?w=32&format=png", images[0]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(variant.status(), StatusCode::OK);
        let before = stats_bytes(&api).await;

        // Only what is in the trash goes; the rest is reported, one reason each.
        bulk(&api, "delete", &[&images[0], &images[1], &images[2]]).await;
        assert!(objects_of(&server, &images[0]) >= 1);
        let purged = bulk(
            &api,
            "purge",
            &[&images[0], &images[3], &theirs, "not-an-id"],
        )
        .await;
        assert_eq!(purged["done"], json!([images[0]]));
        let failed: Vec<(String, String)> = purged["failed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert!(
            failed
                .iter()
                .any(|(i, m)| *i == images[3] && m.contains("trash first")),
            "{failed:?}"
        );
        assert!(
            failed
                .iter()
                .any(|(i, m)| *i == theirs && m.contains("not yours")),
            "{failed:?}"
        );
        api.expect(
            Method::GET,
            &format!("/api/v1/images/{}", images[0]),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            objects_of(&server, &images[0]),
            0,
            "the original and its variants are gone"
        );
        assert_eq!(
            objects_of(&server, &images[3]),
            1,
            "outside the trash: kept"
        );

        // Emptying the trash: the caller's two left, not the other person's.
        let emptied = api
            .expect(Method::DELETE, "/api/v1/trash", None, StatusCode::OK)
            .await;
        assert_eq!(emptied["deleted"], 2);
        for gone in &images[1..3] {
            api.expect(
                Method::GET,
                &format!("/api/v1/images/{gone}"),
                None,
                StatusCode::NOT_FOUND,
            )
            .await;
            assert_eq!(objects_of(&server, gone), 0);
        }
        let trash = api
            .expect(
                Method::GET,
                "/api/v1/images?trashed=true",
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(trash["items"], json!([]));
        assert_eq!(
            api.expect(Method::DELETE, "/api/v1/trash", None, StatusCode::OK)
                .await["deleted"],
            0
        );
        // The bystander's trashed image is still there, with its file.
        let kept = other
            .expect(
                Method::GET,
                &format!("/api/v1/images/{theirs}"),
                None,
                StatusCode::OK,
            )
            .await;
        assert!(kept["deleted_at"].is_string());
        assert_eq!(objects_of(&server, &theirs), 1);
        // The space is given back.
        assert!(stats_bytes(&api).await < before);
        assert!(api
            .expect(Method::GET, "/api/v1/openapi.json", None, StatusCode::OK)
            .await["paths"]["/api/v1/trash"]["delete"]
            .is_object());
        server.stop().await;
    })
    .await;
}

async fn stats_bytes(api: &Api) -> u64 {
    api.expect(Method::GET, "/api/v1/stats", None, StatusCode::OK)
        .await["bytes_used"]
        .as_u64()
        .unwrap()
}
