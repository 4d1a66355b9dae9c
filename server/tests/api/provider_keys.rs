//! Provider keys: encrypted at rest, shown by their last four characters, tested against a
//! fake provider speaking the real error format, never in a response, a page or the log;
//! and `rotate-secret`.

use crate::common;
use std::{sync::Arc, time::Duration};

use crate::common::{base_vars, binary, sigterm, wait_exit, RunningBinary};
use axum::{
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use backend::crypto::Cipher;
use reqwest::header;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::Mutex;

const OPENAI_KEY: &str = "sk-test-PLAINTEXT-openai-0123456789";
const GEMINI_KEY: &str = "AIzaSy-PLAINTEXT-gemini-wrong-9876";
const PASSWORD: &str = "correct horse battery";

/// A fake of the two providers' "list models" endpoints: accepts [`OPENAI_KEY`] and no
/// Gemini key, answering refusals in the providers' own error format. Records every key
/// it was sent.
async fn fake_provider() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let openai_seen = seen.clone();
    let gemini_seen = seen.clone();
    let app = Router::new()
        .route(
            "/v1/models",
            get(move |headers: HeaderMap| {
                let seen = openai_seen.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    seen.lock().await.push(auth.clone());
                    if auth == format!("Bearer {OPENAI_KEY}") {
                        Json(json!({"object": "list", "data": [{"id": "dall-e-3", "object": "model"}]}))
                            .into_response()
                    } else {
                        (
                            StatusCode::UNAUTHORIZED,
                            Json(json!({"error": {
                                "message": format!("Incorrect API key provided: {}.", auth.trim_start_matches("Bearer ")),
                                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})),
                        )
                            .into_response()
                    }
                }
            }),
        )
        .route(
            "/v1beta/models",
            get(move |headers: HeaderMap| {
                let seen = gemini_seen.clone();
                async move {
                    let key = headers
                        .get("x-goog-api-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    seen.lock().await.push(key);
                    (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": {"code": 400,
                            "message": "API key not valid. Please pass a valid API key.",
                            "status": "INVALID_ARGUMENT",
                            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})),
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

struct Site {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

impl Site {
    async fn signup(base: &str, email: &str) -> Self {
        let http = reqwest::Client::new();
        let resp = http
            .post(format!("{base}/api/v1/auth/signup"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let cookie = common::session_cookie(&resp);
        Self {
            base: base.to_owned(),
            http,
            cookie,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header(header::ORIGIN, &self.base)
    }

    /// The status and the raw body text (searched for the key).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let mut req = self.req(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}", data_dir.join("avatar-studio.db").display())
}

async fn stored_ciphertexts(data_dir: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&sqlite_url(data_dir))
        .await
        .unwrap();
    sqlx::query_as("SELECT user_id, provider, ciphertext FROM provider_keys ORDER BY provider")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_provider_key_never_leaves_the_server_except_to_the_provider() {
    let (fake, seen) = fake_provider().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut cmd = binary();
    for (k, v) in base_vars(data_dir.path()) {
        cmd.env(k, v);
    }
    cmd.env("OPENAI_BASE_URL", format!("{fake}/v1"))
        .env("GEMINI_BASE_URL", &fake)
        // The most verbose logging: nothing may leak even there.
        .env("RUST_LOG", "debug");
    let running = RunningBinary::spawn(cmd);
    let addr = running.wait_listening();
    let base = format!("http://{addr}");
    let ann = Site::signup(&base, "ann@example.com").await;
    let mut bodies = Vec::new();
    let mut record = |(status, body): (u16, String)| {
        bodies.push(body.clone());
        (status, body)
    };

    let (status, body) = record(
        ann.call(
            reqwest::Method::PUT,
            "/api/v1/provider-keys/openai",
            Some(json!({"api_key": OPENAI_KEY})),
        )
        .await,
    );
    assert_eq!(status, 200, "{body}");
    let saved: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(saved["provider"], "openai");
    assert_eq!(saved["last4"], "6789");
    let (status, _) = record(
        ann.call(
            reqwest::Method::PUT,
            "/api/v1/provider-keys/gemini",
            Some(json!({"api_key": GEMINI_KEY})),
        )
        .await,
    );
    assert_eq!(status, 200);
    let (status, body) = record(
        ann.call(
            reqwest::Method::PUT,
            "/api/v1/provider-keys/builtin",
            Some(json!({"api_key": OPENAI_KEY})),
        )
        .await,
    );
    assert_eq!(status, 404, "{body}");
    let (status, body) = record(
        ann.call(
            reqwest::Method::PUT,
            "/api/v1/provider-keys/openai",
            Some(json!({"api_key": "has spaces in it"})),
        )
        .await,
    );
    assert_eq!(status, 400, "{body}");

    let (status, body) = record(
        ann.call(reqwest::Method::GET, "/api/v1/provider-keys", None)
            .await,
    );
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // "Test key": the fake accepts the OpenAI key and refuses the Gemini one.
    let (status, body) = record(
        ann.call(
            reqwest::Method::POST,
            "/api/v1/provider-keys/openai/test",
            None,
        )
        .await,
    );
    assert_eq!((status, body.as_str()), (200, r#"{"ok":true}"#));
    let (status, body) = record(
        ann.call(
            reqwest::Method::POST,
            "/api/v1/provider-keys/gemini/test",
            None,
        )
        .await,
    );
    assert_eq!(status, 422, "{body}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "provider_key_rejected");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("API_KEY_INVALID"));
    assert_eq!(
        *seen.lock().await,
        vec![format!("Bearer {OPENAI_KEY}"), GEMINI_KEY.to_owned()],
        "the provider got the plaintext, once per test"
    );

    // The pages.
    for page in ["/settings", "/", "/studio"] {
        let (status, html) = record(ann.call(reqwest::Method::GET, page, None).await);
        assert_eq!(status, 200, "{page}");
        if page == "/settings" {
            assert!(
                html.contains("6789"),
                "Settings shows the last four characters"
            );
        }
    }
    // The server function the Settings page uses.
    let (status, body) = record(
        ann.call(
            reqwest::Method::POST,
            "/api/list_provider_keys",
            Some(json!({})),
        )
        .await,
    );
    assert_eq!(status, 200, "{body}");

    // The database holds ciphertext only.
    let rows = stored_ciphertexts(data_dir.path()).await;
    assert_eq!(rows.len(), 2);
    for (_, provider, ciphertext) in &rows {
        assert!(
            !contains(ciphertext, OPENAI_KEY) && !contains(ciphertext, GEMINI_KEY),
            "{provider}"
        );
        assert!(!contains(ciphertext, "PLAINTEXT"));
        assert_eq!(ciphertext[0], backend::crypto::VERSION_1);
    }
    let db_file = std::fs::read(data_dir.path().join("avatar-studio.db")).unwrap();
    assert!(!contains(&db_file, "PLAINTEXT"));

    // Tampering: a clear error, not garbage sent to the provider.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&sqlite_url(data_dir.path()))
            .await
            .unwrap();
        let mut tampered = rows[1].2.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x55;
        sqlx::query("UPDATE provider_keys SET ciphertext = $1 WHERE provider = 'openai'")
            .bind(tampered)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (status, body) = record(
        ann.call(
            reqwest::Method::POST,
            "/api/v1/provider-keys/openai/test",
            None,
        )
        .await,
    );
    assert_eq!(status, 422, "{body}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "provider_key_unreadable");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Enter the key again"));
    assert_eq!(
        seen.lock().await.len(),
        2,
        "nothing was sent to the provider"
    );

    for body in &bodies {
        assert!(
            !body.contains("PLAINTEXT"),
            "a response held the key: {body}"
        );
    }
    let mut running = running;
    let _ = running.child.kill();
    let _ = running.child.wait();
    let mut lines = 0;
    while let Ok(line) = running.lines.recv_timeout(Duration::from_millis(200)) {
        lines += 1;
        assert!(
            !line.to_string().contains("PLAINTEXT"),
            "a log line held the key: {line}"
        );
    }
    assert!(lines > 10, "the log was captured ({lines} lines)");
}

#[tokio::test]
async fn rotate_secret_leaves_every_key_readable_under_the_new_secret_only() {
    let (fake, _) = fake_provider().await;
    let data_dir = tempfile::tempdir().unwrap();
    let vars = base_vars(data_dir.path());
    let mut cmd = binary();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    cmd.env("OPENAI_BASE_URL", format!("{fake}/v1"));
    let running = RunningBinary::spawn(cmd);
    let base = format!("http://{}", running.wait_listening());
    for (email, key) in [
        ("ann@example.com", OPENAI_KEY),
        ("bob@example.com", "sk-bob-key-0000111122223333"),
    ] {
        let site = Site::signup(&base, email).await;
        let (status, _) = site
            .call(
                reqwest::Method::PUT,
                "/api/v1/provider-keys/openai",
                Some(json!({"api_key": key})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let secret_file = data_dir.path().join("encryption.secret");
    let old_secret = SecretString::from(std::fs::read_to_string(&secret_file).unwrap());
    let rows_before = stored_ciphertexts(data_dir.path()).await;

    // Not while the server runs: it would go on saving keys under the old secret.
    let mut cmd = binary();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let out = cmd.arg("rotate-secret").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 server process(es) use this database")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        old_secret.expose_secret()
    );
    assert_eq!(stored_ciphertexts(data_dir.path()).await, rows_before);
    assert!(!data_dir.path().join("encryption.secret.new").exists());
    // Stopped as an init system stops it, the server gives its lease up at once.
    let mut running = running;
    sigterm(&running.child);
    assert!(wait_exit(&mut running.child, Duration::from_secs(30)).success());
    drop(running);
    let mut cmd = binary();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let out = cmd.arg("rotate-secret").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("2 provider key(s) re-encrypted"),
        "{stdout}"
    );
    let new_secret = SecretString::from(std::fs::read_to_string(&secret_file).unwrap());
    assert_ne!(new_secret.expose_secret(), old_secret.expose_secret());
    assert!(!data_dir.path().join("encryption.secret.new").exists());

    let old = Cipher::new(&old_secret);
    let new = Cipher::new(&new_secret);
    let rows = stored_ciphertexts(data_dir.path()).await;
    assert_eq!(rows.len(), 2);
    let mut plain = Vec::new();
    for (user_id, provider, ciphertext) in &rows {
        let context = format!("provider-key:{user_id}:{provider}");
        assert!(
            old.decrypt(ciphertext, &context).is_err(),
            "the old secret no longer reads it"
        );
        plain.push(
            new.decrypt(ciphertext, &context)
                .unwrap()
                .expose_secret()
                .to_owned(),
        );
    }
    plain.sort();
    assert_eq!(
        plain,
        vec![
            "sk-bob-key-0000111122223333".to_owned(),
            OPENAI_KEY.to_owned()
        ]
    );

    // With ENCRYPTION_SECRET in the environment, the new one must be given.
    let mut cmd = binary();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    cmd.env("ENCRYPTION_SECRET", new_secret.expose_secret());
    let out = cmd.arg("rotate-secret").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEW_ENCRYPTION_SECRET"));
    // The wrong current secret: refused, and nothing changes.
    let mut cmd = binary();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    cmd.env(
        "ENCRYPTION_SECRET",
        "a-wrong-secret-that-is-long-enough-000000",
    )
    .env(
        "NEW_ENCRYPTION_SECRET",
        "yet-another-secret-that-is-long-enough-111",
    );
    let out = cmd.arg("rotate-secret").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot be decrypted") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(stored_ciphertexts(data_dir.path()).await, rows);

    // And no server starts while a rotation holds the database (here: one that began a
    // moment ago in another process).
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&sqlite_url(data_dir.path()))
            .await
            .unwrap();
        let until = chrono::Utc::now().timestamp_millis() + 60_000;
        sqlx::query("INSERT INTO maintenance_leases (name, owner, expires_at) VALUES ('rotate-secret', 'process 4242', $1)")
            .bind(until)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let mut cmd = binary();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("a secret rotation (process 4242) is running on this database"),
        "{stderr}"
    );
}
