//! Generations (API.md, "Generations"; the realtime messages of "Realtime"): the providers'
//! catalogue, the requests that start jobs, the jobs themselves and the events that report
//! their progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Image, ImageFailure, ImageStatus};

/// The image generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProviderId {
    /// The offline generator: no key, no network.
    Builtin,
    Openai,
    Gemini,
}

string_enum!(ProviderId, "a provider", {
    Builtin => "builtin",
    Openai => "openai",
    Gemini => "gemini",
});

impl ProviderId {
    /// The name people know it by.
    pub fn label(self) -> &'static str {
        match self {
            Self::Builtin => "Built-in (offline)",
            Self::Openai => "OpenAI",
            Self::Gemini => "Google Gemini",
        }
    }
}

/// One model and what it accepts; requests are checked against this before anything is
/// queued.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelInfo {
    pub id: String,
    pub label: String,
    /// The sizes (`1024x1024`) or, for Gemini, aspect ratios (`1:1`) it takes.
    pub sizes: Vec<String>,
    pub default_size: String,
    /// Empty when the model has no quality setting.
    pub qualities: Vec<String>,
    pub default_quality: Option<String>,
    /// How many images one request may ask for.
    pub max_n: u8,
    /// How many reference images it takes (0: none).
    pub max_reference_images: u8,
    /// The longest prompt it takes, in characters.
    pub max_prompt_chars: u32,
}

/// A provider, its models, and whether this person can use it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderInfo {
    pub id: ProviderId,
    pub label: String,
    /// Whether it needs an API key at all.
    pub needs_key: bool,
    /// Whether a key is available: the person's own, or one for the whole server.
    pub has_key: bool,
    pub default_model: String,
    pub models: Vec<ModelInfo>,
}

/// `POST /api/v1/generations`: what to make.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenerationRequest {
    pub prompt: String,
    /// `builtin` (the default), `openai` or `gemini`.
    #[serde(default)]
    pub provider: Option<ProviderId>,
    /// The provider's default model when absent.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
    /// How many images, 1 to 4 (and at most the model's `max_n`).
    #[serde(default)]
    pub n: Option<u8>,
    /// Images of the person's library to guide the generator.
    #[serde(default)]
    pub reference_image_ids: Vec<String>,
    #[serde(default)]
    pub character_id: Option<String>,
    #[serde(default)]
    pub collection_id: Option<String>,
    /// For repeatable results where the provider supports it; random when absent.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Compare models: one job per target (2 to 6, each a different model), instead of
    /// `provider`, `model`, `size`, `quality` and `n`; the jobs share a `batch_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Target>>,
}

/// The models offered by default, best first: the one that keeps a character's identity
/// best from its references, then OpenAI's by quality. The Studio and a new character's
/// avatar use the first one the person has a key for ([`best_model`]).
pub const PREFERRED_MODELS: [(ProviderId, &str); 4] = [
    (ProviderId::Gemini, "gemini-2.5-flash-image"),
    (ProviderId::Openai, "gpt-image-1"),
    (ProviderId::Openai, "gpt-image-1-mini"),
    (ProviderId::Openai, "dall-e-3"),
];

/// The best model of `catalogue` that the person has a key for, as (provider, model); the
/// built-in generator when there is none.
pub fn best_model(catalogue: &[ProviderInfo]) -> (ProviderId, String) {
    PREFERRED_MODELS
        .iter()
        .find(|(p, m)| {
            catalogue
                .iter()
                .any(|i| i.id == *p && i.has_key && i.models.iter().any(|x| x.id == *m))
        })
        .map_or_else(
            || (ProviderId::Builtin, "portrait-1".to_owned()),
            |(p, m)| (*p, (*m).to_owned()),
        )
}

/// One model of a comparison (`GenerationRequest.targets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    pub provider: ProviderId,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
}

/// `POST /api/v1/images/{id}/edit`: a new image made from this one by an instruction
/// ("make the hair blue"), through the provider's editing path; its `parent_id` is the
/// source. The source's provider and model when they can edit, else the provider's
/// default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditRequest {
    /// The instruction.
    pub prompt: String,
    #[serde(default)]
    pub provider: Option<ProviderId>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
}

/// One variation of a character (`GET /api/v1/variations`): its prompt is the instruction
/// of one generation from the character's sheet. Shipped presets, extended by the
/// administrator's `VARIATIONS_FILE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariationPreset {
    pub id: String,
    pub label: String,
    pub prompt: String,
}

/// `POST /api/v1/characters/{id}/variations`: one job per preset (all of them when
/// `presets` is absent), each built from the character's sheet, with the character's
/// saved provider and model unless given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariationsRequest {
    #[serde(default)]
    pub presets: Option<Vec<String>>,
    #[serde(default)]
    pub provider: Option<ProviderId>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
}

/// `POST /api/v1/characters/{id}/avatar`: the character's own prompt and settings, each
/// overridable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvatarGenerationRequest {
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub provider: Option<ProviderId>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
    #[serde(default)]
    pub n: Option<u8>,
    #[serde(default)]
    pub reference_image_ids: Option<Vec<String>>,
    #[serde(default)]
    pub collection_id: Option<String>,
    #[serde(default)]
    pub seed: Option<i64>,
}

/// The settings a character keeps for its avatar (`avatar_generation_config`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AvatarSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_image_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
}

/// One queued generation: one job makes one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: String,
    pub image_id: String,
    pub character_id: Option<String>,
    /// Whether its image becomes the character's avatar when it completes (the first of
    /// its request to complete does; the others are candidates).
    #[serde(default)]
    pub set_avatar: bool,
    /// The stage: `pending` (queued, or waiting for a retry), `generating`, `downloading`,
    /// `uploading`, then `completed`, `error` or `canceled`.
    pub status: ImageStatus,
    /// Grows by one with every change of state.
    pub seq: i64,
    /// The attempt under way or last made (0 before the first).
    pub attempt: u32,
    pub max_attempts: u32,
    pub provider: ProviderId,
    pub model: String,
    /// Why it failed, or why the last attempt failed while a retry waits.
    pub error: Option<ImageFailure>,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(default, with = "crate::timestamp::option")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::timestamp::option")]
    pub finished_at: Option<DateTime<Utc>>,
    /// When a retry is due (set while waiting for one).
    #[serde(default, with = "crate::timestamp::option")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Set when the job is one of a comparison (`targets`): the jobs of one request share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// Its estimated cost (the same as its image's `generation.cost`), once it has
    /// completed; `null` before and for a job that failed (nothing is charged then).
    #[serde(default)]
    pub cost: Option<crate::Cost>,
}

/// `POST /api/v1/generations` (and the character avatar): the jobs, and with `?wait=true`
/// the finished images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenerationResponse {
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

/// How a generated image was made, kept with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provenance {
    /// Tokens or other usage the provider reported.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub usage: Option<serde_json::Value>,
    /// From the first attempt's start to the image being stored.
    pub duration_ms: Option<u64>,
    pub attempts: u32,
    pub reference_image_ids: Vec<String>,
    /// The provider's id for the request that made it, for support questions.
    pub provider_request_id: Option<String>,
    /// The character sheet the request was built from, when it named a character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_sheet: Option<SheetUse>,
    /// The estimated cost, from the usage and the prices in force (issue 19 §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::Cost>,
}

/// Which version of a character's sheet went into a generation, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SheetUse {
    pub character_id: String,
    pub version: i64,
    /// Whether the appearance was added to the prompt (the sheet had one).
    pub appearance_in_prompt: bool,
    /// The identity references sent (among `reference_image_ids`); empty for a model that
    /// takes no reference images.
    pub identity_reference_ids: Vec<String>,
    /// The prompt as sent to the provider.
    pub prompt_sent: String,
}

/// A change to a job, as sent over the realtime channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobEvent {
    pub job_id: String,
    pub image_id: String,
    pub character_id: Option<String>,
    pub status: ImageStatus,
    pub seq: i64,
    pub attempt: u32,
    pub error: Option<ImageFailure>,
    #[serde(default, with = "crate::timestamp::option")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The image once completed.
    pub image: Option<Box<Image>>,
}

/// What happened to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImageEventKind {
    Created,
    Updated,
    Deleted,
}

/// The messages of `GET /ws` (API.md, "Realtime").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    Hello {
        #[serde(with = "crate::timestamp")]
        server_time: DateTime<Utc>,
    },
    Job(JobEvent),
    Image {
        event: ImageEventKind,
        image: Box<Image>,
    },
    /// The client fell behind: re-read the state, then go on.
    Resync,
}
