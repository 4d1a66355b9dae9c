//! One attempt at a job, in named steps: call the provider, fetch its output, check the
//! image, store it, complete the job; every stage persisted and published.

use std::time::Instant;

use model::{ImageStatus, JobEvent, ProviderId, ServerMessage};
use secrecy::SecretString;

use super::provider_files::{delete_provider_files, Ledger};
use super::*;
use crate::{
    db::{
        self,
        jobs::{self as queue_db, JobRecord, Transition},
    },
    domain::Id,
    imaging, now_ms,
    providers::{self, Call, Failure, Produced, ProviderError, Reference},
    services::{provider_keys::KeyUse, spend, ServiceError},
    storage::{self, ObjectKey},
    Backend,
};

/// Why a run stopped short of completing.
#[derive(Debug)]
pub(super) enum Stop {
    /// The provider (or its answer) failed; maybe worth another attempt.
    Provider(ProviderError),
    /// The person canceled the job.
    Canceled,
    /// This worker no longer holds the job (its lease expired and another took it).
    Lost,
    /// Our side failed (database, storage); retried like an unavailable provider.
    Internal(String),
}

impl From<db::DbError> for Stop {
    fn from(e: db::DbError) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

/// Moves the job to `status` and tells the user's connections.
pub(super) async fn advance(
    backend: &Backend,
    job: &JobRecord,
    status: ImageStatus,
) -> Result<JobRecord, Stop> {
    let t = Transition {
        status,
        error: None,
        retry_at: None,
    };
    let next = queue_db::transition(&backend.db, &job.id, &backend.runtime.queue.inner.owner, &t)
        .await?
        .ok_or(Stop::Lost)?;
    tracing::info!(stage = status.as_str(), "stage");
    publish(backend, &next, None);
    Ok(next)
}

/// One attempt, from the provider call to the stored image.
pub(super) async fn execute(backend: &Backend, job: &JobRecord) -> Result<(), Stop> {
    let request: JobRequest = serde_json::from_str(&job.request)
        .map_err(|e| Stop::Internal(format!("unreadable job request: {e}")))?;
    // Nothing goes to the provider once the month's cap would be passed.
    spend::check_job(backend, job, &request)
        .await
        .map_err(|e| match e {
            ServiceError::OverSpendingCap(message) => {
                Stop::Provider(ProviderError::new(Failure::SpendingCap, message))
            }
            other => Stop::Internal(other.to_string()),
        })?;
    let (output, paid_by) = call_provider(backend, job, &request).await?;
    let data = fetch_output(backend, job, &output.image).await?;
    let prepared = check_image(backend, job.provider, data).await?;
    let job = advance(backend, job, ImageStatus::Uploading).await?;
    let key = store(backend, &job, &prepared).await?;
    complete(backend, &job, &request, (&output, paid_by), &prepared, key).await
}

/// Asks the provider for the image (uploading the references first where it needs that),
/// within the call timeout; the files uploaded for the call are deleted whatever the
/// answer. Answers the output and whose key paid for it.
async fn call_provider(
    backend: &Backend,
    job: &JobRecord,
    request: &JobRequest,
) -> Result<(providers::Output, spend::PaidBy), Stop> {
    let provider = job.provider;
    let key_use = resolve_key_use(backend, &job.user_id, provider)
        .await
        .map_err(Stop::Provider)?;
    let paid_by = spend::PaidBy::of(key_use.as_ref());
    let key = key_use.map(|u| u.key);
    let references = load_references(backend, &job.user_id, &request.reference_image_ids).await?;
    let call = Call {
        model: job.model.clone(),
        prompt: request.prompt.clone(),
        size: request.size.clone(),
        quality: request.quality.clone(),
        seed: request.seed,
        references,
        identity: request.identity.clone(),
        edit_of: request.edit_of.clone(),
        key,
        job_id: job.id.clone(),
    };
    let ledger = Ledger { backend, job };
    let timeout = backend.config.jobs.call_timeout;
    let call_started = Instant::now();
    let answer = match tokio::time::timeout(
        timeout,
        backend
            .external
            .providers
            .generate(provider, &call, &ledger),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(ProviderError::new(
            Failure::Timeout,
            format!(
                "{} did not answer within {} seconds.",
                provider.label(),
                timeout.as_secs()
            ),
        )),
    };
    metrics::histogram!(
        "avatar_provider_call_seconds",
        "provider" => provider.as_str(),
        "outcome" => match &answer { Ok(_) => "ok", Err(e) => e.failure.code() },
    )
    .record(call_started.elapsed().as_secs_f64());
    delete_provider_files(backend, job).await;
    answer
        .map(|output| (output, paid_by))
        .map_err(Stop::Provider)
}

/// The image's bytes: as the provider sent them, or downloaded (SSRF-safe) from the URL
/// it answered with, at the `downloading` stage.
async fn fetch_output(
    backend: &Backend,
    job: &JobRecord,
    image: &Produced,
) -> Result<bytes::Bytes, Stop> {
    match image {
        Produced::Bytes(b) => Ok(b.clone()),
        Produced::Url(url) => {
            advance(backend, job, ImageStatus::Downloading).await?;
            let limit = generated_limits(backend).max_bytes;
            let fetched = backend
                .external
                .outbound
                .fetch(url, limit)
                .await
                .map_err(|e| {
                    Stop::Provider(ProviderError::new(
                        Failure::Unavailable,
                        format!(
                            "The image {} made could not be downloaded: {e}",
                            job.provider.label()
                        ),
                    ))
                })?;
            Ok(fetched.bytes)
        }
    }
}

/// The same checks as an upload's (content, size, metadata stripped), on the image
/// workers.
async fn check_image(
    backend: &Backend,
    provider: ProviderId,
    data: bytes::Bytes,
) -> Result<imaging::Prepared, Stop> {
    let limits = generated_limits(backend);
    backend
        .runtime
        .image_workers
        .run(move || imaging::prepare(data, &limits))
        .await
        .map_err(|e| {
            Stop::Provider(ProviderError::new(
                Failure::Unavailable,
                format!(
                    "{} sent something that is not a usable image ({e}).",
                    provider.label()
                ),
            ))
        })
}

/// Writes the image to object storage under the key its job's own ids and times give, so
/// that a second run writes the same object again rather than a second one.
async fn store(
    backend: &Backend,
    job: &JobRecord,
    prepared: &imaging::Prepared,
) -> Result<object_store::path::Path, Stop> {
    let (Some(user), Some(image)) = (Id::parse(&job.user_id), Id::parse(&job.image_id)) else {
        return Err(Stop::Internal("a job with malformed ids".into()));
    };
    let character = job.character_id.as_deref().and_then(Id::parse);
    let object = match (&character, job.set_avatar) {
        (Some(character), true) => ObjectKey::CharacterAvatar {
            user: &user,
            character,
            timestamp_ms: job.created_at,
            image: &image,
            format: prepared.format,
        },
        _ => ObjectKey::Generated {
            user: &user,
            image: &image,
            format: prepared.format,
        },
    };
    let key = storage::key(&object);
    backend
        .storage
        .write(&key, prepared.bytes.clone())
        .await
        .map_err(|e| Stop::Internal(format!("object storage: {e}")))?;
    Ok(key)
}

/// Records the finished image with how it was made, and tells the owner.
async fn complete(
    backend: &Backend,
    job: &JobRecord,
    request: &JobRequest,
    (output, paid_by): (&providers::Output, spend::PaidBy),
    prepared: &imaging::Prepared,
    key: object_store::path::Path,
) -> Result<(), Stop> {
    let (cost, entry) = spend::price_job(backend, job, request, output.usage.as_ref(), paid_by)
        .await
        .map_err(|e| Stop::Internal(e.to_string()))?;
    let cost_json = serde_json::to_string(&cost).ok();
    let provenance = model::Provenance {
        cost: Some(cost),
        usage: output.usage.clone(),
        // From the first attempt's start: retries and their waits count.
        duration_ms: u64::try_from(now_ms() - job.started_at.unwrap_or(job.created_at)).ok(),
        attempts: u32::try_from(job.attempt).unwrap_or(0),
        reference_image_ids: request.reference_image_ids.clone(),
        provider_request_id: output.request_id.clone(),
        character_sheet: request.sheet.clone(),
    };
    let done = queue_db::Finished {
        storage_key: key.to_string(),
        mime_type: prepared.format.mime().to_owned(),
        width: i64::from(prepared.width),
        height: i64::from(prepared.height),
        bytes: i64::try_from(prepared.bytes.len()).unwrap_or(i64::MAX),
        sha256: prepared.sha256.clone(),
        revised_prompt: output.revised_prompt.clone(),
        generation: serde_json::to_string(&provenance).unwrap_or_default(),
        cost: cost_json,
        spend: Some(entry),
    };
    let finished = queue_db::complete(
        &backend.db,
        &job.id,
        &backend.runtime.queue.inner.owner,
        &done,
    )
    .await?
    .ok_or(Stop::Lost)?;
    let image = db::images::get(&backend.db, &job.user_id, &job.image_id)
        .await?
        .map(|r| r.to_model());
    tracing::info!(bytes = done.bytes, "job completed");
    metrics::counter!("avatar_jobs_finished_total", "provider" => job.provider.as_str(), "status" => "completed").increment(1);
    publish(backend, &finished, image);
    Ok(())
}

/// Generated images may be larger than uploads (a 1792×1024 PNG); the other limits stay.
pub(super) fn generated_limits(backend: &Backend) -> imaging::Limits {
    let limits = backend.config.image_limits;
    imaging::Limits {
        max_bytes: limits.max_bytes.max(64 * 1024 * 1024),
        ..limits
    }
}

/// The key for `provider`: the person's own, else the server's; none for the built-in one.
pub async fn resolve_key(
    backend: &Backend,
    user_id: &str,
    provider: ProviderId,
) -> Result<Option<SecretString>, ProviderError> {
    Ok(resolve_key_use(backend, user_id, provider)
        .await?
        .map(|u| u.key))
}

/// The key for `provider` and whose it is (the spend ledger says which key paid).
async fn resolve_key_use(
    backend: &Backend,
    user_id: &str,
    provider: ProviderId,
) -> Result<Option<KeyUse>, ProviderError> {
    let Some(which) = providers::key_provider(provider) else {
        return Ok(None);
    };
    match crate::services::provider_keys::key_for(backend, user_id, which).await {
        Ok(Some(key)) => Ok(Some(key)),
        Ok(None) => Err(ProviderError::new(
            Failure::InvalidKey,
            format!(
                "{} needs an API key: add yours in Settings.",
                provider.label()
            ),
        )),
        Err(e) => Err(ProviderError::new(Failure::InvalidKey, e.to_string())),
    }
}

pub(super) async fn load_references(
    backend: &Backend,
    user_id: &str,
    ids: &[String],
) -> Result<Vec<Reference>, Stop> {
    let rows = db::images::get_many(&backend.db, user_id, ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (Some(key), Some(mime)) = (&row.storage_key, &row.mime_type) else {
            continue;
        };
        let Some(data) = backend
            .storage
            .read(&object_store::path::Path::from(key.as_str()))
            .await
            .map_err(|e| Stop::Internal(format!("object storage: {e}")))?
        else {
            return Err(Stop::Provider(ProviderError::new(
                Failure::BadRequest,
                "A reference image is missing from storage; choose another.",
            )));
        };
        out.push(Reference {
            image_id: row.id.clone(),
            mime_type: mime.clone(),
            data,
        });
    }
    Ok(out)
}

/// Publishes the job's state (and its image once completed).
pub fn publish(backend: &Backend, job: &JobRecord, image: Option<model::Image>) {
    let user_id = &job.user_id;
    let job = job.to_model();
    let event = JobEvent {
        job_id: job.id,
        image_id: job.image_id,
        character_id: job.character_id,
        status: job.status,
        seq: job.seq,
        attempt: job.attempt,
        error: job.error,
        next_attempt_at: job.next_attempt_at,
        image: image.map(Box::new),
    };
    backend
        .runtime
        .hub
        .publish(user_id, &ServerMessage::Job(event));
}
