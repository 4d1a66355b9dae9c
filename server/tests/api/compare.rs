//! Comparing models (issue 19 §3): one prompt sent to several provider/models at once is
//! one job per target sharing a `batch_id`, with one seed; mistakes are named with the
//! target's place, and nothing is queued for them.

use crate::providers::setup;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn one_prompt_to_three_models_is_three_jobs_in_one_batch() {
    let s = setup(&[]).await;
    let (openai_before, gemini_before) = (
        s.openai.generation_requests().len(),
        s.gemini.generation_requests().len(),
    );
    let answer = s
        .api
        .expect(
            Method::POST,
            "/api/v1/generations?wait=true",
            Some(json!({"prompt": "A lighthouse at dusk", "targets": [
                {"provider": "builtin", "size": "256x256"},
                {"provider": "openai", "model": "gpt-image-1", "quality": "low"},
                {"provider": "gemini"}
            ]})),
            StatusCode::OK,
        )
        .await;
    let jobs = answer["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "{answer}");
    let batch = jobs[0]["batch_id"].as_str().expect("a batch id");
    let providers: Vec<&str> = jobs
        .iter()
        .map(|j| {
            assert_eq!(j["batch_id"], batch);
            assert_eq!(j["status"], "completed", "{j}");
            j["provider"].as_str().unwrap()
        })
        .collect();
    assert_eq!(providers, ["builtin", "openai", "gemini"]);
    let images = answer["images"].as_array().unwrap();
    assert_eq!(images.len(), 3);
    let seeds: Vec<&Value> = images.iter().map(|i| &i["seed"]).collect();
    assert!(
        seeds.iter().all(|s| *s == seeds[0]),
        "one seed for all: {seeds:?}"
    );
    assert!(images.iter().all(|i| i["prompt"] == "A lighthouse at dusk"));
    // Each provider got the prompt once, with its own settings.
    let openai = s.openai.generation_requests();
    assert_eq!(openai.len(), openai_before + 1);
    assert_eq!(
        openai.last().unwrap().body["prompt"],
        "A lighthouse at dusk"
    );
    assert_eq!(openai.last().unwrap().body["quality"], "low");
    assert_eq!(s.gemini.generation_requests().len(), gemini_before + 1);
    // The jobs are listed with their batch.
    let listed = s
        .api
        .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
        .await;
    let in_batch = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["batch_id"] == batch)
        .count();
    assert_eq!(in_batch, 3);

    // A plain generation is no batch.
    let plain = s
        .api
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "A fox"})),
            StatusCode::ACCEPTED,
        )
        .await;
    assert!(
        plain["jobs"][0].get("batch_id").is_none_or(Value::is_null),
        "{plain}"
    );

    // Mistakes, named; nothing queued for any of them.
    let before = listed["items"].as_array().unwrap().len() + 1;
    for (targets, says) in [
        (json!([{"provider": "builtin"}]), "Compare 2 to 6 models"),
        (
            json!([{"provider": "builtin"}, {"provider": "builtin"}]),
            "Target 2 repeats",
        ),
        (
            json!([{"provider": "builtin"}, {"provider": "openai", "model": "dall-e-9"}]),
            "Target 2 (OpenAI)",
        ),
        (
            json!([{"provider": "builtin"}, {"provider": "openai", "model": "dall-e-3", "size": "1x1"}]),
            "Target 2 (OpenAI)",
        ),
        (
            Value::Array(vec![json!({"provider": "builtin"}); 7]),
            "Compare 2 to 6 models",
        ),
    ] {
        let refused = s
            .api
            .expect(
                Method::POST,
                "/api/v1/generations",
                Some(json!({"prompt": "A fox", "targets": targets})),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(refused["error"]["field"], "targets", "{refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    let after = s
        .api
        .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
        .await;
    assert_eq!(after["items"].as_array().unwrap().len(), before);
    let doc = s
        .api
        .expect(Method::GET, "/api/v1/openapi.json", None, StatusCode::OK)
        .await;
    assert!(doc["components"]["schemas"]["Target"].is_object());
    assert!(doc["components"]["schemas"]["GenerationRequest"]["properties"]["targets"].is_object());
    s.server.stop().await;
}

/// The default model (issue 19 §4): without saved settings, a character's avatar and its
/// variations go to the best model the person has a key for; saved settings win; without
/// any key, the built-in generator.
#[tokio::test]
async fn without_saved_settings_an_avatar_uses_the_best_model_with_a_key() {
    let s = setup(&[]).await;
    let ada = s
        .api
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Ada"})),
            StatusCode::CREATED,
        )
        .await;
    let avatar = format!("/api/v1/characters/{}/avatar", ada["id"].as_str().unwrap());
    let made = s
        .api
        .expect(Method::POST, &avatar, Some(json!({})), StatusCode::ACCEPTED)
        .await;
    assert_eq!(made["jobs"][0]["provider"], "gemini", "{made}");
    assert_eq!(made["jobs"][0]["model"], "gemini-2.5-flash-image");

    s.api
        .expect(
            Method::PATCH,
            &format!("/api/v1/characters/{}", ada["id"].as_str().unwrap()),
            Some(json!({"avatar_generation_config": {"provider": "builtin"}})),
            StatusCode::OK,
        )
        .await;
    let made = s
        .api
        .expect(Method::POST, &avatar, Some(json!({})), StatusCode::ACCEPTED)
        .await;
    assert_eq!(made["jobs"][0]["provider"], "builtin", "saved settings win");

    let keyless = crate::common::api::Api::new_user(&s.server, "no-keys").await;
    let bo = keyless
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Bo"})),
            StatusCode::CREATED,
        )
        .await;
    let made = keyless
        .expect(
            Method::POST,
            &format!("/api/v1/characters/{}/avatar", bo["id"].as_str().unwrap()),
            Some(json!({})),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(made["jobs"][0]["provider"], "builtin");
    s.server.stop().await;
}
