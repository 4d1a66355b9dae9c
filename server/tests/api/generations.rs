//! The generation pipeline through `/api/v1`, with the built-in provider: jobs and their
//! stages, the synchronous mode, validation against the catalogue, idempotency,
//! cancellation, fairness between people, character avatars, regeneration, and a crash
//! in the middle of a job (the real binary, killed).
//!
//! Over 500 lines because each behaviour of the pipeline is a test of its own.

use crate::common;
use std::time::Duration;

use crate::common::{api::Api, on_both, TestServer};
use backend::db::Dialect;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn job(api: &Api, id: &str) -> Value {
    api.expect(
        Method::GET,
        &format!("/api/v1/generations/{id}"),
        None,
        StatusCode::OK,
    )
    .await
}

/// Polls a job until it reaches a final status (or fails the test after 30 s).
async fn finished(api: &Api, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let j = job(api, id).await;
        if ["completed", "error", "canceled"].contains(&j["status"].as_str().unwrap()) {
            return j;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job never finished: {j}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn media(api: &Api, image_id: &str) -> image::DynamicImage {
    let resp = api
        .request(Method::GET, &format!("/media/{image_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    image::load_from_memory(&resp.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn builtin_jobs_go_through_their_stages_to_a_stored_image() {
    on_both(|dialect| async move {
        let server = TestServer::start_with(dialect, &[("BUILTIN_DELAY_MS", "200")]).await;
        let api = Api::new_user(&server, "maker").await;
        let body = json!({"prompt": "A cheerful gardener with a straw hat", "n": 2, "size": "512x512", "seed": 42});
        let accepted = api.expect(Method::POST, "/api/v1/generations", Some(body), StatusCode::ACCEPTED).await;
        let jobs = accepted["jobs"].as_array().unwrap().clone();
        assert_eq!(jobs.len(), 2);
        for j in &jobs {
            assert_eq!(j["provider"], "builtin");
            assert_eq!(j["model"], "portrait-1");
            assert_eq!(j["max_attempts"], 4);
        }
        // The images exist at once, pending, with the request's parameters.
        let pending = api.expect(Method::GET, &format!("/api/v1/images/{}", jobs[0]["image_id"].as_str().unwrap()), None, StatusCode::OK).await;
        assert_eq!(pending["kind"], "generated");
        assert!(["pending", "generating"].contains(&pending["status"].as_str().unwrap()), "{pending}");
        assert_eq!(pending["params"]["size"], "512x512");

        let mut seeds = Vec::new();
        for j in &jobs {
            let done = finished(&api, j["id"].as_str().unwrap()).await;
            assert_eq!(done["status"], "completed", "{done}");
            assert_eq!(done["attempt"], 1);
            assert!(done["started_at"].is_string() && done["finished_at"].is_string());
            let image_id = done["image_id"].as_str().unwrap();
            let image = api.expect(Method::GET, &format!("/api/v1/images/{image_id}"), None, StatusCode::OK).await;
            assert_eq!(image["status"], "completed");
            assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(512), Some(512)));
            assert_eq!(image["mime_type"], "image/png");
            assert_eq!(image["generation"]["attempts"], 1);
            assert!(image["generation"]["duration_ms"].as_u64().unwrap() >= 200, "{image}");
            seeds.push(image["seed"].as_i64().unwrap());
            let picture = media(&api, image_id).await;
            assert_eq!((picture.width(), picture.height()), (512, 512));

            // Every stage was recorded, in order, with growing sequence numbers.
            let stages = backend::db::jobs::stages(server.db(), done["id"].as_str().unwrap()).await.unwrap();
            let names: Vec<&str> = stages.iter().map(|s| s.1.as_str()).collect();
            assert_eq!(names, ["pending", "generating", "uploading", "completed"]);
            assert!(stages.windows(2).all(|w| w[0].0 < w[1].0 && w[0].3 <= w[1].3));
            assert_eq!(done["seq"].as_i64(), stages.last().map(|s| s.0));
        }
        seeds.sort_unstable();
        assert_eq!(seeds, [42, 43], "each image of a request gets its own seed");

        // The list shows both, newest first.
        let list = api.expect(Method::GET, "/api/v1/generations", None, StatusCode::OK).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        assert!(list["items"][0]["id"].as_str() > list["items"][1]["id"].as_str());
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn every_stage_is_published_to_the_owners_events_only() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("BUILTIN_DELAY_MS", "50")]).await;
    let api = Api::new_user(&server, "watched").await;
    let other = Api::new_user(&server, "elsewhere").await;
    let me: Value = api
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let them: Value = other
        .expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    let mut mine = server
        .backend
        .runtime
        .hub
        .subscribe(me["id"].as_str().unwrap());
    let mut theirs = server
        .backend
        .runtime
        .hub
        .subscribe(them["id"].as_str().unwrap());
    let done = api
        .expect(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(json!({"prompt": "watched", "size": "256x256"})),
            StatusCode::OK,
        )
        .await;
    let job_id = done["jobs"][0]["id"].as_str().unwrap();
    // Read until the completed event (it may follow the answer by a moment).
    let mut events: Vec<Value> = Vec::new();
    while !events
        .iter()
        .any(|e| e["type"] == "job" && e["status"] == "completed")
    {
        let frame = tokio::time::timeout(Duration::from_secs(5), mine.recv())
            .await
            .expect("the completed event arrives")
            .unwrap();
        events.push(serde_json::from_slice(&frame).unwrap());
    }
    assert_eq!(events[0]["type"], "image");
    assert_eq!(events[0]["event"], "created");
    let stages: Vec<(&str, i64)> = events
        .iter()
        .filter(|e| e["type"] == "job" && e["job_id"] == job_id)
        .map(|e| (e["status"].as_str().unwrap(), e["seq"].as_i64().unwrap()))
        .collect();
    let names: Vec<&str> = stages.iter().map(|s| s.0).collect();
    assert_eq!(names, ["pending", "generating", "uploading", "completed"]);
    assert!(
        stages.windows(2).all(|w| w[0].1 < w[1].1),
        "seq grows: {stages:?}"
    );
    let last = events.iter().rev().find(|e| e["type"] == "job").unwrap();
    assert_eq!(
        last["image"]["status"], "completed",
        "the completed event carries the image"
    );
    assert!(theirs.try_recv().is_err(), "another person hears nothing");
    server.stop().await;
}

#[tokio::test]
async fn wait_true_answers_with_the_finished_images() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("BUILTIN_DELAY_MS", "100")]).await;
    let api = Api::new_user(&server, "sync").await;
    let body = json!({"prompt": "A stoic knight in red armour", "size": "256x256"});
    let done = api
        .expect(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(body),
            StatusCode::OK,
        )
        .await;
    assert_eq!(done["jobs"][0]["status"], "completed");
    let image = &done["images"][0];
    assert_eq!(image["status"], "completed");
    assert_eq!(image["prompt"], "A stoic knight in red armour");
    assert_eq!(image["width"], 256);
    // The same prompt and seed make the same picture.
    let seed = image["seed"].as_i64().unwrap();
    let again = api
        .expect(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(
                json!({"prompt": "A stoic knight in red armour", "size": "256x256", "seed": seed}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(again["images"][0]["sha256"], image["sha256"]);
    server.stop().await;

    // A wait longer than the limit answers 202 with the jobs as they are.
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("BUILTIN_DELAY_MS", "5000"),
            ("GENERATION_WAIT_SECONDS", "1"),
        ],
    )
    .await;
    let api = Api::new_user(&server, "impatient").await;
    let started = std::time::Instant::now();
    let partial = api
        .expect(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(json!({"prompt": "slow"})),
            StatusCode::ACCEPTED,
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(partial["jobs"][0]["status"], "generating");
    assert!(partial.get("images").is_none());
    server.stop().await;
}

#[tokio::test]
async fn requests_are_checked_against_the_catalogue_before_anything_is_queued() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let api = Api::new_user(&server, "checker").await;
    let other = Api::new_user(&server, "other").await;
    let theirs = other.upload_one("theirs.png", common::png(32, 32)).await;
    let cases = [
        (json!({"prompt": "  "}), "prompt"),
        (json!({"prompt": "x".repeat(4001)}), "prompt"),
        (
            json!({"prompt": "a", "model": "dall-e-2", "provider": "builtin"}),
            "model",
        ),
        (json!({"prompt": "a", "size": "999x999"}), "size"),
        (json!({"prompt": "a", "quality": "hd"}), "quality"),
        (json!({"prompt": "a", "n": 5}), "n"),
        (json!({"prompt": "a", "n": 0}), "n"),
        (json!({"prompt": "a", "seed": -1}), "seed"),
        (
            json!({"prompt": "a", "reference_image_ids": [theirs["id"]]}),
            "reference_image_ids",
        ),
        (
            json!({"prompt": "a", "reference_image_ids": ["not-an-id"]}),
            "reference_image_ids",
        ),
        (
            json!({"prompt": "a", "character_id": "0190f000-0000-7000-8000-000000000000"}),
            "character_id",
        ),
        (
            json!({"prompt": "a", "collection_id": "nope"}),
            "collection_id",
        ),
    ];
    for (body, field) in cases {
        let err = api
            .expect(
                Method::POST,
                "/api/v1/generations",
                Some(body.clone()),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    // A provider without a key: 422 that points to Settings.
    for provider in ["openai", "gemini"] {
        let err = api
            .expect(
                Method::POST,
                "/api/v1/generations",
                Some(json!({"prompt": "a", "provider": provider})),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(err["error"]["code"], "missing_key");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Settings"),
            "{err}"
        );
    }
    // DALL·E 3 makes one image per request.
    api.expect(
        Method::PUT,
        "/api/v1/provider-keys/openai",
        Some(json!({"api_key": "sk-test-1234567890abcdef"})),
        StatusCode::OK,
    )
    .await;
    let err = api
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "a", "provider": "openai", "n": 2})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(err["error"]["field"], "n");
    let err = api
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "a", "provider": "openai", "size": "256x256"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1792x1024"),
        "{err}"
    );
    // Nothing was queued by any of it.
    let list = api
        .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
        .await;
    assert_eq!(list["items"], json!([]));
    let images = api
        .expect(Method::GET, "/api/v1/images", None, StatusCode::OK)
        .await;
    assert_eq!(images["items"], json!([]));

    // The catalogue says what each provider takes and which have a key.
    let providers = api
        .expect(Method::GET, "/api/v1/providers", None, StatusCode::OK)
        .await;
    let by_id = |id: &str| {
        providers
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("builtin")["has_key"], true);
    assert_eq!(by_id("openai")["has_key"], true);
    assert_eq!(by_id("gemini")["has_key"], false);
    assert_eq!(by_id("openai")["default_model"], "dall-e-3");
    server.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_makes_a_repeat_answer_the_first_jobs() {
    on_both(|dialect| async move {
        let server = TestServer::start_with(dialect, &[("BUILTIN_DELAY_MS", "0")]).await;
        let api = Api::new_user(&server, "retrying").await;
        let body = json!({"prompt": "A lighthouse keeper", "size": "256x256"});
        let send = |key: &'static str, body: Value| {
            api.request(Method::POST, "/api/v1/generations")
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
        };
        let first: Value = send("order-1", body.clone())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let repeat = send("order-1", body.clone()).await.unwrap();
        assert_eq!(repeat.status(), StatusCode::ACCEPTED);
        let repeat: Value = repeat.json().await.unwrap();
        assert_eq!(first["jobs"][0]["id"], repeat["jobs"][0]["id"]);
        // A different request under the same key is refused; another key is a new request.
        let clash = send("order-1", json!({"prompt": "Something else"}))
            .await
            .unwrap();
        assert_eq!(clash.status(), StatusCode::CONFLICT);
        let clash: Value = clash.json().await.unwrap();
        assert_eq!(clash["error"]["code"], "idempotency_key_reused");
        let second: Value = send("order-2", body).await.unwrap().json().await.unwrap();
        assert_ne!(first["jobs"][0]["id"], second["jobs"][0]["id"]);
        let list = api
            .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
            .await;
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            2,
            "two requests, two jobs"
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn jobs_can_be_canceled_queued_or_running() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("BUILTIN_DELAY_MS", "30000"), ("WORKER_CONCURRENCY", "1")],
    )
    .await;
    let api = Api::new_user(&server, "fickle").await;
    let running = api
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "first"})),
            StatusCode::ACCEPTED,
        )
        .await;
    let queued = api
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "second"})),
            StatusCode::ACCEPTED,
        )
        .await;
    let (running, queued) = (
        running["jobs"][0]["id"].as_str().unwrap().to_owned(),
        queued["jobs"][0]["id"].as_str().unwrap().to_owned(),
    );
    // Wait until the first runs (one worker: the second stays queued).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while job(&api, &running).await["status"] != "generating" {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(job(&api, &queued).await["status"], "pending");

    let canceled = api
        .expect(
            Method::POST,
            &format!("/api/v1/generations/{queued}/cancel"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        canceled["status"], "canceled",
        "a queued job is canceled at once"
    );
    let started = std::time::Instant::now();
    api.expect(
        Method::POST,
        &format!("/api/v1/generations/{running}/cancel"),
        None,
        StatusCode::OK,
    )
    .await;
    let stopped = finished(&api, &running).await;
    assert_eq!(stopped["status"], "canceled");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a running job stops long before its 30 s"
    );
    let image = api
        .expect(
            Method::GET,
            &format!("/api/v1/images/{}", stopped["image_id"].as_str().unwrap()),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(image["status"], "canceled");
    // Nothing stored for either, and no row left in a running stage or holding a lease.
    let objects = walk(&server.data_dir.path().join("objects"));
    for id in [&queued, &running] {
        let image_id = job(&api, id).await["image_id"].as_str().unwrap().to_owned();
        assert!(
            !objects.iter().any(|p| p.contains(&image_id)),
            "{objects:?}"
        );
        let owner = avatar_owner(&server, &json!({"id": image_id})).await;
        let row = backend::db::jobs::get(server.db(), &owner, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.status.as_str(), row.lease_owner), ("canceled", None));
    }
    // Canceling a finished job changes nothing; another person's job is not found.
    let again = api
        .expect(
            Method::POST,
            &format!("/api/v1/generations/{running}/cancel"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(again["status"], "canceled");
    let stranger = Api::new_user(&server, "stranger").await;
    stranger
        .expect(
            Method::POST,
            &format!("/api/v1/generations/{running}/cancel"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    stranger
        .expect(
            Method::GET,
            &format!("/api/v1/generations/{running}"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    Api::anonymous(&server)
        .expect(
            Method::GET,
            "/api/v1/generations",
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    server.stop().await;
}

#[tokio::test]
async fn one_persons_many_jobs_do_not_starve_anothers_one() {
    // A queues 50 jobs, then B one; two run at a time.
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("BUILTIN_DELAY_MS", "60"),
            ("WORKER_CONCURRENCY", "2"),
            ("WORKER_PER_USER", "2"),
        ],
    )
    .await;
    let busy = Api::new_user(&server, "busy").await;
    let modest = Api::new_user(&server, "modest").await;
    let mut busy_jobs = Vec::new();
    for i in 0..50 {
        let body = json!({"prompt": format!("portrait {i}"), "size": "256x256"});
        let r = busy
            .expect(
                Method::POST,
                "/api/v1/generations",
                Some(body),
                StatusCode::ACCEPTED,
            )
            .await;
        busy_jobs.push(r["jobs"][0]["id"].as_str().unwrap().to_owned());
    }
    let mine = modest
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "just one", "size": "256x256"})),
            StatusCode::ACCEPTED,
        )
        .await;
    let mine = finished(&modest, mine["jobs"][0]["id"].as_str().unwrap()).await;
    assert_eq!(mine["status"], "completed");
    for id in &busy_jobs {
        assert_eq!(finished(&busy, id).await["status"], "completed");
    }
    let started =
        |stages: &[(i64, String, i64, i64)]| stages.iter().find(|s| s.1 == "generating").unwrap().3;
    let my_stages = backend::db::jobs::stages(server.db(), mine["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(my_stages[0].1, "pending", "{my_stages:?}");
    let (mine_queued, mine_started) = (my_stages[0].3, started(&my_stages));
    // A's jobs ran while A was still queueing them (two at a time); what counts is how many
    // of A's started after B's was queued and before it: at most one per slot freed at that
    // moment (and a little room for a slow machine), where first-come-first-served would
    // make B wait for all of A's remaining jobs (about 40).
    let (mut overtook, mut after) = (0, 0);
    for id in &busy_jobs {
        let at = started(&backend::db::jobs::stages(server.db(), id).await.unwrap());
        if at >= mine_queued && at < mine_started {
            overtook += 1;
        } else if at >= mine_started {
            after += 1;
        }
    }
    // Otherwise there was no backlog for B to jump, and the test would prove nothing.
    assert!(after >= 10, "only {after} of A's jobs were still waiting");
    assert!(
        overtook <= 4,
        "{overtook} of A's jobs started after B's was queued and before it"
    );
    server.stop().await;
}

/// `(start, end)` of each job's run, from its recorded stages.
async fn run_spans(server: &TestServer, ids: &[String]) -> Vec<(i64, i64)> {
    let mut spans = Vec::new();
    for id in ids {
        let stages = backend::db::jobs::stages(server.db(), id).await.unwrap();
        let start = stages.iter().find(|s| s.1 == "generating").unwrap().3;
        let end = stages.iter().find(|s| s.1 == "completed").unwrap().3;
        spans.push((start, end));
    }
    spans.sort_unstable();
    spans
}

#[tokio::test]
async fn the_per_user_and_per_provider_limits_hold() {
    for (limit, per_user) in [("WORKER_PER_USER", true), ("PROVIDER_CONCURRENCY", false)] {
        let server = TestServer::start_with(
            Dialect::Sqlite,
            &[
                ("BUILTIN_DELAY_MS", "150"),
                ("WORKER_CONCURRENCY", "4"),
                ("WORKER_PER_USER", "4"),
                (limit, "1"),
            ],
        )
        .await;
        let mut ids = Vec::new();
        let mut owners = Vec::new();
        let people = if per_user {
            vec!["ada"]
        } else {
            vec!["ada", "bob"]
        };
        for name in people {
            let who = Api::new_user(&server, name).await;
            let r = who
                .expect(
                    Method::POST,
                    "/api/v1/generations",
                    Some(json!({"prompt": "limits", "n": 3, "size": "256x256"})),
                    StatusCode::ACCEPTED,
                )
                .await;
            for j in r["jobs"].as_array().unwrap() {
                ids.push(j["id"].as_str().unwrap().to_owned());
            }
            owners.push(who);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(finished(&owners[i / 3], id).await["status"], "completed");
        }
        let spans = run_spans(&server, &ids).await;
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "{limit}=1, yet two jobs overlapped: {spans:?}"
            );
        }
        server.stop().await;
    }
    // Without such limits, the same jobs do run side by side.
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("BUILTIN_DELAY_MS", "300"),
            ("WORKER_CONCURRENCY", "4"),
            ("WORKER_PER_USER", "4"),
        ],
    )
    .await;
    let ada = Api::new_user(&server, "ada").await;
    let r = ada
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "together", "n": 3, "size": "256x256"})),
            StatusCode::ACCEPTED,
        )
        .await;
    let ids: Vec<String> = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        finished(&ada, id).await;
    }
    let spans = run_spans(&server, &ids).await;
    assert!(spans.windows(2).any(|p| p[0].1 > p[1].0), "{spans:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_character_gets_its_avatar_and_images_can_be_regenerated() {
    on_both(|dialect| async move {
        let server = TestServer::start_with(dialect, &[("BUILTIN_DELAY_MS", "0")]).await;
        let api = Api::new_user(&server, "author").await;
        let bare = api.expect(Method::POST, "/api/v1/characters", Some(json!({"name": "Nobody"})), StatusCode::CREATED).await;
        // No avatar prompt: a portrait from its name (issue 19), not a refusal.
        let made = api.expect(Method::POST, &format!("/api/v1/characters/{}/avatar?wait=true", bare["id"].as_str().unwrap()), None, StatusCode::OK).await;
        assert_eq!(made["images"][0]["prompt"], "A head-and-shoulders portrait of Nobody");

        let reference = api.upload_one("ref.png", common::png(64, 64)).await;
        let character = api.expect(Method::POST, "/api/v1/characters", Some(json!({
            "name": "Ada", "avatar_prompt": "A curious inventor with glasses",
            "avatar_generation_config": {"size": "256x256", "reference_image_ids": [reference["id"]]}
        })), StatusCode::CREATED).await;
        let cid = character["id"].as_str().unwrap();
        let done = api.expect(Method::POST, &format!("/api/v1/characters/{cid}/avatar?wait=true"), None, StatusCode::OK).await;
        let avatar = &done["images"][0];
        assert_eq!(avatar["character_id"], cid);
        assert_eq!(avatar["prompt"], "A curious inventor with glasses");
        assert_eq!(avatar["width"], 256);
        assert_eq!(avatar["generation"]["reference_image_ids"], json!([reference["id"]]));
        let character = api.expect(Method::GET, &format!("/api/v1/characters/{cid}"), None, StatusCode::OK).await;
        assert_eq!(character["avatar_image_id"], avatar["id"]);
        // Stored where DESIGN.md says character avatars go.
        let row = backend::db::images::get(server.db(), &avatar_owner(&server, avatar).await, avatar["id"].as_str().unwrap()).await.unwrap().unwrap();
        let key = row.storage_key.unwrap();
        assert!(key.contains(&format!("/characters/{cid}/avatar_")), "{key}");

        // Regenerate: same parameters, another seed, a parent.
        let again = api.expect(Method::POST, &format!("/api/v1/images/{}/regenerate?wait=true", avatar["id"].as_str().unwrap()), None, StatusCode::OK).await;
        let child = &again["images"][0];
        assert_eq!(child["parent_id"], avatar["id"]);
        assert_eq!(child["params"], avatar["params"]);
        assert_ne!(child["seed"], avatar["seed"]);
        assert_ne!(child["sha256"], avatar["sha256"]);
        // Regenerating does not move the avatar; uploads cannot be regenerated.
        let character = api.expect(Method::GET, &format!("/api/v1/characters/{cid}"), None, StatusCode::OK).await;
        assert_eq!(character["avatar_image_id"], avatar["id"]);
        let err = api.expect(Method::POST, &format!("/api/v1/images/{}/regenerate", reference["id"].as_str().unwrap()), None, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(err["error"]["code"], "not_generated");
        // With its reference in the trash, the avatar cannot be made again: a 400 naming
        // the field, as the OpenAPI document says (Schemathesis found it undocumented).
        api.expect(Method::DELETE, &format!("/api/v1/images/{}", reference["id"].as_str().unwrap()), None, StatusCode::NO_CONTENT).await;
        let err = api.expect(Method::POST, &format!("/api/v1/images/{}/regenerate", avatar["id"].as_str().unwrap()), None, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["error"]["field"], "reference_image_ids");
        let doc = api.expect(Method::GET, "/api/v1/openapi.json", None, StatusCode::OK).await;
        assert!(doc["paths"]["/api/v1/images/{id}/regenerate"]["post"]["responses"]["400"].is_object());
        let stranger = Api::new_user(&server, "stranger").await;
        stranger.expect(Method::POST, &format!("/api/v1/characters/{cid}/avatar"), None, StatusCode::NOT_FOUND).await;
        stranger.expect(Method::POST, &format!("/api/v1/images/{}/regenerate", avatar["id"].as_str().unwrap()), None, StatusCode::NOT_FOUND).await;
        server.stop().await;
    })
    .await;
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

/// The id of the user who owns `image` (the only user whose image it is).
async fn avatar_owner(server: &TestServer, image: &Value) -> String {
    let row = backend::db::images::get_any(server.db(), image["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    row.user_id
}

#[test]
fn jobs_cut_off_by_a_crash_are_finished_by_the_next_process() {
    use crate::common::{binary, RunningBinary};
    use fakes::{Fake, Reply};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(backend::testing::TestDb::new(Dialect::Postgres));
    let fake = rt.block_on(Fake::openai());
    // The first four calls hang (the first process runs four at a time); later ones answer.
    fake.push(vec![Reply::Slow(Duration::from_secs(120)); 4]);
    let data = tempfile::tempdir().unwrap();
    let start = || {
        let mut cmd = binary();
        cmd.env("DATABASE_URL", db.url.expose())
            .env("DATA_DIR", data.path())
            .env("OPENAI_BASE_URL", fake.openai_base())
            .env("WORKER_CONCURRENCY", "4")
            .env("WORKER_PER_USER", "4")
            .env("JOB_LEASE_SECONDS", "2")
            .env("AUTH_RATE_LIMIT_PER_MINUTE", "1000");
        RunningBinary::spawn(cmd)
    };
    let first = start();
    let addr = first.wait_listening();
    let (api, ids) = rt.block_on(async {
        let api = Api::sign_up(
            &format!("http://{addr}"),
            &reqwest::Client::new(),
            "survivor",
        )
        .await;
        api.expect(
            Method::PUT,
            "/api/v1/provider-keys/openai",
            Some(json!({"api_key": "sk-fake-crash-0123456789"})),
            StatusCode::OK,
        )
        .await;
        let mut ids = Vec::new();
        for i in 0..20 {
            let r = api
                .expect(
                    Method::POST,
                    "/api/v1/generations",
                    Some(json!({"prompt": format!("Survivor {i}"), "provider": "openai"})),
                    StatusCode::ACCEPTED,
                )
                .await;
            ids.push(r["jobs"][0]["id"].as_str().unwrap().to_owned());
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while fake.generation_requests().len() < 4 {
            assert!(std::time::Instant::now() < deadline, "four calls under way");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (api, ids)
    });
    // SIGKILL mid-way: four jobs in a call, sixteen queued; the leases stay with the dead.
    drop(first);
    let second = start();
    let addr = second.wait_listening();
    rt.block_on(async {
        let api = api.at(addr);
        let mut retried = 0;
        for id in &ids {
            let done = finished(&api, id).await;
            assert_eq!(done["status"], "completed", "{done}");
            if done["attempt"] == 2 {
                retried += 1;
            }
        }
        assert_eq!(
            retried, 4,
            "the four cut-off jobs were claimed again after their leases expired"
        );
        // Each image has exactly one stored object, and decodes.
        let objects = walk(&data.path().join("objects"));
        for id in &ids {
            let image_id = job(&api, id).await["image_id"].as_str().unwrap().to_owned();
            assert_eq!(
                objects.iter().filter(|p| p.contains(&image_id)).count(),
                1,
                "{objects:?}"
            );
            media(&api, &image_id).await;
        }
        // No job is left in a running stage.
        let counts = backend::db::jobs::count_by_status(&db.db).await.unwrap();
        assert_eq!(
            counts,
            vec![(model::ProviderId::Openai, model::ImageStatus::Completed, 20)]
        );
    });
    // The job's log lines carry its span: job and image ids through every stage.
    let line = second.wait_for("job completed", Duration::from_secs(10));
    assert!(
        ids.iter().any(|id| line["span"]["job_id"] == id.as_str()),
        "{line}"
    );
    assert!(line["span"]["image_id"].is_string(), "{line}");
    drop(second);
    rt.block_on(db.destroy());
}

#[tokio::test]
async fn the_jobs_list_is_paged_like_every_list() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("BUILTIN_DELAY_MS", "0")]).await;
    let api = Api::new_user(&server, "ann").await;
    for i in 0..3 {
        api.expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": format!("portrait {i}"), "n": 2})),
            StatusCode::ACCEPTED,
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/generations?limit=4".to_owned();
    loop {
        let page = api.expect(Method::GET, &path, None, StatusCode::OK).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 4);
        seen.extend(items.iter().map(|j| j["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/generations?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "every job once: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    for bad in ["limit=0", "limit=201", "cursor=nonsense"] {
        let err = api
            .expect(
                Method::GET,
                &format!("/api/v1/generations?{bad}"),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert!(err["error"]["field"].is_string(), "{bad}: {err}");
    }
    server.stop().await;
}
