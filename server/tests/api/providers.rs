//! The OpenAI and Gemini clients inside the real pipeline, against the fake providers
//! (real HTTP on loopback, the providers' wire formats): successes with base64 and with
//! URLs, reference images (OpenAI edits, Gemini inline data and the Files API), every
//! failure of shared/reference retried or not as it should be, provider hints honoured,
//! files deleted; and the official Python SDKs against the same fakes.
//!
//! Over 500 lines because every failure of the reference is one test here.

use crate::common;
use std::time::Duration;

use crate::common::{api::Api, TestServer};
use backend::db::Dialect;
use fakes::{Fake, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub(crate) struct Setup {
    pub(crate) server: TestServer,
    pub(crate) api: Api,
    pub(crate) openai: Fake,
    pub(crate) gemini: Fake,
}

pub(crate) async fn setup(extra: &[(&str, &str)]) -> Setup {
    setup_on(Dialect::Sqlite, extra).await
}

/// [`setup`] on either database.
pub(crate) async fn setup_on(dialect: Dialect, extra: &[(&str, &str)]) -> Setup {
    let openai = Fake::openai().await;
    let gemini = Fake::gemini().await;
    let (o, g) = (openai.openai_base(), gemini.base());
    let mut vars = vec![
        ("OPENAI_BASE_URL", o.as_str()),
        ("GEMINI_BASE_URL", g.as_str()),
        // The fake's image URLs are on loopback.
        ("OUTBOUND_ALLOW_PRIVATE", "true"),
        ("RETRY_BASE_MS", "20"),
        ("RETRY_MAX_MS", "200"),
    ];
    vars.extend_from_slice(extra);
    let server = TestServer::start_with(dialect, &vars).await;
    let api = Api::new_user(&server, "artist").await;
    for (provider, key) in [
        ("openai", "sk-fake-openai-0123456789"),
        ("gemini", "AIza-fake-gemini-0123456789"),
    ] {
        api.expect(
            Method::PUT,
            &format!("/api/v1/provider-keys/{provider}"),
            Some(json!({"api_key": key})),
            StatusCode::OK,
        )
        .await;
    }
    Setup {
        server,
        api,
        openai,
        gemini,
    }
}

/// Starts a generation and waits for it to finish (`?wait=true`); answers its job.
pub(crate) async fn run(api: &Api, body: Value) -> Value {
    let resp = api
        .send(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(body.clone()),
        )
        .await;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body} → {answer}");
    answer["jobs"][0].clone()
}

pub(crate) async fn image_of(api: &Api, job: &Value) -> Value {
    api.expect(
        Method::GET,
        &format!("/api/v1/images/{}", job["image_id"].as_str().unwrap()),
        None,
        StatusCode::OK,
    )
    .await
}

async fn stage_names(server: &TestServer, job: &Value) -> Vec<String> {
    backend::db::jobs::stages(server.db(), job["id"].as_str().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.1)
        .collect()
}

#[tokio::test]
async fn openai_images_arrive_as_base64_as_urls_and_from_references() {
    let s = setup(&[]).await;
    // DALL·E 3, the default: base64 asked for and decoded.
    let job = run(
        &s.api,
        json!({"prompt": "A lighthouse at dawn", "provider": "openai"}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["model"], "dall-e-3");
    let image = image_of(&s.api, &job).await;
    assert_eq!(
        image["revised_prompt"],
        "A revised prompt, as DALL·E 3 writes them."
    );
    assert!(image["generation"]["provider_request_id"]
        .as_str()
        .unwrap()
        .starts_with("req_fake_"));
    assert_eq!(
        stage_names(&s.server, &job).await,
        ["pending", "generating", "uploading", "completed"]
    );
    let sent = &s.openai.generation_requests()[0];
    assert_eq!(sent.path, "/v1/images/generations");
    assert_eq!(sent.body["model"], "dall-e-3");
    assert_eq!(sent.body["n"], 1);
    assert_eq!(sent.body["size"], "1024x1024");
    assert_eq!(sent.body["quality"], "standard");
    assert_eq!(sent.body["response_format"], "b64_json");
    assert!(sent.authorized);

    // A URL answer (as OpenAI-compatible servers give) is downloaded: a stage of its own.
    s.openai.push([Reply::Url]);
    let job = run(&s.api, json!({"prompt": "A lighthouse at dusk", "provider": "openai", "quality": "hd", "size": "1792x1024"})).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        stage_names(&s.server, &job).await,
        [
            "pending",
            "generating",
            "downloading",
            "uploading",
            "completed"
        ]
    );

    // GPT Image with reference images: an edit, `image[]` parts, high input fidelity.
    let a = s.api.upload_one("a.png", common::png(40, 40)).await;
    let b = s.api.upload_one("b.png", common::png(50, 50)).await;
    let job = run(
        &s.api,
        json!({"prompt": "The same person, smiling", "provider": "openai", "model": "gpt-image-1",
        "quality": "high", "reference_image_ids": [a["id"], b["id"]]}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    let edit = s.openai.generation_requests().pop().unwrap();
    assert_eq!(edit.path, "/v1/images/edits");
    assert_eq!(edit.body["model"], "gpt-image-1");
    assert_eq!(edit.body["input_fidelity"], "high");
    assert_eq!(edit.body["quality"], "high");
    let parts = edit.body["images"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts
        .iter()
        .all(|p| p["field"] == "image[]" && p["content_type"] == "image/png"));
    let image = image_of(&s.api, &job).await;
    assert_eq!(
        image["generation"]["reference_image_ids"],
        json!([a["id"], b["id"]])
    );
    assert_eq!(image["generation"]["usage"]["total_tokens"], 4200);

    // Every JSON body our client sent passed OpenAI's own schema…
    assert_eq!(s.openai.schema_violations(), Vec::<String>::new());
    // …and that check does refuse what OpenAI would refuse.
    let bad = reqwest::Client::new()
        .post(format!("{}/images/generations", s.openai.openai_base()))
        .bearer_auth("sk-x")
        .json(&json!({"prompt": "x", "n": 0, "quality": "ultra"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.openai.schema_violations().len(), 1);
    s.server.stop().await;
}

#[tokio::test]
async fn openai_failures_are_retried_only_when_that_can_help() {
    let s = setup(&[("JOB_MAX_ATTEMPTS", "3"), ("PROVIDER_TIMEOUT_SECONDS", "1")]).await;
    let prompt = |p: &str| json!({"prompt": p, "provider": "openai"});
    // Passing trouble: retried, and the image arrives.
    for (case, replies) in [
        (
            "429 then 503",
            vec![
                Reply::RateLimited {
                    retry_after_ms: Some(30),
                    retry_after_s: None,
                },
                Reply::ServerError(503),
            ],
        ),
        (
            "bare 429 then 500",
            vec![Reply::RateLimitedBare, Reply::ServerError(500)],
        ),
        ("malformed JSON", vec![Reply::MalformedJson]),
        ("truncated base64", vec![Reply::TruncatedBase64]),
        ("an expired URL", vec![Reply::UrlNotFound]),
        ("a slow answer", vec![Reply::Slow(Duration::from_secs(3))]),
    ] {
        let failures = replies.len();
        s.openai.push(replies);
        let job = run(&s.api, prompt(case)).await;
        assert_eq!(job["status"], "completed", "{case}: {job}");
        assert_eq!(job["attempt"], failures + 1, "{case}");
        assert_eq!(job["error"], Value::Null, "{case}");
        let stages = stage_names(&s.server, &job).await;
        assert_eq!(
            stages.iter().filter(|s| *s == "generating").count(),
            failures + 1,
            "{case}: {stages:?}"
        );
    }
    // Trouble that retrying cannot fix: one attempt, and a sentence that says what to do.
    for (case, reply, code, says) in [
        ("bad key", Reply::InvalidKey, "invalid_key", "Settings"),
        ("safety", Reply::Safety, "safety_refusal", "safety"),
        ("quota", Reply::QuotaExhausted, "quota_exhausted", "billing"),
        ("bad request", Reply::BadRequest, "bad_request", "size"),
    ] {
        s.openai.push([reply]);
        let job = run(&s.api, prompt(case)).await;
        assert_eq!(job["status"], "error", "{case}: {job}");
        assert_eq!(job["attempt"], 1, "{case}");
        assert_eq!(job["error"]["code"], code, "{case}");
        let message = job["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{case}: {message}");
        assert!(!message.contains("sk-fake"), "never the key: {message}");
        let image = image_of(&s.api, &job).await;
        assert_eq!(image["status"], "error");
        assert_eq!(image["error"]["code"], code);
    }
    // Passing trouble that does not pass: the attempts run out.
    s.openai.push([
        Reply::ServerError(503),
        Reply::ServerError(503),
        Reply::ServerError(503),
    ]);
    let job = run(&s.api, prompt("always down")).await;
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_u64()),
        (Some("error"), Some(3)),
        "{job}"
    );
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Gave up after 3 attempts"),
        "{job}"
    );

    // The numbers an operator watches.
    let metrics = s.server.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"avatar_job_failures_total{provider="openai",reason="invalid_key"}"#,
        r#"avatar_job_retries_total{provider="openai",reason="rate_limited"}"#,
        r#"avatar_jobs{provider="openai",status="completed"}"#,
        r#"avatar_provider_call_seconds_count{provider="openai",outcome="ok"}"#,
    ] {
        assert!(metrics.contains(line), "no {line} in /metrics");
    }
    s.server.stop().await;
}

#[tokio::test]
async fn the_providers_wait_hints_are_honoured() {
    let s = setup(&[]).await;
    // (provider, the 429, the least wait before the next attempt in ms)
    let cases = [
        (
            "openai",
            &s.openai,
            Reply::RateLimited {
                retry_after_ms: Some(1500),
                retry_after_s: Some(9),
            },
            1500,
        ),
        (
            "openai",
            &s.openai,
            Reply::RateLimited {
                retry_after_ms: None,
                retry_after_s: Some(1),
            },
            1000,
        ),
        (
            "gemini",
            &s.gemini,
            Reply::RateLimited {
                retry_after_ms: None,
                retry_after_s: Some(1),
            },
            1000,
        ),
    ];
    for (provider, fake, reply, least) in cases {
        fake.push([reply]);
        let job = run(&s.api, json!({"prompt": "patience", "provider": provider})).await;
        assert_eq!(job["status"], "completed", "{job}");
        let stages = backend::db::jobs::stages(s.server.db(), job["id"].as_str().unwrap())
            .await
            .unwrap();
        // pending, generating (failed), pending (waiting), generating, uploading, completed
        let failed_at = stages[2].3;
        let retried_at = stages[3].3;
        assert_eq!(
            (stages[2].1.as_str(), stages[3].1.as_str()),
            ("pending", "generating")
        );
        assert!(
            retried_at - failed_at >= least,
            "{provider}: retried after {} ms",
            retried_at - failed_at
        );
        assert!(
            retried_at - failed_at < 5000,
            "retry-after-ms wins over retry-after"
        );
    }
    s.server.stop().await;
}

#[tokio::test]
async fn gemini_images_with_inline_and_uploaded_references_and_every_failure() {
    // References over 2 KB go through the Files API.
    let s = setup(&[
        ("GEMINI_INLINE_MAX_BYTES", "2048"),
        ("JOB_MAX_ATTEMPTS", "2"),
    ])
    .await;
    let small = s.api.upload_one("small.png", common::png(8, 8)).await;
    let large = s.api.upload_one("large.png", common::png(200, 200)).await;
    s.gemini.set_processing_polls(2);
    let job = run(
        &s.api,
        json!({"prompt": "A portrait in this style", "provider": "gemini", "size": "3:4",
        "reference_image_ids": [small["id"], large["id"]]}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["model"], "gemini-2.5-flash-image");
    let sent = s.gemini.generation_requests().pop().unwrap();
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-2.5-flash-image:generateContent"
    );
    assert_eq!(
        sent.body["generationConfig"]["imageConfig"]["aspectRatio"],
        "3:4"
    );
    let parts = sent.body["contents"][0]["parts"].as_array().unwrap();
    assert_eq!(parts[0]["text"], "A portrait in this style");
    assert!(
        parts[1].get("inline_data").is_some(),
        "the small one inline: {}",
        parts[1]
    );
    assert!(
        parts[2].get("file_data").is_some(),
        "the large one as a file: {}",
        parts[2]
    );
    let polls = s
        .gemini
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/files/"))
        .count();
    assert!(polls >= 2, "waited for ACTIVE ({polls} polls)");
    // The file the job uploaded is gone once the job has ended.
    assert_eq!(s.gemini.live_files(), Vec::<String>::new());
    assert_eq!(s.gemini.deleted_files().len(), 1);
    let image = image_of(&s.api, &job).await;
    assert_eq!(image["revised_prompt"], "Here is your image.");
    assert_eq!(image["generation"]["usage"]["totalTokenCount"], 1300);

    // A job that fails also deletes what it uploaded.
    s.gemini.set_processing_polls(0);
    s.gemini.push([Reply::BadRequest]);
    let job = run(
        &s.api,
        json!({"prompt": "Fails", "provider": "gemini", "reference_image_ids": [large["id"]]}),
    )
    .await;
    assert_eq!(job["error"]["code"], "bad_request", "{job}");
    assert_eq!(s.gemini.live_files(), Vec::<String>::new());
    assert_eq!(s.gemini.deleted_files().len(), 2);

    for (case, replies, status, code) in [
        (
            "bad key",
            vec![Reply::InvalidKey],
            "error",
            Some("invalid_key"),
        ),
        (
            "daily quota",
            vec![Reply::QuotaExhausted],
            "error",
            Some("quota_exhausted"),
        ),
        (
            "image safety",
            vec![Reply::Safety],
            "error",
            Some("safety_refusal"),
        ),
        (
            "blocked prompt",
            vec![Reply::PromptBlocked],
            "error",
            Some("safety_refusal"),
        ),
        (
            "text only",
            vec![Reply::TextOnly],
            "error",
            Some("no_image"),
        ),
        ("bare 429", vec![Reply::RateLimitedBare], "completed", None),
        (
            "overloaded",
            vec![Reply::ServerError(503)],
            "completed",
            None,
        ),
        ("malformed", vec![Reply::MalformedJson], "completed", None),
        ("truncated", vec![Reply::TruncatedBase64], "completed", None),
    ] {
        s.gemini.push(replies);
        let job = run(&s.api, json!({"prompt": case, "provider": "gemini"})).await;
        assert_eq!(job["status"], status, "{case}: {job}");
        assert_eq!(job["error"]["code"].as_str(), code, "{case}: {job}");
        assert_eq!(
            job["attempt"],
            if status == "error" { 1 } else { 2 },
            "{case}"
        );
    }
    assert!(
        s.gemini.requests().iter().all(|r| r.authorized),
        "the key went with every request (our client sends it with the upload too)"
    );
    s.server.stop().await;
}

/// The official SDKs (PyPI `openai`, `google-genai`) against the fakes: if they accept the
/// fakes' answers and send what the fakes expect, the fakes speak the protocols.
#[tokio::test]
async fn the_official_python_sdks_accept_the_fakes() {
    let openai = Fake::openai().await;
    let gemini = Fake::gemini().await;
    // In the script's order: three successes, then a 429, a 401 and a safety refusal.
    openai.push([
        Reply::Ok,
        Reply::Ok,
        Reply::Ok,
        Reply::RateLimited {
            retry_after_ms: Some(10),
            retry_after_s: None,
        },
        Reply::InvalidKey,
        Reply::Safety,
    ]);
    // Two successes, a per-minute 429, a safety refusal.
    gemini.push([
        Reply::Ok,
        Reply::Ok,
        Reply::RateLimited {
            retry_after_ms: None,
            retry_after_s: Some(2),
        },
        Reply::Safety,
    ]);
    gemini.set_processing_polls(1);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../fakes/sdk/check_sdks.py");
    let python = std::env::var("TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .arg(openai.openai_base())
        .arg(gemini.base())
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run {python} ({e}): scripts/setup.sh --test installs the SDKs")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK check failed:\n{stdout}\n{stderr}"
    );
    for check in [
        "openai b64_json",
        "openai url",
        "openai edit",
        "openai 429",
        "openai 401",
        "openai safety",
        "gemini inline",
        "gemini file",
        "gemini 429",
        "gemini safety",
        "gemini delete",
    ] {
        assert!(
            stdout.lines().any(|l| l == format!("ok {check}")),
            "missing '{check}' in:\n{stdout}"
        );
    }
    // The SDKs' own requests passed OpenAI's schema, and the file they uploaded is gone.
    assert_eq!(openai.schema_violations(), Vec::<String>::new());
    assert_eq!(gemini.live_files(), Vec::<String>::new());
}
