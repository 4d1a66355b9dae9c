//! Resized variants through `/media`: exact sizes, rendered once, cached, revalidated
//! with ETags, and chosen by `Accept`.

use super::stored_objects;
use crate::common::{api::Api, png, TestServer};
use backend::db::Dialect;
use image::ImageFormat as Codec;
use reqwest::{header, Method, StatusCode};

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
    let renders = server.backend.runtime.variants.renders();
    let again = api
        .request(Method::GET, &format!("/media/{id}?w=256&h=256&format=webp"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let etag = again.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(server.backend.runtime.variants.renders(), renders);

    // Many requests for a new variant at once: rendered once.
    let requests = (0..8).map(|_| {
        api.request(Method::GET, &format!("/media/{id}?w=512&format=jpeg"))
            .send()
    });
    for resp in futures::future::join_all(requests).await {
        assert_eq!(resp.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        server.backend.runtime.variants.renders(),
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

#[tokio::test]
async fn no_rendition_is_larger_than_the_original_and_quality_is_rounded() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "small").await;
    let image = api.upload_one("small.png", png(64, 48)).await;
    let id = image["id"].as_str().unwrap().to_owned();
    let get = |query: &str| {
        api.request(Method::GET, &format!("/media/{id}?{query}"))
            .send()
    };
    for (query, size) in [
        ("w=2048&format=png", (64, 48)),
        ("w=2048&h=2048&format=png", (48, 48)),
        ("w=512&h=256&fit=cover&format=png", (64, 32)),
        ("w=2048&h=16&fit=fill&format=png", (64, 16)),
    ] {
        let resp = get(query).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{query}");
        let decoded = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!((decoded.width(), decoded.height()), size, "{query}");
    }
    // Qualities 81 to 85 are one rendition (q=90): rendered once.
    let before: i64 = backend::with_pool!(server.db(), |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM image_variants"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    for q in 85..=89 {
        let resp = get(&format!("w=32&format=webp&q={q}")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let after: i64 = backend::with_pool!(server.db(), |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM image_variants"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(after, before + 1);
    server.stop().await;
}

#[tokio::test]
async fn the_variant_cache_stays_within_its_limit_as_it_is_written() {
    // A limit smaller than any rendition: each new one evicts every other (it alone stays,
    // as it was just asked for).
    let server = TestServer::start_with(Dialect::Sqlite, &[("VARIANT_CACHE_MAX_BYTES", "1")]).await;
    let api = Api::new_user(&server, "cache").await;
    let image = api.upload_one("big.png", png(512, 512)).await;
    let id = image["id"].as_str().unwrap().to_owned();
    for w in [64, 96, 128] {
        let resp = api
            .request(Method::GET, &format!("/media/{id}?w={w}&format=png"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let cached: Vec<(String, String)> = backend::with_pool!(server.db(), |pool| {
            sqlx::query_as("SELECT spec, storage_key FROM image_variants")
                .fetch_all(pool)
                .await
        })
        .unwrap();
        assert_eq!(cached.len(), 1, "after w={w}: {cached:?}");
        assert!(cached[0].0.starts_with(&format!("w{w}-")), "{cached:?}");
        let variant_objects: Vec<String> = stored_objects(&server)
            .into_iter()
            .filter(|path| path.contains("/variants/"))
            .collect();
        assert_eq!(
            variant_objects.len(),
            1,
            "the evicted objects went too: {variant_objects:?}"
        );
        assert!(
            variant_objects[0].ends_with(&cached[0].1),
            "{variant_objects:?}"
        );
    }
    server.stop().await;
}
