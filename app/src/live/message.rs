//! Reads a message of `GET /ws` in the browser (issue 17 §2).
//!
//! `ServerMessage` is an internally tagged enum (`"type"` beside the variant's fields).
//! serde reads such an enum by buffering the whole object into its own tree first
//! (`Content`) and then reading the variant from that tree, which compiles a second
//! decoder for every type the variants hold: the job's event, the image and everything in
//! it. Here the tag is read first, and then the same text again as the variant's fields,
//! with the decoders the pages already have (from bytes, like every other answer). The
//! result is what `ServerMessage`'s own deserializer gives (unit-tested below).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use model::{Image, ImageEventKind, ServerMessage};
use serde::Deserialize;

/// The message in `text`, or `None` when it is not one (a message of a newer server, say).
pub(crate) fn read_message(text: &[u8]) -> Option<ServerMessage> {
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
    }
    #[derive(Deserialize)]
    struct Hello {
        #[serde(with = "model::timestamp")]
        server_time: DateTime<Utc>,
    }
    #[derive(Deserialize)]
    struct ImageChanged {
        event: ImageEventKind,
        image: Box<Image>,
    }
    let tag: Tag<'_> = crate::json::from_slice(text).ok()?;
    Some(match &*tag.kind {
        "hello" => {
            let Hello { server_time } = crate::json::from_slice(text).ok()?;
            ServerMessage::Hello { server_time }
        }
        "job" => ServerMessage::Job(crate::json::from_slice(text).ok()?),
        "image" => {
            let ImageChanged { event, image } = crate::json::from_slice(text).ok()?;
            ServerMessage::Image { event, image }
        }
        "resync" => ServerMessage::Resync,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use model::JobEvent;
    use serde_json::json;

    use super::*;

    fn image(id: &str) -> Image {
        serde_json::from_value(json!({
            "id": id, "kind": "generated", "status": "completed", "url": "/media/i",
            "prompt": "A knight's \"copper\" helmet, 東京 🦊",
            "params": {"size": "1024x1024", "nested": [1, {"a": null}]},
            "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:05:00Z",
            "favorite": true,
        }))
        .expect("an image")
    }

    /// Every message the server sends reads as itself, as serde's own reader reads it.
    #[test]
    fn every_message_reads_as_the_server_wrote_it() {
        let job: JobEvent = serde_json::from_value(json!({
            "job_id": "j", "image_id": "i", "character_id": null, "status": "error",
            "seq": 7, "attempt": 2, "next_attempt_at": "2026-12-01T10:06:00Z",
            "error": {"code": "rate_limited", "message": "Slow down"},
        }))
        .expect("a job event");
        let finished = JobEvent {
            image: Some(Box::new(image("i"))),
            ..job.clone()
        };
        let messages = [
            ServerMessage::Hello {
                server_time: "2026-12-01T10:00:00.123Z".parse().expect("a time"),
            },
            ServerMessage::Job(job),
            ServerMessage::Job(finished),
            ServerMessage::Image {
                event: ImageEventKind::Deleted,
                image: Box::new(image("k")),
            },
            ServerMessage::Resync,
        ];
        for message in messages {
            let text = serde_json::to_vec(&message).expect("encodes");
            assert_eq!(
                read_message(&text),
                Some(message),
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    /// The tag may come anywhere, and fields the browser does not know are passed over, as
    /// serde's reader does; what serde's reader refuses is no message here either.
    #[test]
    fn reads_what_serde_reads_and_refuses_what_it_refuses() {
        let texts = [
            r#"{"server_time":"2026-12-01T10:00:00Z","type":"hello","later":1}"#,
            r#"{"type":"resync"}"#,
            r#"{"type":"resync","extra":[1,2]}"#,
            r#"{"type":"image","event":"updated"}"#,
            r#"{"type":"job","job_id":"j"}"#,
            r#"{"type":"hello"}"#,
            r#"{"type":"hello","server_time":"yesterday"}"#,
            r#"{"type":"unknown"}"#,
            r#"{"type":"hello","type":"resync","server_time":"2026-12-01T10:00:00Z"}"#,
            r#"{"type":7}"#,
            r#"{}"#,
            r#"[]"#,
            r#"{"type":"resync"} trailing"#,
            "",
        ];
        for text in texts {
            let by_serde = serde_json::from_slice::<ServerMessage>(text.as_bytes()).ok();
            assert_eq!(read_message(text.as_bytes()), by_serde, "{text}");
        }
    }
}
