//! Edit with a prompt and variations (issue 19 §2): a new image made from one of yours by
//! an instruction, through each provider's editing path (asserted on what the fakes
//! received), with `parent_id` set so that the lineage can be walked both ways; and a
//! character's preset set, each picture from its sheet.

use crate::common::{api::Api, png};
use crate::providers::{image_of, run, setup};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Starts an edit and waits for it; answers (job, image).
async fn edit(api: &Api, image_id: &str, body: Value) -> (Value, Value) {
    let answer = api
        .expect(
            Method::POST,
            &format!("/api/v1/images/{image_id}/edit?wait=true"),
            Some(body),
            StatusCode::OK,
        )
        .await;
    assert_eq!(answer["jobs"][0]["status"], "completed", "{answer}");
    (answer["jobs"][0].clone(), answer["images"][0].clone())
}

#[tokio::test]
async fn an_edit_goes_through_the_providers_editing_path_and_keeps_its_parent() {
    let s = setup(&[]).await;
    let source = s.api.upload_one("source.png", png(64, 64)).await;
    let source_id = source["id"].as_str().unwrap();

    // Gemini: the instruction, then the image inline.
    let (_, edited) = edit(
        &s.api,
        source_id,
        json!({"prompt": "  make the hair blue ", "provider": "gemini"}),
    )
    .await;
    assert_eq!(edited["parent_id"], source_id);
    assert_eq!(edited["prompt"], "make the hair blue");
    assert_eq!(edited["provider"], "gemini");
    let sent = s.gemini.generation_requests().pop().unwrap();
    let parts = sent.body["contents"][0]["parts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(parts[0]["text"], "make the hair blue");
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[1].get("inline_data").is_some(), "{}", parts[1]);

    // A GPT image: with no provider or model named, the source's own; `/images/edits` with
    // the source as the image.
    let job = run(
        &s.api,
        json!({"prompt": "A knight in armour", "provider": "openai", "model": "gpt-image-1"}),
    )
    .await;
    let knight = image_of(&s.api, &job).await;
    let knight_id = knight["id"].as_str().unwrap();
    let (_, helmetless) = edit(&s.api, knight_id, json!({"prompt": "remove the helmet"})).await;
    assert_eq!(helmetless["parent_id"], knight_id);
    assert_eq!(helmetless["model"], "gpt-image-1");
    let sent = s.openai.generation_requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/images/edits");
    assert_eq!(sent.body["prompt"], "remove the helmet");
    let images = sent.body["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["bytes"], knight["bytes"]);

    // DALL·E 3 takes no input image: asked for, it is refused before anything is sent,
    // naming the models that can; a DALL·E 3 picture is edited by OpenAI's first that can.
    let before = s.openai.generation_requests().len();
    let refused = s
        .api
        .expect(
            Method::POST,
            &format!("/api/v1/images/{knight_id}/edit"),
            Some(json!({"prompt": "at night", "provider": "openai", "model": "dall-e-3"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(refused["error"]["field"], "model");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cannot edit") && message.contains("GPT Image 1"),
        "{message}"
    );
    assert_eq!(s.openai.generation_requests().len(), before);
    let job = run(
        &s.api,
        json!({"prompt": "A lighthouse", "provider": "openai", "model": "dall-e-3"}),
    )
    .await;
    let lighthouse = image_of(&s.api, &job).await;
    let (_, stormy) = edit(
        &s.api,
        lighthouse["id"].as_str().unwrap(),
        json!({"prompt": "in a storm"}),
    )
    .await;
    assert_eq!(stormy["model"], "gpt-image-1");
    assert_eq!(
        s.openai.generation_requests().pop().unwrap().path,
        "/v1/images/edits"
    );

    // The lineage, both ways: the children of the source, the parent of the edit.
    let children = s
        .api
        .expect(
            Method::GET,
            &format!("/api/v1/images?parent_id={source_id}"),
            None,
            StatusCode::OK,
        )
        .await;
    let ids: Vec<&str> = children["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [edited["id"].as_str().unwrap()]);
    let bad = s
        .api
        .expect(
            Method::GET,
            "/api/v1/images?parent_id=../x",
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(bad["error"]["field"], "parent_id");

    // What cannot be edited: nothing to say, someone else's image, one in the trash.
    for (body, status) in [
        (json!({"prompt": "  "}), StatusCode::BAD_REQUEST),
        (json!({}), StatusCode::BAD_REQUEST),
    ] {
        s.api
            .expect(
                Method::POST,
                &format!("/api/v1/images/{source_id}/edit"),
                Some(body),
                status,
            )
            .await;
    }
    let stranger = Api::new_user(&s.server, "stranger").await;
    stranger
        .expect(
            Method::POST,
            &format!("/api/v1/images/{source_id}/edit"),
            Some(json!({"prompt": "make it mine"})),
            StatusCode::NOT_FOUND,
        )
        .await;
    s.api
        .expect(
            Method::DELETE,
            &format!("/api/v1/images/{source_id}"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    s.api
        .expect(
            Method::POST,
            &format!("/api/v1/images/{source_id}/edit"),
            Some(json!({"prompt": "again"})),
            StatusCode::NOT_FOUND,
        )
        .await;
    let doc = s
        .api
        .expect(Method::GET, "/api/v1/openapi.json", None, StatusCode::OK)
        .await;
    assert!(doc["paths"]["/api/v1/images/{id}/edit"]["post"].is_object());
    s.server.stop().await;
}

/// Offline: the built-in generator redraws the source's scene (its prompt and seed) with
/// the instruction, for the same character.
#[tokio::test]
async fn a_built_in_edit_of_a_character_keeps_the_character_and_the_seed() {
    let s = setup(&[]).await;
    let ada = s
        .api
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Ada", "appearance": "long curly red hair"})),
            StatusCode::CREATED,
        )
        .await;
    let job = run(
        &s.api,
        json!({"prompt": "On a beach", "character_id": ada["id"], "size": "256x256", "seed": 42}),
    )
    .await;
    let beach = image_of(&s.api, &job).await;
    let (_, edited) = edit(
        &s.api,
        beach["id"].as_str().unwrap(),
        json!({"prompt": "wearing a hat"}),
    )
    .await;
    assert_eq!(edited["provider"], "builtin");
    assert_eq!(edited["character_id"], ada["id"]);
    assert_eq!(edited["seed"], 42, "the source's seed");
    assert_eq!(edited["width"], 256, "the source's size");
    let sheet = &edited["generation"]["character_sheet"];
    assert_eq!(
        sheet["appearance_in_prompt"], false,
        "the image shows the character"
    );
    assert_eq!(sheet["prompt_sent"], "wearing a hat");
    assert_ne!(edited["sha256"], beach["sha256"], "a different picture");
    s.server.stop().await;
}

/// Variations (issue 19 §2): the presets are data (shipped, extended by the
/// administrator's file); one job per chosen preset, each from the character's sheet; the
/// whole set refused by the quotas before any of it starts.
#[tokio::test]
async fn variations_make_one_image_per_preset_from_the_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("variations.json");
    std::fs::write(
        &file,
        r#"[{"id": "armour", "label": "In armour", "prompt": "In shining plate armour"},
            {"id": "pixel-art", "prompt": ""}]"#,
    )
    .unwrap();
    let path = file.display().to_string();
    let s = setup(&[
        ("VARIATIONS_FILE", path.as_str()),
        ("QUOTA_IMAGES_PER_DAY", "4"),
    ])
    .await;
    let presets = s
        .api
        .expect(Method::GET, "/api/v1/variations", None, StatusCode::OK)
        .await;
    let ids: Vec<&str> = presets
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "smiling",
            "serious",
            "three-quarter",
            "profile",
            "full-body",
            "winter",
            "watercolour",
            "armour"
        ]
    );
    let ada = s
        .api
        .expect(
            Method::POST,
            "/api/v1/characters",
            Some(json!({"name": "Ada", "appearance": "long curly red hair"})),
            StatusCode::CREATED,
        )
        .await;
    let path = format!(
        "/api/v1/characters/{}/variations",
        ada["id"].as_str().unwrap()
    );

    let made = s
        .api
        .expect(
            Method::POST,
            &format!("{path}?wait=true"),
            Some(json!({"presets": ["armour", "smiling"]})),
            StatusCode::OK,
        )
        .await;
    let mut prompts: Vec<&str> = made["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["character_id"], ada["id"]);
            assert_eq!(i["status"], "completed");
            assert_eq!(
                i["generation"]["character_sheet"]["appearance_in_prompt"],
                true
            );
            i["prompt"].as_str().unwrap()
        })
        .collect();
    prompts.sort_unstable();
    assert_eq!(
        prompts,
        ["A portrait, smiling warmly", "In shining plate armour"]
    );

    // Mistakes are named; someone else's character is 404.
    let unknown = s
        .api
        .expect(
            Method::POST,
            &path,
            Some(json!({"presets": ["pixel-art"]})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(unknown["error"]["field"], "presets");
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no variation 'pixel-art'"));
    let stranger = Api::new_user(&s.server, "stranger").await;
    stranger
        .expect(Method::POST, &path, Some(json!({})), StatusCode::NOT_FOUND)
        .await;

    // Two images left today: a set of three is refused whole, nothing queued.
    let before = s
        .api
        .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
        .await;
    s.api
        .expect(
            Method::POST,
            &path,
            Some(json!({"presets": ["serious", "profile", "winter"]})),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    let after = s
        .api
        .expect(Method::GET, "/api/v1/generations", None, StatusCode::OK)
        .await;
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        before["items"].as_array().unwrap().len()
    );
    s.server.stop().await;
}
