//! S3 storage (moto's S3-compatible server): originals and variants kept in the bucket,
//! and removed with the image or the account.

use crate::common;
use crate::common::{api::Api, png, TestServer};
use backend::db::Dialect;
use reqwest::{Method, StatusCode};
use serde_json::json;

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
