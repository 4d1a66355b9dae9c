//! The image library through `/api/v1` and `/media`, as a script would use it: uploads
//! (and what is refused), characters, collections, images, the trash, sharing, variants,
//! imports and who may see what.

mod common;

use std::{io::Cursor, net::SocketAddr, path::Path, time::Duration};

use backend::db::Dialect;
use common::{api::Api, on_both, picture, png, TestServer};
use image::{ImageEncoder, ImageFormat as Codec};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

fn encode(img: &image::RgbaImage, codec: Codec) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match codec {
        Codec::Jpeg => image::DynamicImage::ImageRgba8(img.clone())
            .to_rgb8()
            .write_to(&mut out, Codec::Jpeg)
            .unwrap(),
        Codec::WebP => image::codecs::webp::WebPEncoder::new_lossless(&mut out)
            .write_image(
                img,
                img.width(),
                img.height(),
                image::ExtendedColorType::Rgba8,
            )
            .unwrap(),
        other => img.write_to(&mut out, other).unwrap(),
    }
    out.into_inner()
}

/// Every object file under the server's storage directory.
fn stored_objects(server: &TestServer) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&server.data_dir.path().join("objects"), &mut out);
    out
}

#[tokio::test]
async fn the_upload_corpus_is_accepted_or_refused_by_content() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "corpus").await;

    for (name, data, format, w, h) in [
        ("a.png", png(64, 48), "image/png", 64, 48),
        (
            "b.jpg",
            encode(&picture(80, 60), Codec::Jpeg),
            "image/jpeg",
            80,
            60,
        ),
        (
            "c.webp",
            encode(&picture(30, 20), Codec::WebP),
            "image/webp",
            30,
            20,
        ),
    ] {
        let image = api.upload_one(name, data).await;
        assert_eq!(image["mime_type"], format, "{name}");
        assert_eq!(
            (image["width"].as_u64(), image["height"].as_u64()),
            (Some(w), Some(h)),
            "{name}"
        );
        assert_eq!(image["kind"], "uploaded");
        assert_eq!(image["status"], "completed");
        assert_eq!(image["sha256"].as_str().unwrap().len(), 64);
    }
    let accepted = stored_objects(&server);
    assert_eq!(accepted.len(), 3);

    let mut truncated = png(200, 200);
    truncated.truncate(truncated.len() / 2);
    // A PNG whose header (checksum and all) claims 50000×50000 pixels.
    let mut huge = png(4, 4);
    huge[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let crc = crc32fast::hash(&huge[12..29]);
    huge[29..33].copy_from_slice(&crc.to_be_bytes());
    let mut polyglot = png(16, 16);
    polyglot
        .extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>");
    let mut six_mb = png(16, 16);
    six_mb.resize(6 * 1024 * 1024, 7);

    for (name, data, status, code) in [
        (
            "notes.png",
            b"this is a text file, not a picture".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "page.png",
            b"<!DOCTYPE html><html><body>hello</body></html>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "logo.png",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "half.png",
            truncated,
            StatusCode::BAD_REQUEST,
            "corrupt_image",
        ),
        (
            "bomb.png",
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "image_too_large",
        ),
        (
            "big.png",
            six_mb,
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
        (
            "polyglot.png",
            polyglot,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_only_an_image",
        ),
    ] {
        let resp = api.upload(vec![(name, data)], &[]).await;
        assert_eq!(resp.status(), status, "{name}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{name}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{name}: ")),
            "the message names the file: {message}"
        );
        assert!(message.ends_with('.'), "a sentence: {message}");
    }

    // One bad file among good ones: none is kept.
    let resp = api
        .upload(
            vec![("ok.png", png(10, 10)), ("bad.png", b"nope".to_vec())],
            &[],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        stored_objects(&server),
        accepted,
        "refused files leave nothing in storage"
    );
    let list = api
        .expect(Method::GET, "/api/v1/images", None, StatusCode::OK)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn exif_and_gps_are_not_kept() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "exif").await;
    // A JPEG with an APP1 EXIF segment carrying a GPS tag and a comment segment.
    let plain = encode(&picture(40, 30), Codec::Jpeg);
    let mut exif =
        b"Exif\0\0II*\0\x08\0\0\0\x01\0\x25\x88\x04\0\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude 48.8584");
    let mut data = plain[..2].to_vec();
    data.extend_from_slice(&[0xFF, 0xE1]);
    data.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    data.extend_from_slice(&exif);
    data.extend_from_slice(&plain[2..]);
    let image = api.upload_one("holiday.jpg", data).await;
    assert_eq!(image["title"], "holiday");
    let bytes = api
        .request(Method::GET, image["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    assert!(!bytes.windows(11).any(|w| w == b"GPSLatitude"));
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 40);
    server.stop().await;
}

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

        // The owner's things are untouched.
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

#[tokio::test]
async fn variants_are_exact_cached_once_and_revalidated() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "variants").await;
    let image = api.upload_one("big.png", png(1024, 1024)).await;
    let id = image["id"].as_str().unwrap().to_owned();

    for (format, mime, codec) in [
        ("webp", "image/webp", Codec::WebP),
        ("jpeg", "image/jpeg", Codec::Jpeg),
        ("png", "image/png", Codec::Png),
    ] {
        let resp = api
            .request(
                Method::GET,
                &format!("/media/{id}?w=256&h=256&format={format}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], mime);
        assert!(resp.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age"));
        let bytes = resp.bytes().await.unwrap();
        let decoded = image::load_from_memory_with_format(&bytes, codec).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (256, 256), "{format}");
    }
    let w_only = api
        .request(Method::GET, &format!("/media/{id}?w=128&format=png"))
        .send()
        .await
        .unwrap();
    let decoded = image::load_from_memory(&w_only.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (128, 128));

    // A repeat is served from the cache: no new render.
    let renders = server.backend.variants.renders();
    let again = api
        .request(Method::GET, &format!("/media/{id}?w=256&h=256&format=webp"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let etag = again.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(server.backend.variants.renders(), renders);

    // Many requests for a new variant at once: rendered once.
    let requests = (0..8).map(|_| {
        api.request(Method::GET, &format!("/media/{id}?w=512&format=jpeg"))
            .send()
    });
    for resp in futures::future::join_all(requests).await {
        assert_eq!(resp.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        server.backend.variants.renders(),
        renders + 1,
        "single flight"
    );

    // If-None-Match gives 304 with no body.
    let not_modified = api
        .request(Method::GET, &format!("/media/{id}?w=256&h=256&format=webp"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()[header::ETAG], etag.as_str());
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let original = api
        .request(Method::GET, &format!("/media/{id}"))
        .send()
        .await
        .unwrap();
    let original_etag = original.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(original_etag, etag);
    let not_modified = api
        .request(Method::GET, &format!("/media/{id}"))
        .header(header::IF_NONE_MATCH, &original_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    // format=auto follows Accept and says that it does.
    let auto = api
        .request(Method::GET, &format!("/media/{id}?w=64"))
        .header(header::ACCEPT, "image/avif,image/webp,*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(auto.headers()[header::CONTENT_TYPE], "image/webp");
    assert_eq!(auto.headers()[header::VARY], "Accept");
    let auto = api
        .request(Method::GET, &format!("/media/{id}?w=64"))
        .header(header::ACCEPT, "image/*")
        .send()
        .await
        .unwrap();
    assert_eq!(auto.headers()[header::CONTENT_TYPE], "image/jpeg");

    // Sizes outside the ladder are refused, naming the allowed ones.
    let bad = api
        .expect(
            Method::GET,
            &format!("/media/{id}?w=250"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("16, 32, 48"));
    assert_eq!(bad["error"]["field"], "w");

    // Trashing the image deletes its variants.
    let variant_files = || {
        stored_objects(&server)
            .into_iter()
            .filter(|p| p.contains("/variants/"))
            .count()
    };
    assert!(variant_files() >= 5);
    api.expect(
        Method::DELETE,
        &format!("/api/v1/images/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(variant_files(), 0);
    server.stop().await;
}

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

#[tokio::test]
async fn exports_stream_a_zip_with_a_sidecar_per_image() {
    use std::io::Read;
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "export").await;
    let other = Api::new_user(&server, "stranger").await;
    let collection = api
        .expect(
            Method::POST,
            "/api/v1/collections",
            Some(json!({"name": "Trip"})),
            StatusCode::CREATED,
        )
        .await;
    let col = collection["id"].as_str().unwrap();
    let resp = api
        .upload(
            vec![
                ("one.png", png(20, 20)),
                ("two.jpg", encode(&picture(30, 30), Codec::Jpeg)),
            ],
            &[("collection_id", col)],
        )
        .await;
    let uploaded: Value = resp.json().await.unwrap();
    let ids: Vec<&str> = uploaded["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();

    for path in [
        format!("/api/v1/images/export?ids={}", ids.join(",")),
        format!("/api/v1/images/export?collection_id={col}"),
    ] {
        let resp = api.request(Method::GET, &path).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/zip");
        let bytes = resp.bytes().await.unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
        let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        names.sort();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("one-") && n.ends_with(".png")),
            "{names:?}"
        );
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("two-") && n.ends_with(".jpg")),
            "{names:?}"
        );
        let sidecar_name = names
            .iter()
            .find(|n| n.starts_with("one-") && n.ends_with(".json"))
            .unwrap()
            .clone();
        let mut sidecar = String::new();
        archive
            .by_name(&sidecar_name)
            .unwrap()
            .read_to_string(&mut sidecar)
            .unwrap();
        let meta: Value = serde_json::from_str(&sidecar).unwrap();
        assert!(ids.contains(&meta["id"].as_str().unwrap()));
        assert_eq!(meta["width"], 20);
        let image_name = sidecar_name.replace(".json", ".png");
        let mut image_bytes = Vec::new();
        archive
            .by_name(&image_name)
            .unwrap()
            .read_to_end(&mut image_bytes)
            .unwrap();
        assert_eq!(image::load_from_memory(&image_bytes).unwrap().width(), 20);
    }
    // Someone else's images or collection: nothing to export.
    other
        .expect(
            Method::GET,
            &format!("/api/v1/images/export?ids={}", ids[0]),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    other
        .expect(
            Method::GET,
            &format!("/api/v1/images/export?collection_id={col}"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    Api::anonymous(&server)
        .expect(
            Method::GET,
            &format!("/api/v1/images/export?ids={}", ids[0]),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    api.expect(
        Method::GET,
        "/api/v1/images/export",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
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

/// Every key in an S3 bucket, listed by a client of our own (not the server's).
async fn bucket_keys(s3: &common::S3Server, url: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let options: Vec<(&'static str, secrecy::SecretString)> = s3
        .vars()
        .into_iter()
        .map(|(k, v)| (k, secrecy::SecretString::from(v)))
        .collect();
    let storage = backend::storage::Storage::open(&url.parse().unwrap(), &options).unwrap();
    storage
        .store()
        .list(None)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn s3_storage_keeps_originals_and_variants_in_the_bucket() {
    let s3 = common::S3Server::start("avatars").await;
    let mut vars = s3.vars();
    vars.push(("STORAGE_URL", "s3://avatars/studio".to_owned()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start_with(Dialect::Sqlite, &vars).await;
    let api = Api::new_user(&server, "s3").await;

    // A refused upload leaves nothing behind, in S3 as on disk.
    let mut truncated = png(64, 64);
    truncated.truncate(truncated.len() / 2);
    let resp = api
        .upload(vec![("a.png", png(48, 48)), ("b.png", truncated)], &[])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bucket_keys(&s3, "s3://avatars").await, Vec::<String>::new());

    let original = png(300, 200);
    let image = api.upload_one("photo.png", original.clone()).await;
    let id = image["id"].as_str().unwrap().to_owned();
    let served = api
        .request(Method::GET, &format!("/media/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let served = served.bytes().await.unwrap();
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (300, 200));

    let variant = api
        .request(
            Method::GET,
            &format!("/media/{id}?w=64&h=64&fit=cover&format=webp"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(variant.status(), StatusCode::OK);
    let variant = image::load_from_memory(&variant.bytes().await.unwrap()).unwrap();
    assert_eq!((variant.width(), variant.height()), (64, 64));

    // Everything under the configured prefix, laid out as DESIGN.md says.
    let keys = bucket_keys(&s3, "s3://avatars").await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.starts_with("studio/") && k.contains(&id)),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("studio/uploads/")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("studio/variants/")),
        "{keys:?}"
    );

    // The trash drops the variants; deleting the account removes the original.
    api.expect(
        Method::DELETE,
        &format!("/api/v1/images/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let keys = bucket_keys(&s3, "s3://avatars").await;
    assert!(
        keys.len() == 1 && keys[0].starts_with("studio/uploads/"),
        "{keys:?}"
    );
    api.expect(
        Method::DELETE,
        "/api/v1/me",
        Some(json!({"password": "correct horse battery"})),
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(bucket_keys(&s3, "s3://avatars").await, Vec::<String>::new());
    server.stop().await;
}
