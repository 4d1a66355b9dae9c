//! `json::from_slice` reads what `serde_json::from_slice` reads, as the same values, and
//! refuses what it refuses with the same message; the one difference is a struct written as
//! an array of its fields, which nothing of ours writes.

use std::{borrow::Cow, collections::BTreeMap, fmt::Debug};

use model::{Character, CreatedToken, Image, ImageCard, JobEvent, Page, ServerMessage, TokenInfo};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::{json, Value};

use super::from_slice;

/// Reads `text` both ways and checks that the two agree, in value or in error.
fn agree<T: DeserializeOwned + PartialEq + Debug>(text: &str) -> Result<T, String> {
    let ours = from_slice::<T>(text.as_bytes()).map_err(|e| e.to_string());
    let theirs = serde_json::from_slice::<T>(text.as_bytes()).map_err(|e| e.to_string());
    assert_eq!(ours, theirs, "{text}");
    ours
}

fn image() -> Value {
    json!({
        "id": "i1", "kind": "generated", "status": "completed", "url": "/media/i1",
        "prompt": "A knight's \"copper\" helmet, 東京 🦊", "title": null,
        "params": {"size": "1024x1024", "nested": [1, 2.5, -3, {"a": null, "b": [true]}]},
        "seed": 42, "width": 1024, "height": 1024, "bytes": 1_234_567,
        "created_at": "2026-12-01T10:00:00.123456Z", "updated_at": "2026-12-01T10:05:00Z",
        "deleted_at": null, "favorite": true, "generation": null,
    })
}

#[test]
fn the_records_of_every_page_read_as_serde_json_reads_them() {
    let read = agree::<Image>(&image().to_string()).expect("an image");
    assert_eq!(read.seed, Some(42));
    assert_eq!(
        read.params.as_ref().map(|p| p["nested"][3]["b"][0] == true),
        Some(true)
    );

    let character = json!({
        "id": "c1", "name": "Bea", "description": null, "avatar_image_id": "i1",
        "avatar_url": "/media/i1", "avatar_prompt": null,
        "avatar_generation_config": {"provider": "openai", "model": "gpt-image-1"},
        "identity_reference_ids": ["i1", "i2"], "sheet_version": 3,
        "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
    });
    let character = agree::<Character>(&character.to_string()).expect("a character");
    assert_eq!(
        (
            character.sheet_version,
            character.identity_reference_ids.len()
        ),
        (3, 2)
    );

    // A page of cards: each card is the array its own writer makes.
    let card = ImageCard::from(read);
    let page = Page {
        items: vec![card.clone(), card],
        next_cursor: Some("c_1&=2".into()),
    };
    let text = serde_json::to_string(&page).expect("JSON");
    assert_eq!(agree::<Page<ImageCard>>(&text).expect("a page"), page);

    let job = json!({
        "job_id": "j", "image_id": "i1", "character_id": null, "status": "completed",
        "seq": 7, "attempt": 2, "image": image(),
    });
    let job = agree::<JobEvent>(&job.to_string()).expect("a job event");
    assert_eq!(job.image.map(|i| i.id), Some("i1".into()));
}

#[test]
fn enums_flattened_and_tagged_records_and_plain_values_read_alike() {
    // Internally tagged (buffered by serde), flattened, externally tagged, unit variants.
    let hello = r#"{"type":"hello","server_time":"2026-12-01T10:00:00Z"}"#;
    assert!(matches!(
        agree::<ServerMessage>(hello),
        Ok(ServerMessage::Hello { .. })
    ));
    let image_changed = json!({"type": "image", "event": "updated", "image": image()});
    assert!(agree::<ServerMessage>(&image_changed.to_string()).is_ok());
    let token = json!({
        "id": "t1", "name": "ci", "prefix": "as_12", "scopes": ["read", "generate"],
        "created_at": "2026-12-01T10:00:00Z", "last_used_at": null, "expires_at": null,
        "token": "as_secret",
    });
    let token = agree::<CreatedToken>(&token.to_string()).expect("a token");
    assert_eq!(
        (token.info.name.as_str(), token.token.as_str()),
        ("ci", "as_secret")
    );
    assert_eq!(agree::<Result<u32, String>>(r#"{"Ok":7}"#), Ok(Ok(7)));
    assert_eq!(
        agree::<Result<u32, String>>(r#"{"Err":"no"}"#),
        Ok(Err("no".into()))
    );
    let map = agree::<BTreeMap<String, Option<Vec<(u8, f64)>>>>(
        r#"{"a":null,"b":[[1,2.5],[255,-1e3]],"\u00e9\n":[]}"#,
    )
    .expect("a map");
    assert_eq!(map.len(), 3);
    assert_eq!(agree::<Value>(&image().to_string()), Ok(image()));
    assert_eq!(agree::<Option<Box<str>>>("null"), Ok(None));
}

#[test]
fn a_borrowed_string_is_borrowed_when_it_has_no_escapes() {
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(borrow)]
        kind: Cow<'a, str>,
    }
    let plain: Tag<'_> = from_slice(br#"{"kind":"job"}"#).expect("a tag");
    assert!(matches!(plain.kind, Cow::Borrowed("job")));
    let escaped: Tag<'_> = from_slice(br#"{"kind":"j\u006fb"}"#).expect("a tag");
    assert_eq!(escaped.kind, "job");
}

#[test]
fn bad_text_is_refused_with_serde_json_s_own_message() {
    let image = image().to_string();
    let bad = [
        String::new(),
        " ".into(),
        "{".into(),
        "null".into(),
        format!("{image} x"),
        format!("{image}{{}}"),
        image.replace("\"generated\"", "\"painted\""),
        image.replace("\"width\":1024", "\"width\":-1"),
        image.replace("\"seed\":42", "\"seed\":\"42\""),
        image.replace("\"id\":\"i1\",", ""),
        image.replace("\"id\":\"i1\"", "\"id\":\"i1\",\"id\":\"i2\""),
        image.replace("2026-12-01T10:05:00Z", "yesterday"),
        image.replace('}', ""),
        "{\"id\":\"i\u{0}\"}".into(),
    ];
    for text in bad {
        assert!(agree::<Image>(&text).is_err(), "{text}");
    }
    assert!(agree::<TokenInfo>(r#"{"id":1}"#).is_err());
    assert!(agree::<Result<u32, String>>(r#"{"Maybe":1}"#).is_err());
    assert!(agree::<ServerMessage>(r#"{"type":"gone"}"#).is_err());
}

#[test]
fn a_struct_written_as_an_array_of_its_fields_is_refused() {
    #[derive(Debug, Deserialize)]
    struct Point {
        x: i32,
    }
    assert!(serde_json::from_slice::<Point>(b"[1]").is_ok());
    for array in ["[1]", "[]"] {
        let error = from_slice::<Point>(array.as_bytes()).expect_err("not a struct here");
        assert!(
            error
                .to_string()
                .starts_with("invalid type: sequence, expected struct Point"),
            "{error}"
        );
    }
    assert_eq!(
        from_slice::<Point>(br#"{"x":1}"#).map(|p| p.x).ok(),
        Some(1)
    );
}
