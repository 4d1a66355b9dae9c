//! Quotas: the jobs one account may have queued or running, the images it may generate in
//! 24 hours and the bytes it may store — as the instance's defaults and as an
//! administrator's settings for one account (API and command line). Over a limit, nothing
//! is queued or stored, and the answer says which limit and what to do.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{api::Api, binary, png, TestServer};
use backend::db::Dialect;

async fn generate(api: &Api, n: u8) -> (StatusCode, Value) {
    let resp = api
        .send(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "a lighthouse keeper", "n": n})),
        )
        .await;
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

async fn job_count(api: &Api) -> usize {
    api.expect(
        Method::GET,
        "/api/v1/generations?limit=200",
        None,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_full_queue_and_the_daily_limit_refuse_before_anything_is_queued() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("QUOTA_ACTIVE_JOBS", "2"),
            ("QUOTA_IMAGES_PER_DAY", "3"),
            // The jobs stay queued or running while the test looks.
            ("BUILTIN_DELAY_MS", "600000"),
            ("WORKER_CONCURRENCY", "1"),
        ],
    )
    .await;
    let ann = Api::new_user(&server, "ann").await;
    assert_eq!(generate(&ann, 2).await.0, StatusCode::ACCEPTED);
    let (status, body) = generate(&ann, 1).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 jobs queued or running"),
        "{body}"
    );
    assert_eq!(job_count(&ann).await, 2, "nothing was queued");

    // Canceled jobs free the queue, but still count as generated today.
    let jobs = ann
        .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
        .await;
    for job in jobs["items"].as_array().unwrap() {
        let id = job["id"].as_str().unwrap();
        ann.expect(
            Method::POST,
            &format!("/api/v1/generations/{id}/cancel"),
            None,
            StatusCode::OK,
        )
        .await;
    }
    // A running job stops at its worker's next step: wait for it.
    for _ in 0..200 {
        let usage = ann
            .expect(Method::GET, "/api/v1/me/usage", None, StatusCode::OK)
            .await;
        if usage["active_jobs"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, body) = generate(&ann, 2).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has 1 left"),
        "{body}"
    );
    assert_eq!(generate(&ann, 1).await.0, StatusCode::ACCEPTED);

    let usage = ann
        .expect(Method::GET, "/api/v1/me/usage", None, StatusCode::OK)
        .await;
    assert_eq!(usage["images_today"], 3);
    assert_eq!(usage["quota"]["images_per_day"], 3);
    assert_eq!(usage["quota"]["active_jobs"], 2);
    assert_eq!(usage["custom"], false);
    // Another account has its own allowance.
    let bob = Api::new_user(&server, "bob").await;
    assert_eq!(generate(&bob, 2).await.0, StatusCode::ACCEPTED);
    server.stop().await;
}

#[tokio::test]
async fn an_administrator_sets_one_accounts_storage_and_over_it_nothing_is_stored() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("BUILTIN_DELAY_MS", "0")]).await;
    let admin = Api::new_user(&server, "admin").await; // the first account administers
    let ann = Api::new_user(&server, "ann").await;
    let me = ann
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let ann_id = me["id"].as_str().unwrap();
    ann.upload_one("one.png", png(32, 32)).await;
    let used = ann
        .expect(Method::GET, "/api/v1/me/usage", None, StatusCode::OK)
        .await["storage_bytes"]
        .as_u64()
        .unwrap();
    assert!(used > 0);

    // Ann may keep exactly what she has.
    let path = format!("/api/v1/admin/accounts/{ann_id}/quota");
    let usage = admin
        .expect(
            Method::PUT,
            &path,
            Some(json!({"storage_bytes": used})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(usage["custom"], true);
    assert_eq!(usage["quota"]["storage_bytes"], used);
    let resp = ann.upload(vec![("two.png", png(16, 16))], &[]).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "storage_quota_exceeded");
    let (status, body) = generate(&ann, 1).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let images = ann
        .expect(Method::GET, "/api/v1/images", None, StatusCode::OK)
        .await;
    assert_eq!(
        images["items"].as_array().unwrap().len(),
        1,
        "nothing stored or queued"
    );

    // Administrators see every account's use; nobody else does.
    let accounts = admin
        .expect(Method::GET, "/api/v1/admin/accounts", None, StatusCode::OK)
        .await;
    let row = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ann_id)
        .unwrap()
        .clone();
    assert_eq!(row["usage"]["storage_bytes"], used);
    assert_eq!(row["settings"]["storage_bytes"], used);
    ann.expect(
        Method::GET,
        "/api/v1/admin/accounts",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    ann.expect(
        Method::PUT,
        &path,
        Some(json!({"storage_bytes": 0})),
        StatusCode::NOT_FOUND,
    )
    .await;

    // 0 is no limit; an empty setting goes back to the instance's defaults.
    admin
        .expect(
            Method::PUT,
            &path,
            Some(json!({"storage_bytes": 0})),
            StatusCode::OK,
        )
        .await;
    ann.upload_one("three.png", png(16, 16)).await;
    let usage = admin
        .expect(Method::PUT, &path, Some(json!({})), StatusCode::OK)
        .await;
    assert_eq!(usage["custom"], false);
    server.stop().await;
}

#[tokio::test]
async fn the_operator_sets_limits_from_the_command_line() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("BUILTIN_DELAY_MS", "0")]).await;
    let ann = Api::new_user(&server, "ann").await;
    let run = |args: &[&str]| {
        let out = binary()
            .env("DATABASE_URL", server.config.database_url.expose())
            .env("DATA_DIR", server.data_dir.path())
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let said = run(&["user", "quota", "ann@example.com", "--images-per-day", "1"]);
    assert!(
        said.contains("its own limits") && said.contains("0 of 1"),
        "{said}"
    );
    let (status, _) = generate(&ann, 2).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let said = run(&["user", "quota", "ann@example.com", "--default"]);
    assert!(
        said.contains("the instance's limits") && said.contains("of 500"),
        "{said}"
    );
    assert_eq!(generate(&ann, 2).await.0, StatusCode::ACCEPTED);
    server.stop().await;
}
