//! An image as the gallery's pages hand it to the browser (`ImageCard`): what the grid, the
//! lightbox and the live merge read, without what only the API's clients do (the
//! generation's parameters and provenance, the revised prompt, the checksum, the failure,
//! the media address). It is not part of the public API (API.md's `Image` is): it exists
//! so that a server-rendered gallery of 100 generated images does not carry their full
//! records twice (as JSON, then escaped again as a JavaScript string) in the hydration data.
//!
//! For the same reason a card is written as an array of its fields, in the order they are
//! declared, not as an object: a hundred cards do not repeat twenty field names each
//! (about a third of the gallery's hydration data). It is read from that array only: the
//! browser reads every struct from an object only (`app::json`), so a card's reader is its
//! own, the mirror of its writer.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{
    de::{self, SeqAccess, Visitor},
    ser::SerializeTuple,
    Deserialize, Deserializer, Serialize, Serializer,
};

use crate::{
    media_url,
    timestamp::{Read, Rfc3339},
    Image, ImageKind, ImageStatus,
};

/// See the module's documentation. `Image::from(card)` gives the image back with the
/// left-out fields empty and its media address.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageCard {
    pub id: String,
    pub kind: ImageKind,
    pub status: ImageStatus,
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
    pub parent_id: Option<String>,
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub mime_type: Option<String>,
    pub bytes: Option<u64>,
    pub source_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub favorite: bool,
    pub was_avatar_of: Option<String>,
}

impl ImageCard {
    /// A display name, as [`Image::label`] gives it.
    pub fn label(&self) -> String {
        crate::library::label_of(self.title.as_deref(), self.prompt.as_deref(), self.kind)
    }

    /// Whether there are bytes to show, as [`Image::has_media`] says.
    pub fn has_media(&self) -> bool {
        self.status.has_media()
    }
}

/// The fields in the order they are declared, as an array (see the module's documentation).
impl Serialize for ImageCard {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields = serializer.serialize_tuple(FIELDS)?;
        fields.serialize_element(&self.id)?;
        fields.serialize_element(&self.kind)?;
        fields.serialize_element(&self.status)?;
        fields.serialize_element(&self.collection_id)?;
        fields.serialize_element(&self.character_id)?;
        fields.serialize_element(&self.parent_id)?;
        fields.serialize_element(&self.title)?;
        fields.serialize_element(&self.prompt)?;
        fields.serialize_element(&self.provider)?;
        fields.serialize_element(&self.model)?;
        fields.serialize_element(&self.width)?;
        fields.serialize_element(&self.height)?;
        fields.serialize_element(&self.mime_type)?;
        fields.serialize_element(&self.bytes)?;
        fields.serialize_element(&self.source_url)?;
        fields.serialize_element(&Rfc3339(&self.created_at))?;
        fields.serialize_element(&Rfc3339(&self.updated_at))?;
        fields.serialize_element(&self.deleted_at.as_ref().map(Rfc3339))?;
        fields.serialize_element(&self.favorite)?;
        fields.serialize_element(&self.was_avatar_of)?;
        fields.end()
    }
}

/// Read from the array [`Serialize`] writes, in the same order.
impl<'de> Deserialize<'de> for ImageCard {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(FIELDS, Fields)
    }
}

const FIELDS: usize = 20;

struct Fields;

impl<'de> Visitor<'de> for Fields {
    type Value = ImageCard;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an image card (an array of {FIELDS} fields)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ImageCard, A::Error> {
        let mut next = Next(&mut seq, 0);
        Ok(ImageCard {
            id: next.field()?,
            kind: next.field()?,
            status: next.field()?,
            collection_id: next.field()?,
            character_id: next.field()?,
            parent_id: next.field()?,
            title: next.field()?,
            prompt: next.field()?,
            provider: next.field()?,
            model: next.field()?,
            width: next.field()?,
            height: next.field()?,
            mime_type: next.field()?,
            bytes: next.field()?,
            source_url: next.field()?,
            created_at: next.field::<Read>()?.0,
            updated_at: next.field::<Read>()?.0,
            deleted_at: next.field::<Option<Read>>()?.map(|Read(t)| t),
            favorite: next.field()?,
            was_avatar_of: next.field()?,
        })
    }
}

/// The card's fields, one after the other; too few is an error that says how many came.
struct Next<'a, A>(&'a mut A, usize);

impl<'de, A: SeqAccess<'de>> Next<'_, A> {
    fn field<T: Deserialize<'de>>(&mut self) -> Result<T, A::Error> {
        let value = self.0.next_element()?;
        let read = self.1;
        self.1 += 1;
        value.ok_or_else(|| de::Error::invalid_length(read, &Fields))
    }
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

    /// The server draws the gallery's first tiles from the cards, the browser from the
    /// images made of them: both name an image and show its picture alike.
    #[test]
    fn a_card_is_named_and_shown_as_its_image_is() {
        let long_prompt = "a".repeat(61);
        for (title, prompt, status) in [
            (
                Some("Bea, smiling"),
                Some("a prompt"),
                ImageStatus::Completed,
            ),
            (
                Some(""),
                Some(long_prompt.as_str()),
                ImageStatus::Generating,
            ),
            (None, None, ImageStatus::Error),
        ] {
            let image = Image {
                title: title.map(str::to_owned),
                prompt: prompt.map(str::to_owned),
                status,
                ..generated()
            };
            let card = ImageCard::from(image.clone());
            assert_eq!(card.label(), image.label());
            assert_eq!(card.has_media(), image.has_media());
        }
        let card = ImageCard::from(Image {
            title: None,
            prompt: Some(long_prompt.clone()),
            ..generated()
        });
        assert_eq!(card.label(), format!("{}…", &long_prompt[..60]));
        assert!(card.has_media());
        let card = ImageCard::from(Image {
            title: None,
            prompt: None,
            status: ImageStatus::Pending,
            ..generated()
        });
        assert_eq!(card.label(), "Generated image");
        assert!(!card.has_media());
    }

    #[test]
    fn a_card_is_an_array_of_its_fields_and_empty_ones_read_back_as_empty() {
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
        assert!(
            json.starts_with(
                "[\"0b5f6c3e-8f0e-4d5c-9a51-6d0f3f4f1a2b\",\"generated\",\"completed\",null,"
            ),
            "{json}"
        );
        assert!(
            json.ends_with(
                ",\"2026-12-05T06:00:00.123456Z\",\"2026-12-05T06:00:09Z\",null,false,null]"
            ),
            "{json}"
        );
        for absent in ["collection_id", "title", "params", "sha256", "url", "seed"] {
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
            json.len() * 5 < full * 2,
            "card {} bytes, image {full}",
            json.len()
        );
    }

    #[test]
    fn a_card_reads_back_as_itself_and_only_from_its_whole_array() {
        let card = ImageCard::from(generated());
        let json = serde_json::to_value(&card).unwrap();
        assert_eq!(
            serde_json::from_value::<ImageCard>(json.clone()).unwrap(),
            card
        );
        let mut short = json.as_array().unwrap().clone();
        short.pop();
        let error = serde_json::from_value::<ImageCard>(short.into()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid length 19, expected an image card (an array of 20 fields)"
        );
        let mut long = json.as_array().unwrap().clone();
        long.push(serde_json::Value::Null);
        assert!(serde_json::from_value::<ImageCard>(long.into()).is_err());
        let object = serde_json::json!({
            "id": card.id, "kind": "generated", "status": "completed",
            "title": card.title, "created_at": "2026-12-05T06:00:00.123456Z",
            "updated_at": "2026-12-05T06:00:09Z", "favorite": true
        });
        let error = serde_json::from_value::<ImageCard>(object).unwrap_err();
        assert!(
            error.to_string().starts_with("invalid type: map"),
            "{error}"
        );
        let swapped = serde_json::to_string(&card)
            .unwrap()
            .replacen("\"generated\"", "7", 1);
        assert!(serde_json::from_str::<ImageCard>(&swapped).is_err());
    }
}
