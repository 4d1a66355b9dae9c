//! The image library (API.md, "Characters and collections", "Images"): images, characters,
//! collections, and the requests that change them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// How an image came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    Generated,
    Uploaded,
    Imported,
}

/// Where an image is in its life: a generated image goes through the stages in order;
/// uploaded and imported images are `completed` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    Pending,
    Generating,
    Downloading,
    Uploading,
    Completed,
    Error,
    Canceled,
}

string_enum!(ImageKind, "an image kind", {
    Generated => "generated",
    Uploaded => "uploaded",
    Imported => "imported",
});

string_enum!(ImageStatus, "an image status", {
    Pending => "pending",
    Generating => "generating",
    Downloading => "downloading",
    Uploading => "uploading",
    Completed => "completed",
    Error => "error",
    Canceled => "canceled",
});

impl ImageStatus {
    /// Whether an image in this state has bytes to show.
    pub fn has_media(self) -> bool {
        self == ImageStatus::Completed
    }
}

impl ImageStatus {
    /// Whether the image has reached its final state.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Error | Self::Canceled)
    }

    /// Whether a worker is running the job: the stages between `pending` and the end.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Generating | Self::Downloading | Self::Uploading)
    }
}

/// Why an image failed: a stable code and a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageFailure {
    pub code: String,
    pub message: String,
}

/// One image of the library (API.md, `Image`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Image {
    pub id: String,
    pub kind: ImageKind,
    pub status: ImageStatus,
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
    pub parent_id: Option<String>,
    /// A name the person gave it.
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub revised_prompt: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// The generation parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub params: Option<serde_json::Value>,
    pub seed: Option<i64>,
    /// How a generated image was made: usage, duration, attempts, references.
    #[serde(default)]
    pub generation: Option<crate::Provenance>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub mime_type: Option<String>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    /// Where an imported image came from.
    pub source_url: Option<String>,
    pub error: Option<ImageFailure>,
    /// `/media/{id}`: the bytes (owner only); add `?w=&h=&fit=&format=` for a variant.
    pub url: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Set while the image is in the trash.
    #[serde(default, with = "crate::timestamp::option")]
    pub deleted_at: Option<DateTime<Utc>>,
    pub favorite: bool,
    /// The character this image was the avatar of when it went to the trash: restoring
    /// it can make it that character's avatar again (`PUT /characters/{id}/avatar`).
    #[serde(default)]
    pub was_avatar_of: Option<String>,
}

impl Image {
    /// A display name: the title, else the start of the prompt, else the kind.
    pub fn label(&self) -> String {
        label_of(self.title.as_deref(), self.prompt.as_deref(), self.kind)
    }

    /// Whether there are bytes to show.
    pub fn has_media(&self) -> bool {
        self.status.has_media()
    }
}

/// An image's display name (`Image::label`, `ImageCard::label`): the title, else the start
/// of the prompt, else the kind.
pub(crate) fn label_of(title: Option<&str>, prompt: Option<&str>, kind: ImageKind) -> String {
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        return t.to_owned();
    }
    if let Some(p) = prompt.filter(|p| !p.is_empty()) {
        // The first 60 characters (the slice is cut where the 61st begins).
        return match p.char_indices().nth(60) {
            Some((cut, _)) => format!("{}…", &p[..cut]),
            None => p.to_owned(),
        };
    }
    match kind {
        ImageKind::Generated => "Generated image".to_owned(),
        ImageKind::Uploaded => "Uploaded image".to_owned(),
        ImageKind::Imported => "Imported image".to_owned(),
    }
}

/// An avatar subject (API.md, `Character`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Character {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub avatar_image_id: Option<String>,
    /// `/media/{avatar_image_id}`, or an external address not yet imported.
    pub avatar_url: Option<String>,
    pub avatar_prompt: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub avatar_generation_config: Option<serde_json::Value>,
    /// The character sheet: the canonical physical description (face, hair, build,
    /// distinguishing marks, usual clothing), threaded into every prompt that names the
    /// character as "{prompt}. The character: {appearance}".
    #[serde(default)]
    pub appearance: Option<String>,
    /// Up to 4 images sent as the character's identity to models that take reference
    /// images: the chosen ones, else the current avatar.
    #[serde(default)]
    pub identity_reference_ids: Vec<String>,
    /// Whether the identity references were chosen (else they are the avatar).
    #[serde(default)]
    pub identity_references_chosen: bool,
    /// Grows whenever the appearance or the identity references change; an image's
    /// provenance names the version it was made with.
    #[serde(default = "first_sheet")]
    pub sheet_version: i64,
    /// The public link to the character's current avatar (`/avatars/{token}`, with the
    /// same `w`, `h`, `fit`, `format` and `q` as `/media`), while the owner keeps it
    /// published: anyone may open it, it does not expire, and revoking it makes it 404.
    #[serde(default)]
    pub public_avatar_url: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub updated_at: DateTime<Utc>,
}

fn first_sheet() -> i64 {
    1
}

/// A named group of images (API.md, `Collection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Collection {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Images in it that are not in the trash.
    pub image_count: u64,
    /// The chosen cover, else the newest image in it.
    pub cover_image_id: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// Reads a field that may be absent (leave it), `null` (clear it) or a value (set it).
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCharacterRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub avatar_prompt: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub avatar_generation_config: Option<serde_json::Value>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub appearance: Option<String>,
    /// At most 4 of the person's finished images; absent: the avatar, once there is one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 4))]
    pub identity_reference_ids: Option<Vec<String>>,
}

/// `PATCH /api/v1/characters/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateCharacterRequest {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub avatar_prompt: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub avatar_generation_config: Option<Option<serde_json::Value>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 2000))]
    pub appearance: Option<Option<String>>,
    /// `null`: back to the current avatar; `[]`: send no identity images.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>, max_items = 4))]
    pub identity_reference_ids: Option<Option<Vec<String>>>,
}

/// `PUT /api/v1/characters/{id}/avatar`: use one of your images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetAvatarRequest {
    pub image_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCollectionRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
}

/// `PATCH /api/v1/collections/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateCollectionRequest {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    /// One of the collection's images, or `null` for the newest.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cover_image_id: Option<Option<String>>,
}

/// `PATCH /api/v1/images/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateImageRequest {
    /// Move into a collection, or `null` to take it out.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub collection_id: Option<Option<String>>,
    #[serde(default)]
    pub favorite: Option<bool>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub title: Option<Option<String>>,
}

/// The filters of `GET /api/v1/images`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ImageFilter {
    #[serde(default)]
    pub collection_id: Option<String>,
    #[serde(default)]
    pub character_id: Option<String>,
    /// Images made from this one (its edits and regenerations).
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub kind: Option<ImageKind>,
    #[serde(default)]
    pub status: Option<ImageStatus>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub favorite: Option<bool>,
    /// Words to find in the prompt or title.
    #[serde(default)]
    pub q: Option<String>,
    /// The trash instead of the library.
    #[serde(default)]
    pub trashed: Option<bool>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    /// To the trash.
    Delete,
    Move,
    /// Out of the trash.
    Restore,
    /// Deleted for good, with their files and variants: only images in the trash.
    Purge,
}

/// `POST /api/v1/images/bulk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkRequest {
    pub action: BulkAction,
    pub ids: Vec<String>,
    /// For `move`: the collection, or `null` to take the images out of theirs.
    #[serde(default)]
    pub collection_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkFailure {
    pub id: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResult {
    /// The ids that were changed.
    pub done: Vec<String>,
    pub failed: Vec<BulkFailure>,
}

/// `POST /api/v1/characters/{id}/public-avatar`: the link (absolute; takes `w`, `h`,
/// `fit`, `format` and `q` like `/media`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicAvatar {
    pub url: String,
}

/// `DELETE /api/v1/trash`: how many images were deleted for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmptyTrashResult {
    pub deleted: u64,
}

/// `POST /api/v1/images/import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub url: String,
    #[serde(default)]
    pub collection_id: Option<String>,
    #[serde(default)]
    pub character_id: Option<String>,
}

/// `POST /api/v1/characters/{id}/avatar/import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportUrlRequest {
    pub url: String,
}

/// `POST /api/v1/images/{id}/share`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareRequest {
    /// 1 to 720 (30 days).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 720))]
    pub expires_in_hours: u32,
}

/// A link to one image that needs no sign-in until it expires or its owner revokes it
/// (`POST /api/v1/images/{id}/share`, `GET /api/v1/images/{id}/shares`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareLink {
    /// Revoke with `DELETE /api/v1/shares/{id}`.
    pub id: String,
    pub image_id: String,
    /// An absolute link that needs no sign-in while the link is active.
    pub url: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub expires_at: DateTime<Utc>,
    /// When its owner revoked it; it no longer opens the image.
    #[serde(default, with = "crate::timestamp::option")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ShareLink {
    /// Whether the link still opens the image at `now` (it may be in the trash, though).
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// `POST /api/v1/uploads` answers with every stored image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResult {
    pub items: Vec<Image>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageCounts {
    pub total: u64,
    pub generated: u64,
    pub uploaded: u64,
    pub imported: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CharacterCounts {
    pub total: u64,
    pub with_avatar: u64,
}

/// `GET /api/v1/stats` (trashed images are not counted).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub images: ImageCounts,
    /// Status name → count.
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// Provider name → count of generated images.
    pub by_provider: std::collections::BTreeMap<String, u64>,
    /// Bytes of the stored originals.
    pub bytes_used: u64,
    pub characters: CharacterCounts,
}

/// The widths and heights a variant may have (API.md, "Media").
pub const VARIANT_LADDER: &[u32] = &[
    16, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 480, 512, 640, 768, 960, 1024, 1280, 1536,
    2048,
];

/// `/media/{id}` with an optional variant: the one place that writes media URLs.
pub fn media_url(image_id: &str, width: Option<u32>, height: Option<u32>) -> String {
    let mut url = format!("/media/{image_id}");
    let mut sep = '?';
    if let Some(w) = width {
        url.push_str(&format!("{sep}w={w}"));
        sep = '&';
    }
    if let Some(h) = height {
        url.push_str(&format!("{sep}h={h}"));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(title: Option<&str>, prompt: Option<&str>) -> Image {
        let mut image: Image = serde_json::from_value(serde_json::json!({
            "id": "i1", "kind": "uploaded", "status": "completed", "url": "/media/i1",
            "created_at": "2026-12-05T06:00:00Z", "updated_at": "2026-12-05T06:00:00Z",
            "favorite": false
        }))
        .unwrap();
        image.title = title.map(str::to_owned);
        image.prompt = prompt.map(str::to_owned);
        image
    }

    #[test]
    fn an_image_is_named_by_its_title_else_its_prompt_cut_at_sixty_characters() {
        assert_eq!(image(Some("Bea"), Some("a prompt")).label(), "Bea");
        assert_eq!(image(Some(""), Some("a prompt")).label(), "a prompt");
        let sixty = "é".repeat(60);
        assert_eq!(
            image(None, Some(&sixty)).label(),
            sixty,
            "sixty characters are kept whole"
        );
        let longer = format!("{sixty}ü and more");
        assert_eq!(image(None, Some(&longer)).label(), format!("{sixty}…"));
        assert_eq!(image(None, Some("")).label(), "Uploaded image");
        assert_eq!(image(None, None).label(), "Uploaded image");
    }

    #[test]
    fn patch_fields_tell_absent_from_null() {
        let r: UpdateImageRequest = serde_json::from_str(r#"{"favorite": true}"#).unwrap();
        assert_eq!(r.collection_id, None);
        let r: UpdateImageRequest = serde_json::from_str(r#"{"collection_id": null}"#).unwrap();
        assert_eq!(r.collection_id, Some(None));
        let r: UpdateImageRequest = serde_json::from_str(r#"{"collection_id": "c1"}"#).unwrap();
        assert_eq!(r.collection_id, Some(Some("c1".to_owned())));
    }

    #[test]
    fn patches_round_trip_without_clearing_what_they_leave_alone() {
        let patch = UpdateImageRequest {
            favorite: Some(true),
            ..UpdateImageRequest::default()
        };
        let json = serde_json::to_string(&patch).unwrap();
        assert_eq!(json, r#"{"favorite":true}"#);
        let back: UpdateImageRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, patch, "an absent title stays absent, not null");
        let clear = UpdateImageRequest {
            collection_id: Some(None),
            ..UpdateImageRequest::default()
        };
        let back: UpdateImageRequest =
            serde_json::from_str(&serde_json::to_string(&clear).unwrap()).unwrap();
        assert_eq!(back, clear);
    }

    #[test]
    fn enums_parse_their_names_and_explain_the_choices() {
        assert_eq!("imported".parse::<ImageKind>(), Ok(ImageKind::Imported));
        let err = "photo".parse::<ImageKind>().unwrap_err();
        assert!(err.contains("generated, uploaded, imported"), "{err}");
        for s in ImageStatus::ALL {
            assert_eq!(s.as_str().parse::<ImageStatus>(), Ok(*s));
        }
    }

    #[test]
    fn media_urls() {
        assert_eq!(media_url("i1", None, None), "/media/i1");
        assert_eq!(media_url("i1", Some(256), None), "/media/i1?w=256");
        assert_eq!(media_url("i1", Some(64), Some(64)), "/media/i1?w=64&h=64");
    }
}
