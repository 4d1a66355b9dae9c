//! New images made from one that exists: a regeneration (the same parameters, a new seed)
//! and an edit (an instruction applied to the image through the provider's editing path).
//! Both go through the one generation pipeline (`generations::start`) with `parent_id` set.

use model::{GenerationRequest, ImageKind, ImageStatus, Job, ModelInfo, ProviderId};

use super::{
    auth::Principal,
    generations::{check_model, invalid, start, Options},
    parse_id, ServiceError,
};
use crate::{db, providers, Backend};

/// Makes a new image with the parameters of `image_id` and a new seed (`parent_id` set).
pub async fn regenerate(
    backend: &Backend,
    principal: &Principal,
    image_id: &str,
    idempotency_key: Option<String>,
) -> Result<Vec<Job>, ServiceError> {
    let id = parse_id(image_id)?;
    let image = db::images::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .filter(|i| i.deleted_at.is_none())
        .ok_or(ServiceError::NotFound)?;
    if image.kind != ImageKind::Generated {
        return Err(ServiceError::Refused {
            code: "not_generated",
            message: "Only generated images can be regenerated; this one was uploaded or imported."
                .into(),
        });
    }
    let params: serde_json::Value = image
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let text = |k: &str| params.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let request = GenerationRequest {
        prompt: image.prompt.clone().unwrap_or_default(),
        provider: image.provider.as_deref().and_then(|p| p.parse().ok()),
        model: image.model.clone(),
        size: text("size"),
        quality: text("quality"),
        n: Some(1),
        reference_image_ids: params
            .get("reference_image_ids")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        character_id: image.character_id.clone(),
        collection_id: image.collection_id.clone(),
        seed: None,
        targets: None,
    };
    let opts = Options {
        idempotency_key,
        parent_id: Some(image.id.clone()),
        set_avatar: false,
        edit_of: None,
    };
    start(backend, principal, &request, &opts).await
}

/// The model an edit goes to: the one asked for, else the source's own when it is of the
/// same provider and can edit, else the provider's first that can; one that takes no
/// input image (DALL·E 3) cannot edit, and the error names those that can.
fn edit_model(
    provider: ProviderId,
    asked: Option<&str>,
    source: &db::images::ImageRecord,
) -> Result<ModelInfo, ServiceError> {
    let same_provider = source.provider.as_deref() == Some(provider.as_str());
    let can_edit = |m: &ModelInfo| m.max_reference_images > 0;
    let model = match asked {
        Some(m) => check_model(provider, Some(m))?,
        None => source
            .model
            .as_deref()
            .filter(|_| same_provider)
            .and_then(|m| providers::find_model(provider, Some(m)))
            .filter(can_edit)
            .or_else(|| providers::models(provider).into_iter().find(can_edit))
            .map_or_else(|| check_model(provider, None), Ok)?,
    };
    if model.max_reference_images == 0 {
        let able: Vec<String> = providers::models(provider)
            .into_iter()
            .filter(|m| m.max_reference_images > 0)
            .map(|m| m.label)
            .collect();
        return Err(invalid(
            "model",
            if able.is_empty() {
                format!(
                    "{} cannot edit images: it takes no input image.",
                    model.label
                )
            } else {
                format!(
                    "{} cannot edit images: it takes no input image. Use {}.",
                    model.label,
                    able.join(" or ")
                )
            },
        ));
    }
    Ok(model)
}

/// `POST /api/v1/images/{id}/edit`: a new image made from one of the caller's finished
/// images by an instruction, through the provider's editing path (the image goes first,
/// as the input; Gemini takes it inline, GPT image models through `/images/edits`). The
/// new image's `parent_id` is the source; it keeps the source's character and collection,
/// and its size and quality when the model takes them.
pub async fn edit(
    backend: &Backend,
    principal: &Principal,
    image_id: &str,
    req: &model::EditRequest,
    idempotency_key: Option<String>,
) -> Result<Vec<Job>, ServiceError> {
    let id = parse_id(image_id)?;
    let source = db::images::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .filter(|i| i.deleted_at.is_none())
        .ok_or(ServiceError::NotFound)?;
    if source.status != ImageStatus::Completed {
        return Err(ServiceError::Conflict {
            code: "not_finished",
            field: None,
            message: "Only finished images can be edited: wait until this one is done.".into(),
        });
    }
    let provider = req
        .provider
        .or_else(|| source.provider.as_deref().and_then(|p| p.parse().ok()))
        .unwrap_or(ProviderId::Builtin);
    let model = edit_model(provider, req.model.as_deref(), &source)?;
    let params: serde_json::Value = source
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let kept = |key: &str, allowed: &[String]| {
        params
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|v| allowed.iter().any(|a| a == v))
            .map(str::to_owned)
    };
    let request = GenerationRequest {
        prompt: req.prompt.clone(),
        provider: Some(provider),
        model: Some(model.id.clone()),
        size: req.size.clone().or_else(|| kept("size", &model.sizes)),
        quality: req
            .quality
            .clone()
            .or_else(|| kept("quality", &model.qualities)),
        n: Some(1),
        reference_image_ids: vec![source.id.clone()],
        character_id: source.character_id.clone(),
        collection_id: source.collection_id.clone(),
        seed: source.seed,
        targets: None,
    };
    let opts = Options {
        idempotency_key,
        parent_id: Some(source.id.clone()),
        set_avatar: false,
        edit_of: Some(providers::EditOf {
            image_id: source.id.clone(),
            prompt: source.prompt.clone(),
            seed: source.seed,
        }),
    };
    start(backend, principal, &request, &opts).await
}
