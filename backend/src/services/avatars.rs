//! A character's avatar through the generation pipeline: its saved settings, the model it
//! goes to (saved, else the best one with a key), the avatar offered at creation and
//! "Make a new avatar".

use model::{AvatarGenerationRequest, AvatarSettings, GenerationRequest, Job, ProviderId};

use super::{
    auth::Principal,
    generations::{catalogue, start, Options},
    sheet, ServiceError,
};
use crate::{db, providers, Backend};

/// A character's saved avatar settings (none, or unreadable: the defaults).
pub(super) fn saved_settings(character: &db::characters::CharacterRecord) -> AvatarSettings {
    character
        .avatar_generation_config
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

/// The avatar offered as a character is created: two candidates (one with a model that
/// makes one image per request) from its sheet; the first to finish becomes the avatar,
/// and the person can choose the other.
pub async fn first_avatar(
    backend: &Backend,
    principal: &Principal,
    character_id: &str,
) -> Result<Vec<Job>, ServiceError> {
    let character = super::characters::record(backend, principal, character_id).await?;
    let saved = saved_settings(&character);
    let (provider, model) = avatar_model(backend, principal, None, None, &saved).await?;
    let n = providers::find_model(provider.unwrap_or(ProviderId::Builtin), model.as_deref())
        .map_or(1, |m| m.max_n.min(2));
    let request = AvatarGenerationRequest {
        n: Some(n),
        ..AvatarGenerationRequest::default()
    };
    avatar_for(backend, principal, character, &request, None).await
}

/// Makes an avatar for a character from its prompt and settings (each overridable); the
/// avatar is set when the first of the request's jobs completes.
pub async fn character_avatar(
    backend: &Backend,
    principal: &Principal,
    character_id: &str,
    req: &AvatarGenerationRequest,
    idempotency_key: Option<String>,
) -> Result<Vec<Job>, ServiceError> {
    let character = super::characters::record(backend, principal, character_id).await?;
    avatar_for(backend, principal, character, req, idempotency_key).await
}

/// The provider and model of a character's avatar: the request's, else the character's
/// saved ones, else the best model the person has a key for (the built-in one without).
pub(super) async fn avatar_model(
    backend: &Backend,
    principal: &Principal,
    provider: Option<ProviderId>,
    model: Option<String>,
    saved: &AvatarSettings,
) -> Result<(Option<ProviderId>, Option<String>), ServiceError> {
    match (provider.or(saved.provider), model.or(saved.model.clone())) {
        (None, None) => {
            let (p, m) = model::best_model(&catalogue(backend, principal).await?);
            Ok((Some(p), Some(m)))
        }
        chosen => Ok(chosen),
    }
}

async fn avatar_for(
    backend: &Backend,
    principal: &Principal,
    character: db::characters::CharacterRecord,
    req: &AvatarGenerationRequest,
    idempotency_key: Option<String>,
) -> Result<Vec<Job>, ServiceError> {
    let saved = saved_settings(&character);
    // Without a prompt of its own, a portrait from the character's name and description
    // (the appearance joins it through the sheet).
    let prompt = req
        .prompt
        .clone()
        .filter(|p| !p.trim().is_empty())
        .or(character.avatar_prompt.clone())
        .unwrap_or_else(|| {
            sheet::default_avatar_prompt(&character.name, character.description.as_deref())
        });
    let (provider, model) =
        avatar_model(backend, principal, req.provider, req.model.clone(), &saved).await?;
    let request = GenerationRequest {
        prompt,
        provider,
        model,
        size: req.size.clone().or(saved.size),
        quality: req.quality.clone().or(saved.quality),
        n: req.n,
        reference_image_ids: req
            .reference_image_ids
            .clone()
            .unwrap_or(saved.reference_image_ids),
        character_id: Some(character.id.clone()),
        collection_id: req.collection_id.clone(),
        seed: req.seed.or(saved.seed),
        targets: None,
    };
    let opts = Options {
        idempotency_key,
        parent_id: None,
        set_avatar: true,
        edit_of: None,
    };
    start(backend, principal, &request, &opts).await
}
