//! `avatar-studio cleanup` through the real binary: orphaned objects (and the grace
//! period), images whose object was deleted behind the app's back, jobs left running by a
//! worker that is gone, expired rows; `--dry-run` changes nothing.
//!
//! Over 500 lines because each case of the cleanup is a test of its own, through the real
//! binary.

use crate::common;
use std::time::{Duration, SystemTime};

use crate::common::{api::Api, binary, on_both, TestServer};
use backend::db::Dialect;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn cleanup(server: &TestServer, dry_run: bool) -> String {
    cleanup_with(server, dry_run, &[]).await
}

async fn cleanup_with(server: &TestServer, dry_run: bool, extra: &[(&str, String)]) -> String {
    let mut cmd = binary();
    cmd.arg("cleanup")
        .env("DATA_DIR", server.data_dir.path())
        .env("DATABASE_URL", server.config.database_url.expose())
        .env(
            "CLEANUP_ORPHAN_GRACE_SECONDS",
            server.config.cleanup_orphan_grace.as_secs().to_string(),
        )
        .env(
            "TRASH_RETENTION_DAYS",
            (server.config.trash_retention.as_secs() / 86_400).to_string(),
        )
        .env("LOG_FORMAT", "json");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    if dry_run {
        cmd.arg("--dry-run");
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cleanup failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Writes an object file no row refers to, last modified `age` ago.
fn plant(server: &TestServer, key: &str, age: Duration) -> std::path::PathBuf {
    let path = server.data_dir.path().join("objects").join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"left behind by a crash").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

async fn scalar(server: &TestServer, sql: &str, id: &str) -> Option<String> {
    backend::with_pool!(server.db(), |pool| sqlx::query_scalar::<_, Option<String>>(
        sql
    )
    .bind(id)
    .fetch_one(pool)
    .await)
    .unwrap()
}

#[tokio::test]
async fn cleanup_reconciles_storage_and_ends_stuck_jobs_and_dry_run_changes_nothing() {
    on_both(|dialect| async move {
        let server = TestServer::start_with(
            dialect,
            &[("CLEANUP_ORPHAN_GRACE_SECONDS", "3600"), ("BUILTIN_DELAY_MS", "0")],
        )
        .await;
        let api = Api::new_user(&server, "operator").await;

        // An object from a crash between upload and commit (two hours old), and one from
        // an upload still in flight (a minute old).
        let old_key = "uploads/0190a0b0-0000-7000-8000-000000000001/0190a0b0-0000-7000-8000-000000000002.png";
        let young_key = "uploads/0190a0b0-0000-7000-8000-000000000001/0190a0b0-0000-7000-8000-000000000003.png";
        let old = plant(&server, old_key, Duration::from_secs(7200));
        let young = plant(&server, young_key, Duration::from_secs(60));

        // An image whose object is deleted behind the app's back.
        let image = api.upload_one("face.png", common::png(24, 24)).await;
        let image_id = image["id"].as_str().unwrap().to_owned();
        let key = scalar(&server, "SELECT storage_key FROM images WHERE id = $1", &image_id)
            .await
            .unwrap();
        std::fs::remove_file(server.data_dir.path().join("objects").join(&key)).unwrap();
        // A kept image, whose object must survive.
        let kept = api.upload_one("kept.png", common::png(16, 16)).await;
        let kept_key = scalar(&server, "SELECT storage_key FROM images WHERE id = $1", kept["id"].as_str().unwrap())
            .await
            .unwrap();

        // A job whose worker vanished mid-call with no attempt left.
        let done = api
            .expect(Method::POST, "/api/v1/generations?wait=true", Some(json!({"prompt": "A clerk", "size": "256x256"})), StatusCode::OK)
            .await;
        let job_id = done["jobs"][0]["id"].as_str().unwrap().to_owned();
        let job_image = done["jobs"][0]["image_id"].as_str().unwrap().to_owned();
        backend::with_pool!(server.db(), |pool| sqlx::query(
            "UPDATE jobs SET status = 'generating', attempt = max_attempts, lease_owner = 'gone', \
             lease_expires_at = 1, finished_at = NULL WHERE id = $1"
        )
        .bind(&job_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))
        .unwrap();
        backend::with_pool!(server.db(), |pool| sqlx::query(
            "UPDATE images SET status = 'generating' WHERE id = $1"
        )
        .bind(&job_image)
        .execute(pool)
        .await.map(|r| r.rows_affected()))
        .unwrap();

        // The dry run lists it all and touches nothing.
        let said = cleanup(&server, true).await;
        assert!(said.contains(&format!("orphan      would delete {old_key}")), "{said}");
        assert!(!said.contains(young_key), "{said}");
        assert!(said.contains(&format!("would mark image {image_id}")), "{said}");
        assert!(said.contains(&format!("would end job {job_id}")), "{said}");
        assert!(said.contains("dry run: would delete 1 orphaned object(s) (1 younger than the grace period kept), would mark 1 image(s) missing their object (0 marked before), would end 1 stuck job(s)"), "{said}");
        assert!(old.exists() && young.exists());
        assert_eq!(scalar(&server, "SELECT CAST(missing_at AS TEXT) FROM images WHERE id = $1", &image_id).await, None);
        let job = api.expect(Method::GET, &format!("/api/v1/generations/{job_id}"), None, StatusCode::OK).await;
        assert_eq!(job["status"], "generating");

        // The real run.
        let said = cleanup(&server, false).await;
        assert!(said.contains(&format!("orphan      deleted {old_key}")), "{said}");
        assert!(said.contains(&format!("missing     marked image {image_id}")), "{said}");
        assert!(said.contains(&format!("stuck job   ended job {job_id} as error")), "{said}");
        assert!(!old.exists(), "the orphan is gone");
        assert!(young.exists(), "an object younger than the grace period survives");
        assert!(server.data_dir.path().join("objects").join(&kept_key).exists());
        assert!(scalar(&server, "SELECT CAST(missing_at AS TEXT) FROM images WHERE id = $1", &image_id).await.is_some());
        // Its media answers 404, not 500; the image is still listed.
        let resp = api.request(Method::GET, &format!("/media/{image_id}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        api.expect(Method::GET, &format!("/api/v1/images/{image_id}"), None, StatusCode::OK).await;
        let job = api.expect(Method::GET, &format!("/api/v1/generations/{job_id}"), None, StatusCode::OK).await;
        assert_eq!(job["status"], "error", "{job}");
        assert_eq!(job["error"]["code"], "abandoned");
        let image = api.expect(Method::GET, &format!("/api/v1/images/{job_image}"), None, StatusCode::OK).await;
        assert_eq!(image["status"], "error");

        // Nothing left to do the second time; the marked image is not reported again.
        let said = cleanup(&server, false).await;
        assert!(said.contains("cleanup: deleted 0 orphaned object(s) (1 younger than the grace period kept), marked 0 image(s) missing their object (1 marked before), ended 0 stuck job(s)"), "{said}");
        assert!(young.exists());
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cleanup_removes_expired_sessions_and_tokens_only() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "operator").await;
    // Api::new_user signed in once (a session) and made a token; both expire now.
    backend::with_pool!(server.db(), |pool| sqlx::query(
        "UPDATE sessions SET expires_at = 1"
    )
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let live = api
        .expect(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "live"})),
            StatusCode::CREATED,
        )
        .await;
    backend::with_pool!(server.db(), |pool| sqlx::query(
        "UPDATE api_tokens SET expires_at = 1 WHERE id <> $1"
    )
    .bind(live["id"].as_str().unwrap())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let said = cleanup(&server, true).await;
    assert!(
        said.contains(
            "would remove 1 expired sessions, 1 expired access tokens, 0 expired mailed links"
        ),
        "{said}"
    );
    let said = cleanup(&server, false).await;
    assert!(
        said.contains(
            "removed 1 expired sessions, 1 expired access tokens, 0 expired mailed links"
        ),
        "{said}"
    );
    // The live token still works.
    let resp = server
        .client
        .get(server.url("/api/v1/me"))
        .bearer_auth(live["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn cleanup_purges_old_trash_and_keeps_the_variant_cache_under_its_limit() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("TRASH_RETENTION_DAYS", "0")]).await;
    let api = Api::new_user(&server, "operator").await;
    let objects = server.data_dir.path().join("objects");
    let key_of = |id: String| {
        let server = &server;
        async move {
            scalar(server, "SELECT storage_key FROM images WHERE id = $1", &id)
                .await
                .unwrap()
        }
    };

    // Three variants of one image, made one after the other.
    let kept = api.upload_one("kept.png", common::png(300, 300)).await;
    let kept_id = kept["id"].as_str().unwrap().to_owned();
    for w in [64, 96, 128] {
        let resp = api
            .request(
                Method::GET,
                &format!("/media/{kept_id}?w={w}&h={w}&fit=cover&format=png"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let variants: Vec<(String, i64)> = backend::with_pool!(server.db(), |pool| {
        sqlx::query_as(
        "SELECT storage_key, bytes FROM image_variants WHERE image_id = $1 ORDER BY last_used_at"
    )
    .bind(&kept_id)
    .fetch_all(pool)
    .await
    })
    .unwrap();
    assert_eq!(variants.len(), 3);
    // Room for the two most recently used only.
    let limit = variants[1].1 + variants[2].1;

    // An image in the trash past the retention (0 days).
    let trashed = api.upload_one("old.png", common::png(40, 40)).await;
    let trashed_id = trashed["id"].as_str().unwrap().to_owned();
    let trashed_key = key_of(trashed_id.clone()).await;
    api.expect(
        Method::DELETE,
        &format!("/api/v1/images/{trashed_id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let limit_env = [("VARIANT_CACHE_MAX_BYTES", limit.to_string())];
    let said = cleanup_with(&server, true, &limit_env).await;
    assert!(
        said.contains(&format!("trash       would delete image {trashed_id}")),
        "{said}"
    );
    assert!(said.contains("would delete 1 cached variant(s)"), "{said}");
    assert!(objects.join(&trashed_key).exists() && objects.join(&variants[0].0).exists());

    let said = cleanup_with(&server, false, &limit_env).await;
    assert!(
        said.contains(&format!(
            "trash       deleted image {trashed_id} and its variants"
        )),
        "{said}"
    );
    assert!(
        !objects.join(&trashed_key).exists(),
        "the purged image's object is gone"
    );
    let resp = api
        .request(Method::GET, &format!("/api/v1/images/{trashed_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // The least recently used variant went; the cache is within its limit.
    assert!(!objects.join(&variants[0].0).exists());
    assert!(objects.join(&variants[1].0).exists() && objects.join(&variants[2].0).exists());
    let cached: i64 = backend::with_pool!(server.db(), |pool| sqlx::query_scalar(
        "SELECT COALESCE(SUM(bytes), 0) FROM image_variants"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert!(cached <= limit, "{cached} > {limit}");
    // The kept image is whole.
    assert!(objects.join(key_of(kept_id.clone()).await).exists());

    // A cached variant whose object was deleted behind the app's back is reported, and
    // its row forgotten only by the real run; the copy is made again when next asked for.
    let variant_rows = || async {
        backend::with_pool!(server.db(), |pool| sqlx::query_scalar::<_, String>(
            "SELECT storage_key FROM image_variants WHERE image_id = $1 ORDER BY storage_key"
        )
        .bind(&kept_id)
        .fetch_all(pool)
        .await)
        .unwrap()
    };
    let lost = variants[2].0.clone();
    std::fs::remove_file(objects.join(&lost)).unwrap();
    let said = cleanup_with(&server, true, &limit_env).await;
    assert!(
        said.contains(&format!("of image {kept_id} (its object {lost} is gone")),
        "{said}"
    );
    assert!(said.contains("missing     would forget variant"), "{said}");
    assert!(
        said.contains("would delete 0 cached variant(s) (0 bytes) over the cache limit, would forget 1 cached variant(s) missing their object"),
        "{said}"
    );
    assert!(
        variant_rows().await.contains(&lost),
        "a dry run forgets nothing"
    );
    let said = cleanup_with(&server, false, &limit_env).await;
    assert!(said.contains("missing     forgot variant"), "{said}");
    assert!(
        said.contains("forgot 1 cached variant(s) missing their object"),
        "{said}"
    );
    assert_eq!(variant_rows().await, vec![variants[1].0.clone()]);
    let resp = api
        .request(
            Method::GET,
            &format!("/media/{kept_id}?w=128&h=128&fit=cover&format=png"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let again = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((again.width(), again.height()), (128, 128));
    assert_eq!(variant_rows().await.len(), 2, "the copy is cached again");
    let said = cleanup_with(&server, true, &limit_env).await;
    assert!(!said.contains("missing     "), "{said}");
    server.stop().await;
}

#[tokio::test]
async fn files_a_job_left_at_gemini_are_deleted_by_the_cleanup_with_the_owners_key() {
    let gemini = fakes::Fake::gemini().await;
    let base = gemini.base();
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("GEMINI_BASE_URL", base.as_str()),
            // References over 2 KB go through the Files API.
            ("GEMINI_INLINE_MAX_BYTES", "2048"),
            ("JOB_MAX_ATTEMPTS", "1"),
        ],
    )
    .await;
    let api = Api::new_user(&server, "reaper").await;
    api.expect(
        Method::PUT,
        "/api/v1/provider-keys/gemini",
        Some(json!({"api_key": "AIza-fake-gemini-0123456789"})),
        StatusCode::OK,
    )
    .await;
    let reference = api.upload_one("large.png", common::png(200, 200)).await;

    // The provider does not answer the job's own deletion: the file stays behind.
    gemini.fail_deletes(10);
    let resp = api
        .send(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(json!({"prompt": "In this style", "provider": "gemini",
                        "reference_image_ids": [reference["id"]]})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["jobs"][0]["status"], "completed", "{answer}");
    // The job tries twice (after its call, and when its attempt ends; the answer can come
    // between the two): wait for both to have been refused.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while gemini
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count()
        < 2
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the job did not try to delete its file"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = gemini.live_files();
    assert_eq!(left.len(), 1, "the job could not delete its file");
    let name = left[0].clone();
    let env = [("GEMINI_BASE_URL", base.clone())];
    gemini.fail_deletes(0);
    let said = cleanup_with(&server, true, &env).await;
    assert!(
        said.contains(&format!("provider    would delete gemini file {name}")),
        "{said}"
    );
    assert_eq!(
        gemini.live_files(),
        vec![name.clone()],
        "a dry run deletes nothing"
    );

    // Refused again: counted, kept for the next run.
    gemini.fail_deletes(1);
    let said = cleanup_with(&server, false, &env).await;
    assert!(
        said.contains("0 file(s) left at providers (1 failed"),
        "{said}"
    );
    assert_eq!(gemini.live_files(), vec![name.clone()]);

    let said = cleanup_with(&server, false, &env).await;
    assert!(
        said.contains(&format!("provider    deleted gemini file {name}")),
        "{said}"
    );
    assert!(gemini.live_files().is_empty());
    assert!(gemini.deleted_files().contains(&name));
    let authorized = gemini
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .all(|r| r.authorized);
    assert!(authorized, "every deletion carried the owner's key");
    let said = cleanup_with(&server, false, &env).await;
    assert!(!said.contains("provider    "), "nothing left: {said}");

    // Files whose owner removed the key: kept while the provider may still hold them
    // (48 hours), then given up.
    api.expect(
        Method::DELETE,
        "/api/v1/provider-keys/gemini",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let me = api
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let user_id = me["id"].as_str().unwrap().to_owned();
    let now = chrono::Utc::now().timestamp_millis();
    for (id, age_hours) in [("pf-young", 1), ("pf-old", 72)] {
        backend::with_pool!(server.db(), |pool| sqlx::query(
            "INSERT INTO provider_files (id, job_id, user_id, provider, name, created_at) \
             VALUES ($1, NULL, $2, 'gemini', $3, $4)"
        )
        .bind(id)
        .bind(&user_id)
        .bind(format!("files/{id}"))
        .bind(now - age_hours * 3_600_000)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
    }
    let said = cleanup_with(&server, false, &env).await;
    assert!(
        said.contains("1 without a key expired, 1 without a key kept"),
        "{said}"
    );
    for (id, given_up) in [("pf-young", false), ("pf-old", true)] {
        let deleted: Option<i64> = backend::with_pool!(server.db(), |pool| sqlx::query_scalar(
            "SELECT deleted_at FROM provider_files WHERE id = $1"
        )
        .bind(id)
        .fetch_one(pool)
        .await)
        .unwrap();
        assert_eq!(deleted.is_some(), given_up, "{id}");
    }
    server.stop().await;
}

#[tokio::test]
async fn two_server_processes_never_run_the_same_cleanup_at_once() {
    if backend::testing::skip_postgres() {
        return;
    }
    let a = TestServer::start(Dialect::Postgres).await;
    let b = a.start_beside(&[]).await;
    use backend::services::maintenance::{run_exclusive, Trigger};
    for round in 0..5 {
        let (on_a, on_b) = tokio::join!(
            run_exclusive(&a.backend, false, Trigger::Server),
            run_exclusive(&b.backend, false, Trigger::Server)
        );
        let ran = [on_a.unwrap().is_some(), on_b.unwrap().is_some()];
        // Never both; and once the first has finished, the lease is free again.
        assert!(!(ran[0] && ran[1]), "round {round}: both ran");
        assert!(ran[0] || ran[1] || round > 0, "round {round}: neither ran");
    }
    let runs = backend::db::maintenance::recent_runs(a.db(), 100)
        .await
        .unwrap();
    assert!(!runs.is_empty());
    // No two recorded runs overlap in time.
    let mut spans: Vec<(i64, i64)> = runs.iter().map(|r| (r.started_at, r.finished_at)).collect();
    spans.sort_unstable();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlapping runs: {w:?}");
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn the_server_runs_the_cleanup_on_its_schedule_and_the_command_waits_its_turn() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("CLEANUP_INTERVAL_SECONDS", "1"),
            ("CLEANUP_ORPHAN_GRACE_SECONDS", "60"),
        ],
    )
    .await;
    let old = plant(
        &server,
        "uploads/0190a0b0-0000-7000-8000-000000000001/0190a0b0-0000-7000-8000-000000000009.png",
        Duration::from_secs(3600),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while old.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled cleanup never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The run is recorded as it ends.
    let runs = loop {
        let runs = backend::db::maintenance::recent_runs(server.db(), 10)
            .await
            .unwrap();
        if !runs.is_empty() {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        runs.iter().any(|r| r.trigger == "server"
            && !r.dry_run
            && r.error.is_none()
            && r.summary.contains("deleted 1 orphaned object(s)")),
        "{runs:?}"
    );

    // While a run holds the lease, the command says so and exits non-zero.
    backend::with_pool!(server.db(), |pool| sqlx::query(
        "INSERT INTO maintenance_leases (name, owner, expires_at) VALUES ('cleanup', 'elsewhere', $1) \
         ON CONFLICT (name) DO UPDATE SET owner = 'elsewhere', expires_at = $1"
    )
    .bind(backend::now_ms() + 3_600_000)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let mut cmd = binary();
    cmd.arg("cleanup")
        .env("DATA_DIR", server.data_dir.path())
        .env("DATABASE_URL", server.config.database_url.expose());
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another cleanup is running"), "{stderr}");
    server.stop().await;
}

#[tokio::test]
async fn the_operations_overview_is_for_administrators_and_its_numbers_are_on_metrics() {
    on_both(|dialect| async move {
        let server = TestServer::start_with(
            dialect,
            &[
                ("BUILTIN_DELAY_MS", "0"),
                ("VARIANT_CACHE_MAX_BYTES", "1000000"),
            ],
        )
        .await;
        // The first account of an instance is its administrator.
        let admin = Api::new_user(&server, "admin").await;
        let member = Api::new_user(&server, "member").await;
        let me = admin
            .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
            .await;
        assert_eq!(me["is_admin"], true);
        let me = member
            .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
            .await;
        assert_eq!(me["is_admin"], false);
        let refused = member
            .expect(
                Method::GET,
                "/api/v1/admin/operations",
                None,
                StatusCode::NOT_FOUND,
            )
            .await;
        assert_eq!(refused["error"]["code"], "not_found", "{refused}");
        Api::anonymous(&server)
            .expect(
                Method::GET,
                "/api/v1/admin/operations",
                None,
                StatusCode::UNAUTHORIZED,
            )
            .await;

        // The member's library: two uploads (one then trashed), a resized copy, a
        // finished generation and one whose worker vanished.
        let kept = member.upload_one("kept.png", common::png(120, 90)).await;
        let trashed = member.upload_one("old.png", common::png(60, 60)).await;
        let kept_id = kept["id"].as_str().unwrap();
        let trashed_id = trashed["id"].as_str().unwrap();
        member
            .expect(
                Method::DELETE,
                &format!("/api/v1/images/{trashed_id}"),
                None,
                StatusCode::NO_CONTENT,
            )
            .await;
        let resp = member
            .request(
                Method::GET,
                &format!("/media/{kept_id}?w=64&h=64&fit=cover&format=png"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let variant_bytes = resp.bytes().await.unwrap().len() as u64;
        let mut generated_bytes = 0;
        let mut jobs = Vec::new();
        for prompt in ["A clerk", "A baker"] {
            let done = member
                .expect(
                    Method::POST,
                    "/api/v1/generations?wait=true",
                    Some(json!({"prompt": prompt, "size": "256x256"})),
                    StatusCode::OK,
                )
                .await;
            let job = done["jobs"][0].clone();
            assert_eq!(job["status"], "completed", "{job}");
            let image = member
                .expect(
                    Method::GET,
                    &format!("/api/v1/images/{}", job["image_id"].as_str().unwrap()),
                    None,
                    StatusCode::OK,
                )
                .await;
            generated_bytes += image["bytes"].as_u64().unwrap();
            jobs.push(job);
        }
        let stuck = jobs[1]["id"].as_str().unwrap().to_owned();
        backend::with_pool!(server.db(), |pool| sqlx::query(
            "UPDATE jobs SET status = 'generating', attempt = max_attempts, lease_owner = 'gone', \
             lease_expires_at = 1, finished_at = NULL WHERE id = $1"
        )
        .bind(&stuck)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
        let said = cleanup(&server, false).await;
        assert!(
            said.contains(&format!("stuck job   ended job {stuck} as error")),
            "{said}"
        );

        let ops = admin
            .expect(
                Method::GET,
                "/api/v1/admin/operations",
                None,
                StatusCode::OK,
            )
            .await;
        let count = |provider: &str, status: &str| {
            ops["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|j| j["provider"] == provider && j["status"] == status)
                .map(|j| j["count"].as_u64().unwrap())
                .unwrap_or(0)
        };
        assert_eq!(count("builtin", "completed"), 1, "{ops}");
        assert_eq!(count("builtin", "error"), 1, "{ops}");
        assert_eq!(count("builtin", "generating"), 0, "{ops}");
        assert_eq!(ops["failure_window_hours"], 24);
        let failures = ops["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{ops}");
        assert_eq!(failures[0]["provider"], "builtin");
        assert_eq!(failures[0]["reason"], "abandoned");
        assert_eq!(failures[0]["count"], 1);
        assert!(failures[0]["last_message"]
            .as_str()
            .unwrap()
            .contains("no attempt is left"));
        let storage = &ops["storage"];
        assert_eq!(storage["images"], 3, "two generated, one upload: {ops}");
        assert_eq!(
            storage["image_bytes"].as_u64().unwrap(),
            kept["bytes"].as_u64().unwrap() + generated_bytes
        );
        assert_eq!(storage["trash"], 1);
        assert_eq!(storage["trash_bytes"], trashed["bytes"]);
        assert_eq!(storage["variants"], 1);
        assert_eq!(storage["variant_bytes"].as_u64().unwrap(), variant_bytes);
        assert_eq!(storage["variant_limit_bytes"], 1_000_000);
        assert_eq!(storage["missing"], 0);
        assert_eq!(ops["accounts"], 2);
        assert_eq!(ops["disabled_accounts"], 0);
        let run = &ops["cleanup_runs"][0];
        assert_eq!(run["trigger"], "command");
        assert_eq!(run["dry_run"], false);
        assert!(run["error"].is_null());
        assert!(
            run["summary"]
                .as_str()
                .unwrap()
                .starts_with("cleanup: deleted 0 orphaned"),
            "{run}"
        );
        assert!(
            run["summary"]
                .as_str()
                .unwrap()
                .contains("ended 1 stuck job(s)"),
            "{run}"
        );

        // The same numbers, for Prometheus.
        let metrics = server.get("/metrics").await.text().await.unwrap();
        for line in [
            "avatar_jobs{provider=\"builtin\",status=\"completed\"} 1".to_owned(),
            "avatar_jobs{provider=\"builtin\",status=\"error\"} 1".to_owned(),
            "avatar_job_failures_recent{provider=\"builtin\",reason=\"abandoned\"} 1".to_owned(),
            "avatar_storage_objects{kind=\"image\"} 3".to_owned(),
            format!(
                "avatar_storage_bytes{{kind=\"trash\"}} {}",
                trashed["bytes"]
            ),
            format!("avatar_storage_bytes{{kind=\"variant\"}} {variant_bytes}"),
            "avatar_variant_cache_limit_bytes 1000000".to_owned(),
            "avatar_images_missing 0".to_owned(),
            "avatar_accounts{state=\"active\"} 2".to_owned(),
            "avatar_cleanup_last_run_failed 0".to_owned(),
        ] {
            assert!(
                metrics.lines().any(|l| l == line),
                "missing `{line}` in\n{metrics}"
            );
        }
        assert!(metrics.contains("avatar_cleanup_last_run_timestamp_seconds "));
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cleanup_reconciles_an_s3_bucket_in_both_directions() {
    use futures::TryStreamExt;
    let s3 = common::S3Server::start("avatars").await;
    let mut vars = s3.vars();
    vars.push(("STORAGE_URL", "s3://avatars/studio".to_owned()));
    let server_vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start_with(Dialect::Sqlite, &server_vars).await;
    let api = Api::new_user(&server, "s3ops").await;
    let open = |url: &str| {
        let options: Vec<(&'static str, secrecy::SecretString)> = s3
            .vars()
            .into_iter()
            .map(|(k, v)| (k, secrecy::SecretString::from(v)))
            .collect();
        backend::Storage::open(&url.parse().unwrap(), &options).unwrap()
    };
    let ours = open("s3://avatars/studio");
    let bucket = open("s3://avatars");
    let keys = |storage: &backend::Storage| {
        let store = storage.store().clone();
        async move {
            let mut keys: Vec<String> = store
                .list(None)
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .unwrap();
            keys.sort();
            keys
        }
    };

    // An image whose object is deleted behind the app's back, one that stays, an object
    // with no row under our prefix, and another application's object beside it.
    let lost = api.upload_one("lost.png", common::png(32, 32)).await;
    let lost_id = lost["id"].as_str().unwrap().to_owned();
    let lost_key = scalar(
        &server,
        "SELECT storage_key FROM images WHERE id = $1",
        &lost_id,
    )
    .await
    .unwrap();
    let kept = api.upload_one("kept.png", common::png(20, 20)).await;
    let kept_key = scalar(
        &server,
        "SELECT storage_key FROM images WHERE id = $1",
        kept["id"].as_str().unwrap(),
    )
    .await
    .unwrap();
    ours.store()
        .delete(&object_store::path::Path::from(lost_key.as_str()))
        .await
        .unwrap();
    let orphan =
        "uploads/0190a0b0-0000-7000-8000-00000000000a/0190a0b0-0000-7000-8000-00000000000b.png";
    ours.store()
        .put(
            &object_store::path::Path::from(orphan),
            b"left behind".to_vec().into(),
        )
        .await
        .unwrap();
    bucket
        .store()
        .put(
            &object_store::path::Path::from("other-app/notes.txt"),
            b"not ours".to_vec().into(),
        )
        .await
        .unwrap();

    let mut env: Vec<(&str, String)> = vars.clone();
    // Within the grace period (an hour) the orphan is only counted.
    env.push(("CLEANUP_ORPHAN_GRACE_SECONDS", "3600".to_owned()));
    let said = cleanup_with(&server, true, &env).await;
    assert!(
        said.contains("(1 younger than the grace period kept)"),
        "{said}"
    );
    assert!(
        said.contains(&format!("missing     would mark image {lost_id}")),
        "{said}"
    );
    env.pop();
    env.push(("CLEANUP_ORPHAN_GRACE_SECONDS", "0".to_owned()));
    let said = cleanup_with(&server, true, &env).await;
    assert!(
        said.contains(&format!("orphan      would delete {orphan}")),
        "{said}"
    );
    assert_eq!(keys(&ours).await.len(), 2, "a dry run deletes nothing");

    let said = cleanup_with(&server, false, &env).await;
    assert!(
        said.contains(&format!("orphan      deleted {orphan}")),
        "{said}"
    );
    assert!(
        said.contains(&format!("missing     marked image {lost_id}")),
        "{said}"
    );
    assert_eq!(keys(&ours).await, vec![kept_key.clone()]);
    assert!(
        keys(&bucket)
            .await
            .contains(&"other-app/notes.txt".to_owned()),
        "objects outside the prefix are not ours to delete"
    );
    let resp = api
        .request(Method::GET, &format!("/media/{lost_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = api
        .request(
            Method::GET,
            &format!("/media/{}", kept["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    server.stop().await;
}
