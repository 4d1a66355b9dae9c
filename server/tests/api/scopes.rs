//! Personal access tokens do what their scopes say (`read`, `generate`, `write`, `admin`),
//! and a token cannot make a token stronger or longer-lived than itself.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{api::Api, TestServer};
use backend::db::Dialect;

/// A token of `api`'s account with these scopes (and expiry), made by `api`.
async fn token(api: &Api, scopes: &[&str], days: Option<u32>) -> Api {
    let made = api
        .expect(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "scoped", "scopes": scopes, "expires_in_days": days})),
            StatusCode::CREATED,
        )
        .await;
    let mut listed: Vec<String> = made["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut asked: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    asked.sort();
    assert_eq!(listed, asked);
    Api {
        base: api.base.clone(),
        http: api.http.clone(),
        token: Some(made["token"].as_str().unwrap().to_owned()),
    }
}

async fn status(api: &Api, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let resp = api.send(method, path, body).await;
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_token_does_only_what_its_scopes_allow() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("BUILTIN_DELAY_MS", "0")]).await;
    let admin = Api::new_user(&server, "admin").await; // the first account administers
    let ann = Api::new_user(&server, "ann").await;

    // Tokens made without saying get read, generate and write.
    let plain = ann
        .expect(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "plain"})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(plain["scopes"], json!(["read", "generate", "write"]));

    let reader = token(&ann, &["read"], None).await;
    assert_eq!(
        status(&reader, Method::GET, "/api/v1/images", None).await.0,
        StatusCode::OK
    );
    let prompt = json!({"prompt": "a lighthouse keeper"});
    for (method, path, body) in [
        (Method::POST, "/api/v1/generations", Some(prompt.clone())),
        (
            Method::POST,
            "/api/v1/collections",
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "more"})),
        ),
    ] {
        let (code, body) = status(&reader, method.clone(), path, body).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            body["error"]["code"], "insufficient_scope",
            "{method} {path}"
        );
    }

    let generator = token(&ann, &["generate"], None).await;
    assert_eq!(
        status(
            &generator,
            Method::POST,
            "/api/v1/generations",
            Some(prompt.clone())
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        status(&generator, Method::GET, "/api/v1/images", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            &generator,
            Method::POST,
            "/api/v1/collections",
            Some(json!({"name": "x"}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // `admin` is for administrators' tokens, and their endpoints need it.
    let (code, body) = status(
        &ann,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "sudo", "scopes": ["admin"]})),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "scopes");
    let without_admin = token(&admin, &["read"], None).await;
    let (code, body) = status(
        &without_admin,
        Method::GET,
        "/api/v1/admin/operations",
        None,
    )
    .await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope"))
    );
    // To anyone else those endpoints do not exist, whatever the token.
    assert_eq!(
        status(&ann, Method::GET, "/api/v1/admin/operations", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let operator = token(&admin, &["read", "admin"], None).await;
    assert_eq!(
        status(&operator, Method::GET, "/api/v1/admin/operations", None)
            .await
            .0,
        StatusCode::OK
    );
    let (code, _) = status(
        &ann,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "x", "scopes": []})),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn a_token_cannot_make_a_stronger_or_longer_lived_token() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let ann = Api::new_user(&server, "ann").await;
    let limited = token(&ann, &["read", "write"], Some(5)).await;

    // Within its own scopes and lifetime: fine.
    token(&limited, &["read"], Some(3)).await;
    // More power: refused.
    let (code, body) = status(
        &limited,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "stronger", "scopes": ["read", "generate"], "expires_in_days": 1})),
    )
    .await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope"))
    );
    // Outliving it, or never expiring: refused, saying how long it may live.
    for days in [json!(30), Value::Null] {
        let (code, body) = status(
            &limited,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "longer", "scopes": ["read"], "expires_in_days": days})),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], "expires_in_days");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 4 days"),
            "{body}"
        );
    }
    server.stop().await;
}
