//! Generations: one pipeline for the Studio, the API (`POST /api/v1/generations`, with or
//! without `?wait=true`), character avatars (`avatars`), and regeneration and edits
//! (`edits`). A request is checked against
//! the catalogue and the person's keys, then its images (`pending`) and jobs are inserted
//! in one transaction and the workers are woken; waiting, when asked for, watches the same
//! jobs finish.
//!
//! Over 500 lines because checking a request (one or a comparison's targets), starting it
//! and waiting for it share the checked request; each is split into named steps.

use std::time::Duration;

use model::{
    GenerationRequest, ImageEventKind, ImageKind, ImageStatus, Job, KeyProvider, ModelInfo,
    ProviderId, ProviderInfo, ServerMessage,
};

use super::{auth::Principal, images, parse_id, provider_keys, sheet, ServiceError};
use crate::{
    db::{self, images::NewImage, jobs::NewJob},
    domain::{parse_text, FieldError},
    jobs::{self, JobRequest},
    new_id, providers, Backend,
};

/// The catalogue, with whether this person has a key for each provider.
pub async fn catalogue(
    backend: &Backend,
    principal: &Principal,
) -> Result<Vec<ProviderInfo>, ServiceError> {
    let keys = db::provider_keys::list_for_user(&backend.db, principal.user_id()).await?;
    let caller = &principal.caller;
    let has_key = |p: KeyProvider| {
        keys.iter().any(|k| k.provider == p)
            || provider_keys::server_key(backend, p, caller.is_admin, caller.verified).is_some()
    };
    Ok(ProviderId::ALL
        .iter()
        .map(|&id| {
            let models = providers::models(id);
            let (needs_key, has_key) = match id {
                ProviderId::Builtin => (false, true),
                ProviderId::Openai => (true, has_key(KeyProvider::Openai)),
                ProviderId::Gemini => (true, has_key(KeyProvider::Gemini)),
            };
            ProviderInfo {
                id,
                label: id.label().to_owned(),
                needs_key,
                has_key,
                default_model: models.first().map(|m| m.id.clone()).unwrap_or_default(),
                models,
            }
        })
        .collect())
}

/// Where the new images go and what they are for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub idempotency_key: Option<String>,
    pub parent_id: Option<String>,
    /// Set the character's avatar when the job completes.
    pub set_avatar: bool,
    /// An edit of this image (the request's first reference).
    pub edit_of: Option<providers::EditOf>,
}

/// A request checked against the catalogue and the person's library.
#[derive(Debug, Clone)]
struct Checked {
    provider: ProviderId,
    model: ModelInfo,
    prompt: String,
    size: String,
    quality: Option<String>,
    n: u8,
    seed: i64,
    reference_image_ids: Vec<String>,
    character_id: Option<String>,
    collection_id: Option<String>,
    /// What the character's sheet adds, when the request names one.
    sheet: Option<sheet::Applied>,
}

pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    FieldError::new(field, message).into()
}

/// What a checked batch asks of the providers, for the spending caps.
fn asked(batch: &[Checked]) -> Vec<super::spend::Asked<'_>> {
    batch
        .iter()
        .map(|c| super::spend::Asked {
            provider: c.provider,
            model: &c.model.id,
            size: Some(&c.size),
            quality: c.quality.as_deref(),
            n: u32::from(c.n),
        })
        .collect()
}

/// Checks a request that is started `times` over with other prompts (a character's
/// variations: one model, size and quality, so one estimate) as one against the spending
/// caps, so that the set is refused whole (402) rather than queued in part.
pub(super) async fn check_spend_of_set(
    backend: &Backend,
    principal: &Principal,
    req: &GenerationRequest,
    times: u32,
) -> Result<(), ServiceError> {
    let checked = [check(backend, principal, req, false).await?];
    let mut set = asked(&checked);
    for a in &mut set {
        a.n *= times;
    }
    super::spend::check_request(backend, principal.user_id(), &set).await
}

async fn check(
    backend: &Backend,
    principal: &Principal,
    req: &GenerationRequest,
    edit: bool,
) -> Result<Checked, ServiceError> {
    let user_id = principal.user_id();
    let provider = req.provider.unwrap_or(ProviderId::Builtin);
    let model = check_model(provider, req.model.as_deref())?;
    let prompt = parse_text("prompt", Some(&req.prompt), model.max_prompt_chars as usize)?
        .ok_or_else(|| invalid("prompt", "Describe the image you want."))?;
    let Settings {
        size,
        quality,
        n,
        seed,
    } = check_settings(&model, req)?;
    let reference_image_ids =
        check_references(backend, user_id, &model, &req.reference_image_ids).await?;
    let (character, collection_id) = check_owned(backend, principal, req).await?;
    let sheet = match &character {
        // The image being edited shows the character already; the instruction goes alone.
        Some(c) if edit => Some(sheet::for_edit(c, &prompt, &reference_image_ids)),
        Some(c) => Some(sheet::apply(backend, c, &model, &prompt, &reference_image_ids).await?),
        None => None,
    };
    // A key must be there now; the worker checks again when it runs.
    if let Err(e) = jobs::resolve_key(backend, user_id, provider).await {
        return Err(ServiceError::Refused {
            code: "missing_key",
            message: e.message,
        });
    }
    Ok(Checked {
        provider,
        model,
        prompt,
        size,
        quality,
        n,
        seed,
        reference_image_ids,
        character_id: character.map(|c| c.id),
        collection_id,
        sheet,
    })
}

/// The model asked for (the provider's default when none), or an error listing the
/// provider's models.
pub(super) fn check_model(
    provider: ProviderId,
    asked: Option<&str>,
) -> Result<ModelInfo, ServiceError> {
    providers::find_model(provider, asked).ok_or_else(|| {
        let known: Vec<String> = providers::models(provider)
            .into_iter()
            .map(|m| m.id)
            .collect();
        invalid(
            "model",
            format!(
                "{} has no model by that name: use {}.",
                provider.label(),
                known.join(", ")
            ),
        )
    })
}

/// The settings of one request, checked against what the model takes.
struct Settings {
    size: String,
    quality: Option<String>,
    n: u8,
    seed: i64,
}

/// Size, quality, count and seed: the model's defaults when absent, an error naming the
/// field and the allowed values otherwise. A request without a seed gets a random one,
/// recorded so that the image can be made again.
fn check_settings(model: &ModelInfo, req: &GenerationRequest) -> Result<Settings, ServiceError> {
    let size = match req.size.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => model.default_size.clone(),
        Some(s) if model.sizes.iter().any(|m| m == s) => s.to_owned(),
        Some(_) => {
            return Err(invalid(
                "size",
                format!(
                    "{} takes these sizes: {}.",
                    model.label,
                    model.sizes.join(", ")
                ),
            ))
        }
    };
    let quality = match req
        .quality
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => model.default_quality.clone(),
        Some(q) if model.qualities.iter().any(|m| m == q) => Some(q.to_owned()),
        Some(_) if model.qualities.is_empty() => {
            return Err(invalid(
                "quality",
                format!("{} has no quality setting.", model.label),
            ))
        }
        Some(_) => {
            return Err(invalid(
                "quality",
                format!(
                    "{} takes these qualities: {}.",
                    model.label,
                    model.qualities.join(", ")
                ),
            ))
        }
    };
    let n = req.n.unwrap_or(1);
    if n < 1 || n > model.max_n.min(4) {
        return Err(invalid(
            "n",
            if model.max_n == 1 {
                format!("{} makes one image per request.", model.label)
            } else {
                format!("Ask for 1 to {} images.", model.max_n.min(4))
            },
        ));
    }
    let seed = match req.seed {
        Some(s) if !(0..=i64::from(u32::MAX)).contains(&s) => {
            return Err(invalid("seed", "Use a seed from 0 to 4294967295."))
        }
        Some(s) => s,
        None => i64::from(rand::random::<u32>()),
    };
    Ok(Settings {
        size,
        quality,
        n,
        seed,
    })
}

/// The reference images: valid ids, each once, no more than the model takes, and all the
/// caller's own finished images outside the trash (one query for all).
async fn check_references(
    backend: &Backend,
    user_id: &str,
    model: &ModelInfo,
    ids: &[String],
) -> Result<Vec<String>, ServiceError> {
    let mut reference_image_ids = Vec::new();
    for id in ids {
        let id = crate::domain::Id::parse(id).ok_or_else(|| {
            invalid(
                "reference_image_ids",
                "A reference image does not exist, or it is not yours.",
            )
        })?;
        if !reference_image_ids.contains(&id.as_str().to_owned()) {
            reference_image_ids.push(id.as_str().to_owned());
        }
    }
    if reference_image_ids.len() > usize::from(model.max_reference_images) {
        return Err(invalid(
            "reference_image_ids",
            if model.max_reference_images == 0 {
                format!(
                    "{} takes no reference images; choose GPT Image or Gemini to use them.",
                    model.label
                )
            } else {
                format!(
                    "{} takes at most {} reference images.",
                    model.label, model.max_reference_images
                )
            },
        ));
    }
    if images::usable(backend, user_id, &reference_image_ids)
        .await?
        .len()
        != reference_image_ids.len()
    {
        return Err(invalid(
            "reference_image_ids",
            "A reference image does not exist, is not finished, or is in the trash.",
        ));
    }
    Ok(reference_image_ids)
}

/// The character and collection the request names, if any, which must be the caller's.
async fn check_owned(
    backend: &Backend,
    principal: &Principal,
    req: &GenerationRequest,
) -> Result<(Option<db::characters::CharacterRecord>, Option<String>), ServiceError> {
    // The library's ownership checks; here an unknown id is a mistake in this request's
    // field (400), not a missing resource.
    let named = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let in_field = |field: &'static str, message: &'static str| {
        move |e: ServiceError| match e {
            ServiceError::NotFound => invalid(field, message),
            other => other,
        }
    };
    let character = match named(&req.character_id) {
        Some(c) => Some(
            super::characters::record(backend, principal, &c)
                .await
                .map_err(in_field(
                    "character_id",
                    "That character does not exist, or it is not yours.",
                ))?,
        ),
        None => None,
    };
    let collection_id = match named(&req.collection_id) {
        Some(c) => Some(
            images::own_collection(backend, principal, &c)
                .await
                .map_err(in_field(
                    "collection_id",
                    "That collection does not exist, or it is not yours.",
                ))?,
        ),
        None => None,
    };
    Ok((character, collection_id))
}

/// The hash that ties an idempotency key to one request.
fn request_hash(req: &GenerationRequest, opts: &Options) -> String {
    let json = serde_json::to_vec(&(req, &opts.parent_id, opts.set_avatar)).unwrap_or_default();
    crate::imaging::sha256_hex(&json)
}

/// The most models one comparison sends the prompt to.
pub const MAX_TARGETS: usize = 6;

/// A comparison (`targets`): each target checked as a request of one image with that
/// provider, model, size and quality; 2 to [`MAX_TARGETS`] of them, no two the same. A
/// target's mistake is named with its place in the list.
async fn check_targets(
    backend: &Backend,
    principal: &Principal,
    req: &GenerationRequest,
    targets: &[model::Target],
) -> Result<Vec<Checked>, ServiceError> {
    if !(2..=MAX_TARGETS).contains(&targets.len()) {
        return Err(invalid(
            "targets",
            format!("Compare 2 to {MAX_TARGETS} models (one target each)."),
        ));
    }
    // One seed for all, so that the models are compared on the same footing.
    let seed = req.seed.unwrap_or_else(|| i64::from(rand::random::<u32>()));
    let mut batch: Vec<Checked> = Vec::with_capacity(targets.len());
    for (i, target) in targets.iter().enumerate() {
        let one = GenerationRequest {
            provider: Some(target.provider),
            model: target.model.clone(),
            size: target.size.clone(),
            quality: target.quality.clone(),
            n: Some(1),
            seed: Some(seed),
            targets: None,
            ..req.clone()
        };
        let checked = check(backend, principal, &one, false)
            .await
            .map_err(|e| match e {
                ServiceError::Invalid(f) if f.field != "prompt" => invalid(
                    "targets",
                    format!(
                        "Target {} ({}): {}",
                        i + 1,
                        target.provider.label(),
                        f.message
                    ),
                ),
                other => other,
            })?;
        let same = |c: &Checked| {
            c.provider == checked.provider
                && c.model.id == checked.model.id
                && c.size == checked.size
                && c.quality == checked.quality
        };
        if batch.iter().any(same) {
            return Err(invalid(
                "targets",
                format!(
                    "Target {} repeats {} with the same settings: compare different ones.",
                    i + 1,
                    checked.model.label
                ),
            ));
        }
        batch.push(checked);
    }
    Ok(batch)
}

/// The images and jobs of one checked request, added to those of its batch.
fn plan(
    backend: &Backend,
    user_id: &str,
    checked: &Checked,
    opts: &Options,
    batch_id: Option<&str>,
    images: &mut Vec<NewImage>,
    new_jobs: &mut Vec<NewJob>,
) {
    let params = serde_json::json!({
        "size": checked.size,
        "quality": checked.quality,
        "n": checked.n,
        "reference_image_ids": checked.reference_image_ids,
    });
    // What goes to the provider: with a character, as its sheet makes it.
    let (sent_prompt, sent_references) = match &checked.sheet {
        Some(s) => (&s.prompt, &s.reference_image_ids),
        None => (&checked.prompt, &checked.reference_image_ids),
    };
    for i in 0..checked.n {
        let image_id = new_id();
        let seed = (checked.seed + i64::from(i)) % (i64::from(u32::MAX) + 1);
        images.push(NewImage {
            collection_id: checked.collection_id.clone(),
            character_id: checked.character_id.clone(),
            parent_id: opts.parent_id.clone(),
            prompt: Some(checked.prompt.clone()),
            provider: Some(checked.provider.as_str().to_owned()),
            model: Some(checked.model.id.clone()),
            params: Some(params.to_string()),
            seed: Some(seed),
            ..NewImage::new(
                image_id.clone(),
                user_id.to_owned(),
                ImageKind::Generated,
                ImageStatus::Pending,
            )
        });
        let request = JobRequest {
            prompt: sent_prompt.clone(),
            size: checked.size.clone(),
            quality: checked.quality.clone(),
            seed,
            reference_image_ids: sent_references.clone(),
            sheet: checked.sheet.as_ref().map(|s| s.sheet.clone()),
            identity: checked.sheet.as_ref().map(|s| s.identity.clone()),
            edit_of: opts.edit_of.clone(),
        };
        new_jobs.push(NewJob {
            id: new_id(),
            user_id: user_id.to_owned(),
            image_id,
            character_id: checked.character_id.clone(),
            set_avatar: opts.set_avatar && checked.character_id.is_some(),
            provider: checked.provider,
            model: checked.model.id.clone(),
            request: serde_json::to_string(&request).unwrap_or_default(),
            max_attempts: i64::from(backend.config.jobs.max_attempts),
            batch_id: batch_id.map(str::to_owned),
        });
    }
}

/// Checks and queues a generation: its images (`pending`) and one job per image, in one
/// transaction. With an idempotency key used before for the same request, answers the
/// jobs of that first request instead.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn start(
    backend: &Backend,
    principal: &Principal,
    req: &GenerationRequest,
    opts: &Options,
) -> Result<Vec<Job>, ServiceError> {
    let user_id = principal.user_id();
    if let Some(key) = &opts.idempotency_key {
        if key.is_empty() || key.len() > 255 || key.chars().any(char::is_control) {
            return Err(invalid(
                "Idempotency-Key",
                "Use an Idempotency-Key of 1 to 255 visible characters.",
            ));
        }
    }
    let batch: Vec<Checked> = match &req.targets {
        None => vec![check(backend, principal, req, opts.edit_of.is_some()).await?],
        Some(targets) => check_targets(backend, principal, req, targets).await?,
    };
    let total: u8 = batch.iter().map(|c| c.n).sum();
    super::quotas::check_generation(backend, user_id, total).await?;
    super::spend::check_request(backend, user_id, &asked(&batch)).await?;
    // The jobs of a comparison share an id.
    let batch_id = req.targets.is_some().then(new_id);
    let mut images = Vec::new();
    let mut new_jobs = Vec::new();
    for checked in &batch {
        plan(
            backend,
            user_id,
            checked,
            opts,
            batch_id.as_deref(),
            &mut images,
            &mut new_jobs,
        );
    }
    let hash = request_hash(req, opts);
    let idempotency = opts.idempotency_key.as_deref().map(|k| (k, hash.as_str()));
    match db::jobs::insert_generation(&backend.db, &images, &new_jobs, idempotency).await? {
        db::jobs::Inserted::Created(rows) => {
            tracing::info!(
                jobs = rows.len(),
                provider = batch[0].provider.as_str(),
                model = %batch[0].model.id,
                batch = batch.len(),
                "generation queued"
            );
            let ids: Vec<String> = images.iter().map(|i| i.id.clone()).collect();
            for image in db::images::get_many(&backend.db, user_id, &ids).await? {
                backend.runtime.hub.publish(
                    user_id,
                    &ServerMessage::Image {
                        event: ImageEventKind::Created,
                        image: Box::new(image.to_model()),
                    },
                );
            }
            for job in &rows {
                jobs::publish(backend, job, None);
            }
            jobs::announce(backend).await;
            Ok(rows.iter().map(|r| r.to_model()).collect())
        }
        db::jobs::Inserted::Existing {
            request_hash,
            job_ids,
        } => {
            if request_hash != hash {
                return Err(ServiceError::Conflict {
                    code: "idempotency_key_reused",
                    field: Some("Idempotency-Key"),
                    message: "This Idempotency-Key was already used for a different request; use a new key.".into(),
                });
            }
            tracing::info!("idempotent repeat: answering the first request's jobs");
            let rows = db::jobs::get_many(&backend.db, user_id, &job_ids).await?;
            Ok(rows.iter().map(|r| r.to_model()).collect())
        }
    }
}

/// Waits until every job has finished or `limit` has passed; answers the jobs as they
/// are and, when all finished, their completed images.
pub async fn wait(
    backend: &Backend,
    principal: &Principal,
    jobs: Vec<Job>,
    limit: Duration,
) -> Result<(Vec<Job>, Vec<model::Image>, bool), ServiceError> {
    let user_id = principal.user_id();
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let mut events = backend.runtime.hub.subscribe(user_id);
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let rows = db::jobs::get_many(&backend.db, user_id, &ids).await?;
        let done = rows.iter().all(|r| r.status.is_final());
        if done || tokio::time::Instant::now() >= deadline {
            let jobs: Vec<Job> = rows.iter().map(|r| r.to_model()).collect();
            let images = if done {
                let image_ids: Vec<String> = rows
                    .iter()
                    .filter(|r| r.status == ImageStatus::Completed)
                    .map(|r| r.image_id.clone())
                    .collect();
                db::images::get_many(&backend.db, user_id, &image_ids)
                    .await?
                    .iter()
                    .map(|r| r.to_model())
                    .collect()
            } else {
                Vec::new()
            };
            return Ok((jobs, images, done));
        }
        // Woken by any event of this user (or once a second, for jobs that another
        // process runs), then read again.
        tokio::select! {
            _ = events.recv() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
}

pub async fn get(backend: &Backend, principal: &Principal, id: &str) -> Result<Job, ServiceError> {
    let id = parse_id(id)?;
    db::jobs::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .map(|r| r.to_model())
        .ok_or(ServiceError::NotFound)
}

/// A page of the person's jobs, newest first (`limit` 1 to 200, default 50).
pub async fn list(
    backend: &Backend,
    principal: &Principal,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<model::Page<Job>, ServiceError> {
    let limit = super::page_limit(limit)?;
    let before = super::page_cursor(cursor)?;
    let rows = db::jobs::list_page(
        &backend.db,
        principal.user_id(),
        before.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(super::into_page(
        rows,
        limit,
        |r| r.id.clone(),
        |r| r.to_model(),
    ))
}

/// Unfinished jobs and the 50 most recent ones (what a page that follows jobs live starts
/// from).
pub async fn recent(backend: &Backend, principal: &Principal) -> Result<Vec<Job>, ServiceError> {
    Ok(db::jobs::list_recent(&backend.db, principal.user_id(), 50)
        .await?
        .iter()
        .map(|r| r.to_model())
        .collect())
}

/// Cancels a job: at once when it is queued, at the worker's next step when it runs. A
/// finished job stays as it is.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id, job_id = %id))]
pub async fn cancel(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Job, ServiceError> {
    let id = parse_id(id)?;
    let row = db::jobs::request_cancel(&backend.db, principal.user_id(), id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)?;
    if row.status == ImageStatus::Canceled {
        jobs::publish(backend, &row, None);
    } else if !row.status.is_final() {
        backend.runtime.queue.cancel_local(&row.id);
    }
    tracing::info!(status = %row.status, "cancellation asked for");
    Ok(row.to_model())
}
