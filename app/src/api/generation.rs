//! Server functions for generating: the catalogue, starting, listing and cancelling jobs,
//! regenerating, and a character's avatar settings and avatar. Each gets the caller, calls
//! one `backend` service and maps the error. Jobs are followed live over `/ws`.

use leptos::{prelude::*, server_fn::codec::Json};
use model::{Character, GenerationRequest, Image, Job, ProviderInfo};

use crate::AppError;

#[cfg(feature = "ssr")]
use {
    crate::ssr::{backend, internal, require_principal, service_error},
    backend::services::{avatars, characters, edits, generations, images},
    model::{AvatarGenerationRequest, AvatarSettings, UpdateCharacterRequest},
};

/// The providers and models, with whether the caller has a key for each.
#[server(endpoint = "list_providers")]
pub async fn list_providers() -> Result<Vec<ProviderInfo>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    generations::catalogue(&backend, &p)
        .await
        .map_err(service_error)
}

/// Saves a character's avatar settings (a form: `model` is `provider/model`; blank size and
/// quality mean the model's defaults).
#[server(endpoint = "save_avatar_settings")]
pub async fn save_avatar_settings(
    id: String,
    model: String,
    size: Option<String>,
    quality: Option<String>,
) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let (provider, model) = model.split_once('/').unwrap_or((model.as_str(), ""));
    let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    // The form sets provider, model, size and quality; reference images and a seed set
    // through the API stay.
    let kept: AvatarSettings = characters::get(&backend, &p, &id)
        .await
        .map_err(service_error)?
        .avatar_generation_config
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let settings = AvatarSettings {
        provider: Some(provider.parse().map_err(|e: String| AppError::Validation {
            field: Some("model".to_owned()),
            message: e,
        })?),
        model: Some(model.to_owned()).filter(|m| !m.is_empty()),
        size: blank(size),
        quality: blank(quality),
        reference_image_ids: kept.reference_image_ids,
        seed: kept.seed,
    };
    let config = serde_json::to_value(&settings).map_err(internal)?;
    let change = UpdateCharacterRequest {
        avatar_generation_config: Some(Some(config)),
        ..UpdateCharacterRequest::default()
    };
    characters::update(&backend, &p, &id, &change)
        .await
        .map_err(service_error)
}

/// Makes a new avatar for a character with its prompt and settings. Answers the queued
/// jobs at once; the character gets the avatar when its job completes (the page follows it
/// live, and without JavaScript the redirect back shows it once done).
#[server(endpoint = "generate_avatar")]
pub async fn generate_avatar(id: String) -> Result<Vec<Job>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    avatars::character_avatar(&backend, &p, &id, &AvatarGenerationRequest::default(), None)
        .await
        .map_err(service_error)
}

/// Queues a generation: one job per image, answered at once.
#[server(endpoint = "start_generation", input = Json)]
pub async fn start_generation(request: GenerationRequest) -> Result<Vec<Job>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    generations::start(&backend, &p, &request, &generations::Options::default())
        .await
        .map_err(service_error)
}

/// The caller's jobs (unfinished and recent) with their images: what a page shows
/// before the live events take over.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveSnapshot {
    pub jobs: Vec<Job>,
    pub images: Vec<Image>,
}

#[server(endpoint = "live_state")]
pub async fn live_state() -> Result<LiveSnapshot, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let jobs = generations::recent(&backend, &p)
        .await
        .map_err(service_error)?;
    let ids: Vec<String> = jobs.iter().map(|j| j.image_id.clone()).collect();
    let images = images::get_many(&backend, &p, &ids)
        .await
        .map_err(service_error)?;
    Ok(LiveSnapshot { jobs, images })
}

#[server(endpoint = "cancel_generation")]
pub async fn cancel_generation(id: String) -> Result<Job, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    generations::cancel(&backend, &p, &id)
        .await
        .map_err(service_error)
}

/// Makes the image again with the same settings and a new seed.
#[server(endpoint = "regenerate_image")]
pub async fn regenerate_image(id: String) -> Result<Vec<Job>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    edits::regenerate(&backend, &p, &id, None)
        .await
        .map_err(service_error)
}

/// Makes a new image from this one by an instruction ("make the hair blue"), with the
/// image's own provider and model when they can edit.
#[server(endpoint = "edit_image")]
pub async fn edit_image(id: String, prompt: String) -> Result<Vec<Job>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let request = model::EditRequest {
        prompt,
        ..model::EditRequest::default()
    };
    edits::edit(&backend, &p, &id, &request, None)
        .await
        .map_err(service_error)
}

/// The variation presets this instance offers.
#[server(endpoint = "list_variations")]
pub async fn list_variations() -> Result<Vec<model::VariationPreset>, AppError> {
    let backend = backend()?;
    require_principal()?;
    Ok(backend::services::variations::presets(&backend))
}

/// Starts the chosen variations of a character, one job each.
#[server(endpoint = "make_variations", input = Json)]
pub async fn make_variations(id: String, presets: Vec<String>) -> Result<Vec<Job>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let request = model::VariationsRequest {
        presets: Some(presets),
        ..model::VariationsRequest::default()
    };
    backend::services::variations::start_set(&backend, &p, &id, &request)
        .await
        .map_err(service_error)
}
