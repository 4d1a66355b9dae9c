//! Server functions for generating: the catalogue, a character's avatar settings and its
//! avatar generation. Each gets the caller, calls one `backend` service and maps the error.

use leptos::prelude::*;
use model::{Character, Image, ProviderInfo};

use crate::AppError;

#[cfg(feature = "ssr")]
use {
    crate::ssr::{backend, internal, require_principal, service_error},
    backend::services::{characters, generations},
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
    let settings = AvatarSettings {
        provider: Some(provider.parse().map_err(|e: String| AppError::Validation {
            field: Some("model".to_owned()),
            message: e,
        })?),
        model: Some(model.to_owned()).filter(|m| !m.is_empty()),
        size: blank(size),
        quality: blank(quality),
        ..AvatarSettings::default()
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

/// Makes a new avatar for a character with its prompt and settings, and waits for it (up
/// to the server's wait limit): the character has it as its avatar when this returns.
#[server(endpoint = "generate_avatar")]
pub async fn generate_avatar(id: String) -> Result<Vec<Image>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let jobs =
        generations::character_avatar(&backend, &p, &id, &AvatarGenerationRequest::default(), None)
            .await
            .map_err(service_error)?;
    let limit = backend.config.jobs.wait_limit;
    let (jobs, images, done) = generations::wait(&backend, &p, jobs, limit)
        .await
        .map_err(service_error)?;
    if let Some(failed) = jobs
        .iter()
        .find_map(|j| j.error.clone().filter(|_| j.status.is_final()))
    {
        return Err(AppError::Refused {
            code: failed.code,
            message: failed.message,
        });
    }
    if !done {
        return Err(AppError::Refused {
            code: "still_running".to_owned(),
            message: "The avatar is still being made; it will appear here when it is done."
                .to_owned(),
        });
    }
    Ok(images)
}
