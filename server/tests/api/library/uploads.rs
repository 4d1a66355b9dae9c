//! Uploads through `/api/v1/images`: a corpus of valid and hostile files accepted or
//! refused by content, all or nothing, and metadata (EXIF, GPS) not kept.

use super::{encode, stored_objects};
use crate::common::{api::Api, picture, png, TestServer};
use backend::db::Dialect;
use image::ImageFormat as Codec;
use reqwest::{Method, StatusCode};
use serde_json::Value;

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
