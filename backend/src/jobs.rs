//! The generation workers. A dispatcher claims due jobs from the database queue (fairest
//! first, within the global, per-user and per-provider limits) and runs each on its own
//! task: provider call, download, checks, storage, completion — every stage persisted and
//! published. A heartbeat renews the job's lease (a crashed worker's job is claimed again
//! once its lease expires) and notices cancellation. Failures are retried with
//! exponential backoff and jitter, honouring the provider's hints, unless retrying cannot
//! help. The dispatcher sleeps until woken (a new job, a finished one) or until the next
//! retry or lease is due: no busy polling.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use backon::BackoffBuilder;
use model::{ImageFailure, ImageStatus, JobEvent, ProviderId, ServerMessage};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    db::{
        self,
        jobs::{self as queue_db, JobRecord, Transition},
    },
    domain::Id,
    imaging, now_ms,
    providers::{self, Call, Failure, FileLedger, Produced, ProviderError, Reference},
    storage::{self, ObjectKey},
    Backend,
};

/// What a job asks the provider for (stored as JSON in `jobs.request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    pub prompt: String,
    pub size: String,
    pub quality: Option<String>,
    pub seed: i64,
    #[serde(default)]
    pub reference_image_ids: Vec<String>,
}

/// The queue's handle in [`Backend`]: wakes the dispatcher and reaches running jobs.
#[derive(Debug, Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    notify: Notify,
    /// This process's name on the leases it holds.
    owner: String,
    /// The jobs running here, to cancel them at once.
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                notify: Notify::new(),
                owner: format!("worker-{}", crate::new_id()),
                running: Mutex::default(),
            }),
        }
    }
}

impl Queue {
    /// Tells the dispatcher that there may be work (a new job, a freed slot).
    pub fn wake(&self) {
        self.inner.notify.notify_one();
    }

    /// Stops a job running in this process at once (others notice at their heartbeat).
    pub fn cancel_local(&self, job_id: &str) {
        let running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = running.get(job_id) {
            token.cancel();
        }
    }

    fn register(&self, job_id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        self.inner
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job_id.to_owned(), token.clone());
        token
    }

    fn unregister(&self, job_id: &str) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(job_id);
    }
}

/// What the dispatcher found.
enum Claim {
    Job(Box<JobRecord>),
    /// Due jobs exist, but their owners or providers are at their limits.
    Blocked,
    Empty,
}

/// Runs the dispatcher until `shutdown`; then waits (up to the shutdown timeout) for the
/// running jobs. A job cut off keeps its lease and is claimed again after it expires.
pub async fn run(backend: Backend, shutdown: CancellationToken) {
    let settings = backend.config.jobs.clone();
    let slots = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
    let mut tasks = JoinSet::new();
    let listener = spawn_listener(&backend, shutdown.clone());
    tracing::info!(
        concurrency = settings.concurrency,
        per_user = settings.per_user,
        per_provider = settings.per_provider,
        "generation workers started"
    );
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "a job task panicked; its lease will expire and the job will be retried");
            }
        }
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let wait = match claim_one(&backend).await {
            Ok(Claim::Job(job)) => {
                tasks.spawn(run_job(backend.clone(), *job, permit));
                continue;
            }
            Ok(Claim::Blocked) => Duration::from_secs(2),
            Ok(Claim::Empty) => match queue_db::next_due(&backend.db).await {
                Ok(Some(at)) => Duration::from_millis(
                    u64::try_from((at - now_ms()).clamp(0, 30_000)).unwrap_or(0) + 5,
                ),
                Ok(None) => Duration::from_secs(30),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the queue");
                    Duration::from_secs(2)
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot claim a job");
                Duration::from_secs(2)
            }
        };
        drop(permit);
        tokio::select! {
            () = backend.queue.inner.notify.notified() => {}
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => break,
        }
    }
    if let Some(listener) = listener {
        listener.abort();
    }
    let grace = backend.config.shutdown_timeout;
    if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!(
            running = tasks.len(),
            "jobs still running at shutdown; they will be claimed again when their leases expire"
        );
        tasks.abort_all();
    }
    tracing::info!("generation workers stopped");
}

/// With PostgreSQL, other processes insert jobs too: their `NOTIFY` wakes this one.
fn spawn_listener(
    backend: &Backend,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let db::Db::Postgres(pool) = &backend.db else {
        return None;
    };
    let pool = pool.clone();
    let queue = backend.queue.clone();
    Some(tokio::spawn(async move {
        while !shutdown.is_cancelled() {
            match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(WAKE_CHANNEL).await {
                        tracing::warn!(error = %e, "cannot listen for new jobs");
                    } else {
                        while let Ok(_n) = listener.recv().await {
                            queue.wake();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for new jobs"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }))
}

/// The PostgreSQL channel on which new jobs are announced.
const WAKE_CHANNEL: &str = "avatar_studio_jobs";

/// Wakes the dispatchers of every process: this one directly, the others (PostgreSQL)
/// through `NOTIFY`.
pub async fn announce(backend: &Backend) {
    backend.queue.wake();
    if let db::Db::Postgres(pool) = &backend.db {
        if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
            .bind(WAKE_CHANNEL)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %e, "cannot announce new jobs to other processes");
        }
    }
}

async fn claim_one(backend: &Backend) -> Result<Claim, db::DbError> {
    let settings = &backend.config.jobs;
    let now = now_ms();
    let lease = i64::try_from(settings.lease.as_millis()).unwrap_or(60_000);
    let mut blocked = false;
    for c in queue_db::candidates(&backend.db, now, 50).await? {
        let per_user = i64::try_from(settings.per_user).unwrap_or(i64::MAX);
        let per_provider = i64::try_from(settings.per_provider).unwrap_or(i64::MAX);
        if c.user_running >= per_user || c.provider_running >= per_provider {
            blocked = true;
            continue;
        }
        let owner = &backend.queue.inner.owner;
        if let Some(job) = queue_db::claim(&backend.db, &c.id, owner, now, now + lease).await? {
            return Ok(Claim::Job(Box::new(job)));
        }
    }
    Ok(if blocked {
        Claim::Blocked
    } else {
        Claim::Empty
    })
}

/// Why a run stopped short of completing.
#[derive(Debug)]
enum Stop {
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

/// Records the provider files a job uploads.
struct Ledger<'a> {
    backend: &'a Backend,
    job: &'a JobRecord,
}

impl FileLedger for Ledger<'_> {
    async fn uploaded(&self, name: &str) {
        if let Err(e) = queue_db::record_provider_file(&self.backend.db, self.job, name).await {
            tracing::error!(error = %e, file = name, "cannot record a provider file; the cleanup will not know of it");
        }
    }
}

async fn run_job(backend: Backend, job: JobRecord, _permit: tokio::sync::OwnedSemaphorePermit) {
    let span = tracing::info_span!(
        "job",
        job_id = %job.id,
        image_id = %job.image_id,
        user_id = %job.user_id,
        provider = %job.provider,
        model = %job.model,
        attempt = job.attempt,
    );
    async {
        tracing::info!("job claimed");
        publish(&backend, &job, None);
        let token = backend.queue.register(&job.id);
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(
            backend.clone(),
            job.id.clone(),
            token.clone(),
            lost.clone(),
        ));
        let outcome = tokio::select! {
            biased;
            () = token.cancelled() => Err(if lost.load(Ordering::SeqCst) { Stop::Lost } else { Stop::Canceled }),
            r = execute(&backend, &job) => r,
        };
        heartbeat.abort();
        backend.queue.unregister(&job.id);
        // Files left by a call that was cut short (cancellation, lost lease) go before the
        // final state is told.
        delete_provider_files(&backend, &job).await;
        if let Err(e) = settle(&backend, &job, outcome).await {
            tracing::error!(error = %e, "cannot record the job's outcome; it will be retried when its lease expires");
        }
        backend.queue.wake();
    }
    .instrument(span)
    .await;
}

/// Renews the lease every third of its length; cancels `token` when cancellation was
/// asked for or the lease was lost.
async fn heartbeat(
    backend: Backend,
    job_id: String,
    token: CancellationToken,
    lost: Arc<AtomicBool>,
) {
    let lease = backend.config.jobs.lease;
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(60_000);
    let owner = backend.queue.inner.owner.clone();
    loop {
        tokio::time::sleep(lease / 3).await;
        match queue_db::heartbeat(&backend.db, &job_id, &owner, now_ms() + lease_ms).await {
            Ok(Some(false)) => {}
            Ok(Some(true)) => {
                tracing::info!("cancellation asked for");
                token.cancel();
                return;
            }
            Ok(None) => {
                tracing::warn!("the job's lease was lost");
                lost.store(true, Ordering::SeqCst);
                token.cancel();
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew the lease"),
        }
    }
}

/// Moves the job to `status` and tells the user's connections.
async fn advance(
    backend: &Backend,
    job: &JobRecord,
    status: ImageStatus,
) -> Result<JobRecord, Stop> {
    let t = Transition {
        status,
        error: None,
        retry_at: None,
    };
    let next = queue_db::transition(&backend.db, &job.id, &backend.queue.inner.owner, &t)
        .await?
        .ok_or(Stop::Lost)?;
    tracing::info!(stage = status.as_str(), "stage");
    publish(backend, &next, None);
    Ok(next)
}

/// One attempt, from the provider call to the stored image.
async fn execute(backend: &Backend, job: &JobRecord) -> Result<(), Stop> {
    let request: JobRequest = serde_json::from_str(&job.request)
        .map_err(|e| Stop::Internal(format!("unreadable job request: {e}")))?;
    let provider = job.provider;
    let key = resolve_key(backend, &job.user_id, provider)
        .await
        .map_err(Stop::Provider)?;
    let references = load_references(backend, &job.user_id, &request.reference_image_ids).await?;
    let call = Call {
        model: job.model.clone(),
        prompt: request.prompt.clone(),
        size: request.size.clone(),
        quality: request.quality.clone(),
        seed: request.seed,
        references,
        key,
        job_id: job.id.clone(),
    };
    let ledger = Ledger { backend, job };
    let timeout = backend.config.jobs.call_timeout;
    let call_started = Instant::now();
    let answer = match tokio::time::timeout(
        timeout,
        backend.providers.generate(provider, &call, &ledger),
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
    // The files uploaded for the call are needed no more, whatever the answer.
    delete_provider_files(backend, job).await;
    let output = answer.map_err(Stop::Provider)?;

    let data = match &output.image {
        Produced::Bytes(b) => b.clone(),
        Produced::Url(url) => {
            advance(backend, job, ImageStatus::Downloading).await?;
            let limit = generated_limits(backend).max_bytes;
            backend
                .outbound
                .fetch(url, limit)
                .await
                .map_err(|e| {
                    Stop::Provider(ProviderError::new(
                        Failure::Unavailable,
                        format!(
                            "The image {} made could not be downloaded: {e}",
                            provider.label()
                        ),
                    ))
                })?
                .bytes
        }
    };
    let limits = generated_limits(backend);
    let prepared = backend
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
        })?;
    let job = advance(backend, job, ImageStatus::Uploading).await?;

    // The key depends only on the job's own ids and times: a second run writes the same
    // object again rather than a second one.
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
    let provenance = model::Provenance {
        usage: output.usage.clone(),
        // From the first attempt's start: retries and their waits count.
        duration_ms: u64::try_from(now_ms() - job.started_at.unwrap_or(job.created_at)).ok(),
        attempts: u32::try_from(job.attempt).unwrap_or(0),
        reference_image_ids: request.reference_image_ids.clone(),
        provider_request_id: output.request_id.clone(),
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
    };
    let finished = queue_db::complete(&backend.db, &job.id, &backend.queue.inner.owner, &done)
        .await?
        .ok_or(Stop::Lost)?;
    let image = db::images::get(&backend.db, &job.user_id, &job.image_id)
        .await?
        .map(|r| r.to_model());
    tracing::info!(bytes = done.bytes, "job completed");
    metrics::counter!("avatar_jobs_finished_total", "provider" => provider.as_str(), "status" => "completed").increment(1);
    publish(backend, &finished, image);
    Ok(())
}

/// Generated images may be larger than uploads (a 1792×1024 PNG); the other limits stay.
fn generated_limits(backend: &Backend) -> imaging::Limits {
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
    let Some(which) = providers::key_provider(provider) else {
        return Ok(None);
    };
    match crate::services::provider_keys::personal_key(backend, user_id, which).await {
        Ok(Some(key)) => return Ok(Some(key)),
        Ok(None) => {}
        Err(e) => return Err(ProviderError::new(Failure::InvalidKey, e.to_string())),
    }
    let server = match provider {
        ProviderId::Openai => backend.config.openai_api_key.clone(),
        ProviderId::Gemini => backend.config.gemini_api_key.clone(),
        ProviderId::Builtin => None,
    };
    server.map(Some).ok_or_else(|| {
        ProviderError::new(
            Failure::InvalidKey,
            format!(
                "{} needs an API key: add yours in Settings.",
                provider.label()
            ),
        )
    })
}

async fn load_references(
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

/// The delay before attempt `attempt + 1`: the provider's hint when it gave one, else
/// exponential backoff with jitter.
pub fn retry_delay(
    settings: &crate::config::JobSettings,
    attempt: u32,
    hint: Option<Duration>,
) -> Duration {
    if let Some(hint) = hint {
        return hint;
    }
    backon::ExponentialBuilder::default()
        .with_min_delay(settings.retry_base)
        .with_max_delay(settings.retry_max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(attempt.saturating_sub(1) as usize)
        .unwrap_or(settings.retry_max)
}

/// Records how a run ended.
async fn settle(
    backend: &Backend,
    job: &JobRecord,
    outcome: Result<(), Stop>,
) -> Result<(), db::DbError> {
    let owner = &backend.queue.inner.owner;
    let provider = job.provider;
    let (transition, retrying) = match outcome {
        Ok(()) => return Ok(()),
        Err(Stop::Lost) => {
            tracing::warn!("another worker took the job over; this run's result is dropped");
            return Ok(());
        }
        Err(Stop::Canceled) => {
            tracing::info!("job canceled");
            metrics::counter!("avatar_jobs_finished_total", "provider" => provider.as_str(), "status" => "canceled").increment(1);
            (
                Transition {
                    status: ImageStatus::Canceled,
                    error: None,
                    retry_at: None,
                },
                false,
            )
        }
        Err(Stop::Provider(e)) => failure(
            backend,
            job,
            e.failure.code(),
            &e.message,
            e.failure.is_retryable(),
            e.retry_after,
        ),
        Err(Stop::Internal(cause)) => {
            tracing::error!(%cause, "the job failed on our side");
            failure(
                backend,
                job,
                "internal",
                "Something went wrong on our side while making this image.",
                true,
                None,
            )
        }
    };
    if let Some(next) = queue_db::transition(&backend.db, &job.id, owner, &transition).await? {
        if retrying {
            metrics::counter!("avatar_job_retries_total", "provider" => provider.as_str(), "reason" => next.error_code.clone().unwrap_or_default()).increment(1);
        }
        publish(backend, &next, None);
    }
    Ok(())
}

/// The transition for a failed attempt: a retry when it can help and attempts are left,
/// else the end.
fn failure(
    backend: &Backend,
    job: &JobRecord,
    code: &str,
    message: &str,
    retryable: bool,
    hint: Option<Duration>,
) -> (Transition, bool) {
    let settings = &backend.config.jobs;
    let attempt = u32::try_from(job.attempt).unwrap_or(u32::MAX);
    let left = job.attempt < job.max_attempts;
    // A provider asking for a very long wait is a quota, not a hiccup.
    let delay = retry_delay(settings, attempt, hint);
    if retryable && left && delay <= Duration::from_secs(3600) {
        tracing::warn!(
            code,
            delay_ms = delay.as_millis() as u64,
            "attempt failed; retrying"
        );
        let at = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
        return (
            Transition {
                status: ImageStatus::Pending,
                error: Some(ImageFailure {
                    code: code.to_owned(),
                    message: message.to_owned(),
                }),
                retry_at: Some(at),
            },
            true,
        );
    }
    let message = if retryable {
        format!("{message} Gave up after {} attempts.", job.attempt)
    } else {
        message.to_owned()
    };
    tracing::warn!(code, "job failed");
    metrics::counter!("avatar_jobs_finished_total", "provider" => job.provider.as_str(), "status" => "error").increment(1);
    metrics::counter!("avatar_job_failures_total", "provider" => job.provider.as_str(), "reason" => code.to_owned()).increment(1);
    (
        Transition {
            status: ImageStatus::Error,
            error: Some(ImageFailure {
                code: code.to_owned(),
                message,
            }),
            retry_at: None,
        },
        false,
    )
}

/// Deletes the files the job left at its provider.
async fn delete_provider_files(backend: &Backend, job: &JobRecord) {
    let files = match queue_db::open_provider_files(&backend.db, &job.id).await {
        Ok(f) if f.is_empty() => return,
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the job's provider files");
            return;
        }
    };
    let provider = job.provider;
    let key = match resolve_key(backend, &job.user_id, provider).await {
        Ok(Some(key)) => key,
        _ => {
            tracing::warn!(
                "no key to delete the job's provider files with; the cleanup will retry"
            );
            return;
        }
    };
    for (id, name) in files {
        match delete_provider_file(backend, provider, &key, &id, &name).await {
            Ok(()) => tracing::info!(file = %name, "provider file deleted"),
            Err(e) => {
                tracing::warn!(error = %e, file = %name, "cannot delete a provider file; the cleanup will retry")
            }
        }
    }
}

/// Deletes one file at its provider and records it (`id` is its `provider_files` row).
pub async fn delete_provider_file(
    backend: &Backend,
    provider: ProviderId,
    key: &SecretString,
    id: &str,
    name: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    backend.providers.delete_file(provider, name, key).await?;
    queue_db::mark_provider_file_deleted(&backend.db, id).await?;
    Ok(())
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
    backend.hub.publish(user_id, &ServerMessage::Job(event));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_hints_win() {
        let settings = crate::Config::load(|k| match k {
            "DATA_DIR" => Some(
                std::env::temp_dir()
                    .join("as-backoff")
                    .display()
                    .to_string(),
            ),
            "ENCRYPTION_SECRET" => Some("x".repeat(40)),
            "RETRY_BASE_MS" => Some("100".into()),
            "RETRY_MAX_MS" => Some("10000".into()),
            _ => None,
        })
        .unwrap()
        .jobs;
        let first = retry_delay(&settings, 1, None);
        let fourth = retry_delay(&settings, 4, None);
        assert!(
            first >= Duration::from_millis(100) && first <= Duration::from_millis(200),
            "{first:?}"
        );
        assert!(
            fourth >= Duration::from_millis(800) && fourth <= Duration::from_millis(1600),
            "{fourth:?}"
        );
        assert!(retry_delay(&settings, 30, None) <= Duration::from_millis(20_000));
        assert_eq!(
            retry_delay(&settings, 1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }
}
