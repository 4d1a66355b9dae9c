//! An image as the gallery's pages hand it to the browser (`ImageCard`): what the grid, the
//! lightbox and the live merge read, without what only the API's clients do (the
//! generation's parameters and provenance, the revised prompt, the checksum, the failure,
//! the media address), and with empty fields left out. It is not part of the public API
//! (API.md's `Image` is): it exists so that a server-rendered gallery of 100 generated
//! images does not carry their full records twice (as JSON, then escaped again as a
//! JavaScript string) in the hydration data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{media_url, Image, ImageKind, ImageStatus};

/// See the module's documentation. `Image::from(card)` gives the image back with the
/// left-out fields empty and its media address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageCard {
    pub id: String,
    pub kind: ImageKind,
    pub status: ImageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub favorite: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was_avatar_of: Option<String>,
}

impl From<Image> for ImageCard {
    fn from(i: Image) -> Self {
        Self {
            id: i.id,
            kind: i.kind,
            status: i.status,
            collection_id: i.collection_id,
            character_id: i.character_id,
            parent_id: i.parent_id,
            title: i.title,
            prompt: i.prompt,
            provider: i.provider,
            model: i.model,
            width: i.width,
            height: i.height,
            mime_type: i.mime_type,
            bytes: i.bytes,
            source_url: i.source_url,
            created_at: i.created_at,
            updated_at: i.updated_at,
            deleted_at: i.deleted_at,
            favorite: i.favorite,
            was_avatar_of: i.was_avatar_of,
        }
    }
}

impl From<ImageCard> for Image {
    fn from(c: ImageCard) -> Self {
        Self {
            url: media_url(&c.id, None, None),
            id: c.id,
            kind: c.kind,
            status: c.status,
            collection_id: c.collection_id,
            character_id: c.character_id,
            parent_id: c.parent_id,
            title: c.title,
            prompt: c.prompt,
            revised_prompt: None,
            provider: c.provider,
            model: c.model,
            params: None,
            seed: None,
            generation: None,
            width: c.width,
            height: c.height,
            mime_type: c.mime_type,
            bytes: c.bytes,
            sha256: None,
            source_url: c.source_url,
            error: None,
            created_at: c.created_at,
            updated_at: c.updated_at,
            deleted_at: c.deleted_at,
            favorite: c.favorite,
            was_avatar_of: c.was_avatar_of,
        }
    }
}

/// The images of a list of cards (what a page that reads cards works with).
pub fn images_of(cards: Vec<ImageCard>) -> Vec<Image> {
    cards.into_iter().map(Image::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated image as the API gives it, every field set.
    fn generated() -> Image {
        serde_json::from_value(serde_json::json!({
            "id": "0b5f6c3e-8f0e-4d5c-9a51-6d0f3f4f1a2b",
            "kind": "generated",
            "status": "completed",
            "collection_id": "c1",
            "character_id": "ch1",
            "parent_id": "p1",
            "title": "Bea, smiling",
            "prompt": "A portrait of Bea, smiling warmly, soft light",
            "revised_prompt": "A head-and-shoulders portrait of a woman named Bea …",
            "provider": "openai",
            "model": "gpt-image-1",
            "params": {"size": "1024x1024", "quality": "high", "background": "auto"},
            "seed": 42,
            "generation": null,
            "width": 1024,
            "height": 1024,
            "mime_type": "image/png",
            "bytes": 1_234_567,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "source_url": "https://example.com/bea.png",
            "error": null,
            "url": "/media/0b5f6c3e-8f0e-4d5c-9a51-6d0f3f4f1a2b",
            "created_at": "2026-12-05T06:00:00.123456Z",
            "updated_at": "2026-12-05T06:00:09Z",
            "deleted_at": "2026-12-05T07:00:00Z",
            "favorite": true,
            "was_avatar_of": "ch1"
        }))
        .unwrap()
    }

    #[test]
    fn a_card_gives_back_everything_the_gallery_reads() {
        let image = generated();
        let json = serde_json::to_string(&ImageCard::from(image.clone())).unwrap();
        let back = Image::from(serde_json::from_str::<ImageCard>(&json).unwrap());
        // What only API clients read is left out; everything else comes back as it was,
        // the media address included.
        assert_eq!(
            back,
            Image {
                revised_prompt: None,
                params: None,
                seed: None,
                sha256: None,
                ..image
            }
        );
        assert_eq!(back.url, "/media/0b5f6c3e-8f0e-4d5c-9a51-6d0f3f4f1a2b");
    }

    #[test]
    fn empty_fields_are_left_out_and_read_back_as_empty() {
        let image = Image {
            collection_id: None,
            character_id: None,
            parent_id: None,
            title: None,
            source_url: None,
            deleted_at: None,
            favorite: false,
            was_avatar_of: None,
            ..generated()
        };
        let json = serde_json::to_string(&ImageCard::from(image.clone())).unwrap();
        for absent in [
            "collection_id",
            "title",
            "source_url",
            "deleted_at",
            "favorite",
            "params",
            "sha256",
            "url\"",
        ] {
            assert!(!json.contains(absent), "{absent} in {json}");
        }
        let back = Image::from(serde_json::from_str::<ImageCard>(&json).unwrap());
        assert_eq!(
            (back.title, back.deleted_at, back.favorite),
            (None, None, false)
        );
        assert_eq!(back.prompt, image.prompt);
        // The card of a generated image is a fraction of the API's record.
        let full = serde_json::to_string(&image).unwrap().len();
        assert!(
            json.len() * 2 < full,
            "card {} bytes, image {full}",
            json.len()
        );
    }
}
