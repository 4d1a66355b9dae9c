//! ZIP exports: a streamed archive with a JSON sidecar per image, for the owner only.

use super::encode;
use crate::common::{api::Api, picture, png, TestServer};
use backend::db::Dialect;
use image::ImageFormat as Codec;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;

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
