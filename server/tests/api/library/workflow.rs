//! The library end to end: collections, characters, images, filters and pages, the
//! trash, bulk actions and stats; and what deleting an account leaves behind.

use super::{encode, stored_objects};
use crate::common::{api::Api, on_both, picture, png, TestServer};
use backend::db::Dialect;
use image::ImageFormat as Codec;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn the_library_works_end_to_end() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let api = Api::new_user(&server, "library").await;

        // Collections and characters.
        let portraits = api
            .expect(Method::POST, "/api/v1/collections", Some(json!({"name": "  Portraits ", "description": "Faces"})), StatusCode::CREATED)
            .await;
        assert_eq!(portraits["name"], "Portraits");
        assert_eq!(portraits["image_count"], 0);
        let col = portraits["id"].as_str().unwrap().to_owned();
        let bad = api.expect(Method::POST, "/api/v1/collections", Some(json!({"name": ""})), StatusCode::BAD_REQUEST).await;
        assert_eq!(bad["error"]["field"], "name");

        let ada = api
            .expect(
                Method::POST,
                "/api/v1/characters",
                Some(json!({"name": "Ada", "avatar_prompt": "a portrait of Ada", "avatar_generation_config": {"provider": "builtin"}})),
                StatusCode::CREATED,
            )
            .await;
        let c = ada["id"].as_str().unwrap().to_owned();
        assert_eq!(ada["avatar_generation_config"]["provider"], "builtin");
        let bad = api
            .expect(Method::POST, "/api/v1/characters", Some(json!({"name": "X", "avatar_generation_config": [1]})), StatusCode::BAD_REQUEST)
            .await;
        assert_eq!(bad["error"]["field"], "avatar_generation_config");
        // Settings are checked against the catalogue.
        for config in [
            json!({"provider": "openai", "model": "dall-e-9"}),
            json!({"provider": "openai", "size": "256x256"}),
            json!({"quality": "hd"}),
            json!({"colour": "blue"}),
        ] {
            let bad = api
                .expect(Method::PATCH, &format!("/api/v1/characters/{c}"), Some(json!({"avatar_generation_config": config})), StatusCode::BAD_REQUEST)
                .await;
            assert_eq!(bad["error"]["field"], "avatar_generation_config", "{config}");
        }

        // Three uploads: one into the collection, one for the character, one loose.
        let resp = api.upload(vec![("sunset.png", png(40, 40))], &[("collection_id", &col)]).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let first: Value = resp.json().await.unwrap();
        let in_collection = first["items"][0]["id"].as_str().unwrap().to_owned();
        let resp = api.upload(vec![("ada.png", png(50, 50))], &[("character_id", &c)]).await;
        let second: Value = resp.json().await.unwrap();
        let for_ada = second["items"][0]["id"].as_str().unwrap().to_owned();
        let loose = api.upload_one("beach.jpg", encode(&picture(60, 40), Codec::Jpeg)).await;
        let loose = loose["id"].as_str().unwrap().to_owned();

        // Filters and search.
        let ids = |v: &Value| -> Vec<String> {
            v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
        };
        let all = api.expect(Method::GET, "/api/v1/images", None, StatusCode::OK).await;
        assert_eq!(ids(&all), vec![loose.clone(), for_ada.clone(), in_collection.clone()], "newest first");
        let got = api.expect(Method::GET, &format!("/api/v1/images?collection_id={col}"), None, StatusCode::OK).await;
        assert_eq!(ids(&got), vec![in_collection.clone()]);
        let got = api.expect(Method::GET, &format!("/api/v1/images?character_id={c}"), None, StatusCode::OK).await;
        assert_eq!(ids(&got), vec![for_ada.clone()], "the character's history");
        let got = api.expect(Method::GET, "/api/v1/images?kind=generated", None, StatusCode::OK).await;
        assert_eq!(ids(&got), Vec::<String>::new());
        let bad = api.expect(Method::GET, "/api/v1/images?kind=photo", None, StatusCode::BAD_REQUEST).await;
        assert_eq!(bad["error"]["code"], "invalid_query");
        api.expect(Method::GET, "/api/v1/images?limit=500", None, StatusCode::BAD_REQUEST).await;

        // Pages of two.
        let page1 = api.expect(Method::GET, "/api/v1/images?limit=2", None, StatusCode::OK).await;
        assert_eq!(ids(&page1).len(), 2);
        let cursor = page1["next_cursor"].as_str().unwrap();
        let page2 = api.expect(Method::GET, &format!("/api/v1/images?limit=2&cursor={cursor}"), None, StatusCode::OK).await;
        assert_eq!(ids(&page2), vec![in_collection.clone()]);
        assert_eq!(page2["next_cursor"], Value::Null);

        // Rename, favourite, move; search finds the title.
        let patched = api
            .expect(Method::PATCH, &format!("/api/v1/images/{loose}"), Some(json!({"title": "Beach at dawn", "favorite": true, "collection_id": col})), StatusCode::OK)
            .await;
        assert_eq!(patched["title"], "Beach at dawn");
        assert_eq!(patched["favorite"], true);
        assert_eq!(patched["collection_id"], col.as_str());
        let got = api.expect(Method::GET, "/api/v1/images?q=DAWN%20beach", None, StatusCode::OK).await;
        assert_eq!(ids(&got), vec![loose.clone()]);
        let got = api.expect(Method::GET, "/api/v1/images?q=100%25", None, StatusCode::OK).await;
        assert_eq!(ids(&got), Vec::<String>::new(), "wildcards are literal");
        let got = api.expect(Method::GET, "/api/v1/images?favorite=true", None, StatusCode::OK).await;
        assert_eq!(ids(&got), vec![loose.clone()]);
        let collection = api.expect(Method::GET, &format!("/api/v1/collections/{col}"), None, StatusCode::OK).await;
        assert_eq!(collection["image_count"], 2);
        assert_eq!(collection["cover_image_id"], loose.as_str(), "the newest image is the cover");
        let collection = api
            .expect(Method::PATCH, &format!("/api/v1/collections/{col}"), Some(json!({"name": "Best", "cover_image_id": in_collection})), StatusCode::OK)
            .await;
        assert_eq!(collection["name"], "Best");
        assert_eq!(collection["cover_image_id"], in_collection.as_str());
        let bad = api
            .expect(Method::PATCH, &format!("/api/v1/collections/{col}"), Some(json!({"cover_image_id": for_ada})), StatusCode::BAD_REQUEST)
            .await;
        assert_eq!(bad["error"]["field"], "cover_image_id");
        let moved = api.expect(Method::PATCH, &format!("/api/v1/images/{loose}"), Some(json!({"collection_id": null})), StatusCode::OK).await;
        assert_eq!(moved["collection_id"], Value::Null);

        // The avatar.
        let with_avatar = api
            .expect(Method::PUT, &format!("/api/v1/characters/{c}/avatar"), Some(json!({"image_id": for_ada})), StatusCode::OK)
            .await;
        assert_eq!(with_avatar["avatar_image_id"], for_ada.as_str());
        assert_eq!(with_avatar["avatar_url"], format!("/media/{for_ada}"));

        // Trash and restore, one and in bulk.
        api.expect(Method::DELETE, &format!("/api/v1/images/{in_collection}"), None, StatusCode::NO_CONTENT).await;
        let trash = api.expect(Method::GET, "/api/v1/images?trashed=true", None, StatusCode::OK).await;
        assert_eq!(ids(&trash), vec![in_collection.clone()]);
        assert!(trash["items"][0]["deleted_at"].is_string());
        let collection = api.expect(Method::GET, &format!("/api/v1/collections/{col}"), None, StatusCode::OK).await;
        assert_eq!(collection["image_count"], 0, "trashed images do not count");
        assert_eq!(collection["cover_image_id"], Value::Null, "and are no cover");
        let restored = api.expect(Method::POST, &format!("/api/v1/images/{in_collection}/restore"), None, StatusCode::OK).await;
        assert_eq!(restored["deleted_at"], Value::Null);

        let result = api
            .expect(Method::POST, "/api/v1/images/bulk", Some(json!({"action": "delete", "ids": [loose, for_ada, "not-an-id"]})), StatusCode::OK)
            .await;
        assert_eq!(result["done"].as_array().unwrap().len(), 2);
        assert_eq!(result["failed"][0]["id"], "not-an-id");
        let ada_now = api.expect(Method::GET, &format!("/api/v1/characters/{c}"), None, StatusCode::OK).await;
        assert_eq!(ada_now["avatar_image_id"], Value::Null, "a trashed image is no avatar");
        let result = api
            .expect(Method::POST, "/api/v1/images/bulk", Some(json!({"action": "restore", "ids": [loose, for_ada]})), StatusCode::OK)
            .await;
        assert_eq!(result["done"].as_array().unwrap().len(), 2);
        let result = api
            .expect(Method::POST, "/api/v1/images/bulk", Some(json!({"action": "move", "ids": [loose, for_ada], "collection_id": col})), StatusCode::OK)
            .await;
        assert_eq!(result["done"].as_array().unwrap().len(), 2);
        let collection = api.expect(Method::GET, &format!("/api/v1/collections/{col}"), None, StatusCode::OK).await;
        assert_eq!(collection["image_count"], 3);

        // Stats.
        let stats = api.expect(Method::GET, "/api/v1/stats", None, StatusCode::OK).await;
        assert_eq!(stats["images"]["total"], 3);
        assert_eq!(stats["images"]["uploaded"], 3);
        assert_eq!(stats["by_status"]["completed"], 3);
        assert!(stats["bytes_used"].as_u64().unwrap() > 0);
        assert_eq!(stats["characters"]["total"], 1);
        assert_eq!(stats["characters"]["with_avatar"], 0);

        // Deleting the collection and the character keeps the images.
        api.expect(Method::DELETE, &format!("/api/v1/collections/{col}"), None, StatusCode::NO_CONTENT).await;
        api.expect(Method::DELETE, &format!("/api/v1/characters/{c}"), None, StatusCode::NO_CONTENT).await;
        let all = api.expect(Method::GET, "/api/v1/images", None, StatusCode::OK).await;
        assert_eq!(ids(&all).len(), 3);
        assert!(all["items"].as_array().unwrap().iter().all(|i| i["collection_id"].is_null() && i["character_id"].is_null()));
        server.stop().await;
    })
    .await;
}

/// Deleting the account removes every stored object: originals and their variants.
#[tokio::test]
async fn deleting_the_account_removes_its_images_and_variants() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "leaving").await;
    let other = Api::new_user(&server, "staying").await;
    let mine = api.upload_one("mine.png", png(64, 64)).await;
    let kept = other.upload_one("kept.png", png(64, 64)).await;
    for (who, image) in [(&api, &mine), (&other, &kept)] {
        let id = image["id"].as_str().unwrap();
        let variant = who
            .request(Method::GET, &format!("/media/{id}?w=32&format=webp"))
            .send()
            .await
            .unwrap();
        assert_eq!(variant.status(), StatusCode::OK);
    }
    let mine_id = mine["id"].as_str().unwrap().to_owned();
    let kept_id = kept["id"].as_str().unwrap().to_owned();
    assert!(stored_objects(&server).iter().any(|p| p.contains(&mine_id)));
    api.expect(
        Method::DELETE,
        "/api/v1/me",
        Some(json!({"password": "correct horse battery"})),
        StatusCode::NO_CONTENT,
    )
    .await;
    let left = stored_objects(&server);
    assert!(
        !left.iter().any(|p| p.contains(&mine_id)),
        "nothing of the deleted account: {left:?}"
    );
    assert_eq!(
        left.iter().filter(|p| p.contains(&kept_id)).count(),
        2,
        "the other account's original and variant stay: {left:?}"
    );
    server.stop().await;
}
