//! The character sheet (issue 19 §1): a character's appearance and identity references,
//! checked and versioned, and every generation that names the character built from them —
//! asserted on the requests the fake providers received (Gemini, a GPT image model,
//! DALL·E 3) and on the provenance kept with each image.

use crate::common::{api::Api, on_both, png, TestServer};
use crate::providers::{image_of, run, setup};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const APPEARANCE: &str = "Long curly red hair, green eyes, a scar over the left eyebrow";

async fn create(api: &Api, body: Value) -> Value {
    api.expect(
        Method::POST,
        "/api/v1/characters",
        Some(body),
        StatusCode::CREATED,
    )
    .await
}

async fn patch(api: &Api, id: &str, body: Value, status: StatusCode) -> Value {
    api.expect(
        Method::PATCH,
        &format!("/api/v1/characters/{id}"),
        Some(body),
        status,
    )
    .await
}

#[tokio::test]
async fn the_sheet_is_checked_and_its_version_grows_when_it_changes() {
    on_both(|dialect| async move {
        // One job of a person at a time: the order the jobs finish in is the order their
        // completions are committed (which decides the avatar below).
        let server = TestServer::start_with(dialect, &[("WORKER_PER_USER", "1")]).await;
        let api = Api::new_user(&server, "sheets").await;
        let other = Api::new_user(&server, "someone-else").await;
        let mine: Vec<String> = {
            let mut ids = Vec::new();
            for i in 0..5 {
                let img = api.upload_one(&format!("{i}.png"), png(20 + i, 20)).await;
                ids.push(img["id"].as_str().unwrap().to_owned());
            }
            ids
        };
        let theirs = other.upload_one("theirs.png", png(30, 30)).await;

        let ada = create(
            &api,
            json!({"name": "Ada", "appearance": format!("  {APPEARANCE} "), "identity_reference_ids": [mine[0], mine[1], mine[0]]}),
        )
        .await;
        assert_eq!(ada["appearance"], APPEARANCE);
        assert_eq!(ada["identity_reference_ids"], json!([mine[0], mine[1]]));
        assert_eq!(ada["sheet_version"], 1);
        let id = ada["id"].as_str().unwrap().to_owned();

        // Another person's image, five images, a malformed id, a long appearance: refused,
        // naming the field, and nothing changes.
        for (body, field) in [
            (json!({"identity_reference_ids": [theirs["id"]]}), "identity_reference_ids"),
            (json!({"identity_reference_ids": mine}), "identity_reference_ids"),
            (json!({"identity_reference_ids": ["../x"]}), "identity_reference_ids"),
            (json!({"appearance": "x".repeat(2001)}), "appearance"),
        ] {
            let refused = patch(&api, &id, body, StatusCode::BAD_REQUEST).await;
            assert_eq!(refused["error"]["field"], field, "{refused}");
        }
        let refused = api
            .expect(Method::POST, "/api/v1/characters", Some(json!({"name": "Bo", "identity_reference_ids": [theirs["id"]]})), StatusCode::BAD_REQUEST)
            .await;
        assert_eq!(refused["error"]["field"], "identity_reference_ids");
        // An image in the trash is not a reference.
        api.expect(Method::DELETE, &format!("/api/v1/images/{}", mine[4]), None, StatusCode::NO_CONTENT)
            .await;
        patch(&api, &id, json!({"identity_reference_ids": [mine[4]]}), StatusCode::BAD_REQUEST).await;

        // The name is not the sheet; the appearance and the references are.
        let renamed = patch(&api, &id, json!({"name": "Ada L."}), StatusCode::OK).await;
        assert_eq!(renamed["sheet_version"], 1);
        let same = patch(&api, &id, json!({"appearance": APPEARANCE}), StatusCode::OK).await;
        assert_eq!(same["sheet_version"], 1, "the same appearance again");
        let v2 = patch(&api, &id, json!({"appearance": "Short grey hair"}), StatusCode::OK).await;
        assert_eq!(v2["sheet_version"], 2);
        let v3 = patch(&api, &id, json!({"identity_reference_ids": [mine[2]]}), StatusCode::OK).await;
        assert_eq!(v3["sheet_version"], 3);
        assert_eq!(v3["appearance"], "Short grey hair");
        // `null`: back to the avatar (none yet); `[]`: none at all.
        let back = patch(&api, &id, json!({"identity_reference_ids": null}), StatusCode::OK).await;
        assert_eq!(back["identity_reference_ids"], json!([]));
        api.expect(Method::PUT, &format!("/api/v1/characters/{id}/avatar"), Some(json!({"image_id": mine[3]})), StatusCode::OK)
            .await;
        let with_avatar = api.expect(Method::GET, &format!("/api/v1/characters/{id}"), None, StatusCode::OK).await;
        assert_eq!(with_avatar["identity_reference_ids"], json!([mine[3]]), "the avatar by default");
        let none = patch(&api, &id, json!({"identity_reference_ids": []}), StatusCode::OK).await;
        assert_eq!(none["identity_reference_ids"], json!([]));
        // Someone else's character is not there for them.
        other
            .expect(Method::PATCH, &format!("/api/v1/characters/{id}"), Some(json!({"appearance": "x"})), StatusCode::NOT_FOUND)
            .await;

        // Without an avatar prompt, "make an avatar" still works: a portrait from the name
        // and description, with the appearance.
        let bo = create(&api, json!({"name": "Bo", "description": "a lighthouse keeper", "appearance": "Bald, with a grey beard"})).await;
        let made = api
            .expect(Method::POST, &format!("/api/v1/characters/{}/avatar?wait=true", bo["id"].as_str().unwrap()), None, StatusCode::OK)
            .await;
        let image = &made["images"][0];
        assert_eq!(image["prompt"], "A head-and-shoulders portrait of Bo: a lighthouse keeper");
        assert_eq!(
            image["generation"]["character_sheet"]["prompt_sent"],
            "A head-and-shoulders portrait of Bo: a lighthouse keeper. The character: Bald, with a grey beard"
        );
        let bo_now = api.expect(Method::GET, &format!("/api/v1/characters/{}", bo["id"].as_str().unwrap()), None, StatusCode::OK).await;
        assert_eq!(bo_now["avatar_image_id"], image["id"]);
        // Two at once: the first to finish becomes the avatar, the other is a candidate.
        let two = api
            .expect(Method::POST, &format!("/api/v1/characters/{}/avatar?wait=true", bo["id"].as_str().unwrap()), Some(json!({"n": 2})), StatusCode::OK)
            .await;
        let jobs = two["jobs"].as_array().unwrap();
        assert!(jobs.iter().all(|j| j["status"] == "completed" && j["set_avatar"] == true), "{two}");
        let bo_now = api.expect(Method::GET, &format!("/api/v1/characters/{}", bo["id"].as_str().unwrap()), None, StatusCode::OK).await;
        let (avatar, other): (Vec<&Value>, Vec<&Value>) =
            jobs.iter().partition(|j| j["image_id"] == bo_now["avatar_image_id"]);
        assert_eq!((avatar.len(), other.len()), (1, 1), "{bo_now}");
        let finished = |j: &Value| j["finished_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert!(finished(avatar[0]) <= finished(other[0]), "{two}");

        // The OpenAPI document names the fields.
        let doc = api.expect(Method::GET, "/api/v1/openapi.json", None, StatusCode::OK).await;
        for schema in ["Character", "CreateCharacterRequest", "UpdateCharacterRequest"] {
            let props = &doc["components"]["schemas"][schema]["properties"];
            assert!(props.get("appearance").is_some(), "{schema}");
            assert!(props.get("identity_reference_ids").is_some(), "{schema}");
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_character_generation_sends_the_appearance_and_the_identity_references() {
    let s = setup(&[]).await;
    let face = s.api.upload_one("face.png", png(40, 40)).await;
    let pose = s.api.upload_one("pose.png", png(60, 30)).await;
    let ada = create(
        &s.api,
        json!({"name": "Ada", "appearance": APPEARANCE, "identity_reference_ids": [face["id"]]}),
    )
    .await;
    let expected = format!("Waving from a boat. The character: {APPEARANCE}");

    // Gemini: the prompt with the appearance, the identity reference inline after it.
    let job = run(
        &s.api,
        json!({"prompt": "Waving from a boat", "provider": "gemini", "character_id": ada["id"]}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    let sent = s.gemini.generation_requests().pop().unwrap();
    let parts = sent.body["contents"][0]["parts"].as_array().unwrap();
    assert_eq!(parts[0]["text"], expected);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[1].get("inline_data").is_some(), "{}", parts[1]);
    let image = image_of(&s.api, &job).await;
    assert_eq!(
        image["prompt"], "Waving from a boat",
        "what was typed stays the prompt"
    );
    assert_eq!(
        image["generation"]["reference_image_ids"],
        json!([face["id"]])
    );
    let sheet = &image["generation"]["character_sheet"];
    assert_eq!(sheet["character_id"], ada["id"]);
    assert_eq!(sheet["version"], 1);
    assert_eq!(sheet["appearance_in_prompt"], true);
    assert_eq!(sheet["identity_reference_ids"], json!([face["id"]]));
    assert_eq!(sheet["prompt_sent"], expected);

    // GPT Image: an edit with the request's own reference first, then the identity one,
    // at high input fidelity.
    let job = run(
        &s.api,
        json!({"prompt": "Waving from a boat", "provider": "openai", "model": "gpt-image-1",
        "character_id": ada["id"], "reference_image_ids": [pose["id"]]}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    let edit = s.openai.generation_requests().pop().unwrap();
    assert_eq!(edit.path, "/v1/images/edits");
    assert_eq!(edit.body["prompt"], expected);
    assert_eq!(edit.body["input_fidelity"], "high");
    let sizes: Vec<&Value> = edit.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["bytes"])
        .collect();
    assert_eq!(sizes, [&pose["bytes"], &face["bytes"]]);
    let image = image_of(&s.api, &job).await;
    assert_eq!(
        image["generation"]["reference_image_ids"],
        json!([pose["id"], face["id"]])
    );

    // DALL·E 3 takes no images: the description only, and the provenance says so.
    let job = run(
        &s.api,
        json!({"prompt": "Waving from a boat", "provider": "openai", "model": "dall-e-3", "character_id": ada["id"]}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    let sent = s.openai.generation_requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/images/generations");
    assert_eq!(sent.body["prompt"], expected);
    assert!(sent.body.get("image").is_none());
    let image = image_of(&s.api, &job).await;
    assert_eq!(
        image["generation"]["character_sheet"]["identity_reference_ids"],
        json!([])
    );

    // A new appearance is used from then on, by a regeneration too (version 2).
    patch(
        &s.api,
        ada["id"].as_str().unwrap(),
        json!({"appearance": "Short grey hair"}),
        StatusCode::OK,
    )
    .await;
    let again = s
        .api
        .expect(
            Method::POST,
            &format!(
                "/api/v1/images/{}/regenerate?wait=true",
                image["id"].as_str().unwrap()
            ),
            None,
            StatusCode::OK,
        )
        .await;
    let regenerated = &again["images"][0];
    assert_eq!(regenerated["prompt"], "Waving from a boat");
    assert_eq!(regenerated["generation"]["character_sheet"]["version"], 2);
    assert_eq!(
        s.openai.generation_requests().pop().unwrap().body["prompt"],
        "Waving from a boat. The character: Short grey hair"
    );

    // An identity reference sent to the trash is left out, not an error.
    s.api
        .expect(
            Method::DELETE,
            &format!("/api/v1/images/{}", face["id"].as_str().unwrap()),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let job = run(
        &s.api,
        json!({"prompt": "Asleep", "provider": "gemini", "character_id": ada["id"]}),
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");
    let parts = s.gemini.generation_requests().pop().unwrap().body["contents"][0]["parts"].clone();
    assert_eq!(parts.as_array().unwrap().len(), 1, "{parts}");

    // An appearance that makes the prompt too long for the model is the prompt's problem,
    // said before anything is queued.
    patch(
        &s.api,
        ada["id"].as_str().unwrap(),
        json!({"appearance": "a".repeat(2000)}),
        StatusCode::OK,
    )
    .await;
    let before = s.openai.generation_requests().len();
    let refused = s
        .api
        .expect(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "b".repeat(2500), "provider": "openai", "model": "dall-e-3", "character_id": ada["id"]})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(refused["error"]["field"], "prompt");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("appearance"),
        "{refused}"
    );
    assert_eq!(s.openai.generation_requests().len(), before);
    s.server.stop().await;
}

/// The Character page's "Save settings" form sets provider, model, size and quality; the
/// reference images and the seed that a script set stay.
#[tokio::test]
async fn saving_avatar_settings_in_the_page_keeps_what_the_api_set() {
    let server = TestServer::start(backend::db::Dialect::Sqlite).await;
    let resp = server
        .client
        .post(server.url("/api/v1/auth/signup"))
        .header(reqwest::header::ORIGIN, &server.base)
        .json(&json!({"email": "pages@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let cookie = crate::common::session_cookie(&resp);
    let api = Api::for_session(&server.base, &server.client, &cookie).await;
    let reference = api.upload_one("ref.png", png(32, 32)).await;
    let ada = create(
        &api,
        json!({"name": "Ada", "avatar_generation_config": {"provider": "builtin", "reference_image_ids": [reference["id"]], "seed": 7}}),
    )
    .await;
    let id = ada["id"].as_str().unwrap();
    // The form, as the browser posts it (before hydration too).
    let resp = server
        .client
        .post(server.url("/api/save_avatar_settings"))
        .header(reqwest::header::ORIGIN, &server.base)
        .header(reqwest::header::COOKIE, &cookie)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("id", id),
            ("model", "builtin/portrait-1"),
            ("size", "512x512"),
            ("quality", ""),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success() || resp.status().is_redirection(),
        "{}",
        resp.status()
    );
    let now = api
        .expect(
            Method::GET,
            &format!("/api/v1/characters/{id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        now["avatar_generation_config"],
        json!({"provider": "builtin", "model": "portrait-1", "size": "512x512", "reference_image_ids": [reference["id"]], "seed": 7})
    );
    server.stop().await;
}
