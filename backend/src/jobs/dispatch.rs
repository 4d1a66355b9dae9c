//! The dispatcher: claims due jobs fairest first within the global, per-user and
//! per-provider limits, runs each on its own task with a heartbeat that renews its lease
//! and notices cancellation, and sleeps until woken or until the next job is due.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::*;
use super::{
    pipeline::{execute, Stop},
    provider_files::delete_provider_files,
    queue::spawn_listener,
    retry::settle,
};
use crate::{
    db::{
        self,
        jobs::{self as queue_db, JobRecord},
    },
    now_ms, Backend,
};

/// What the dispatcher found.
pub(super) enum Claim {
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
            () = backend.runtime.queue.inner.notify.notified() => {}
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

pub(super) async fn claim_one(backend: &Backend) -> Result<Claim, db::DbError> {
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
        let owner = &backend.runtime.queue.inner.owner;
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

pub(super) async fn run_job(
    backend: Backend,
    job: JobRecord,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
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
        let token = backend.runtime.queue.register(&job.id);
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
        backend.runtime.queue.unregister(&job.id);
        // Files left by a call that was cut short (cancellation, lost lease) go before the
        // final state is told.
        delete_provider_files(&backend, &job).await;
        if let Err(e) = settle(&backend, &job, outcome).await {
            tracing::error!(error = %e, "cannot record the job's outcome; it will be retried when its lease expires");
        }
        backend.runtime.queue.wake();
    }
    .instrument(span)
    .await;
}

/// Renews the lease every third of its length; cancels `token` when cancellation was
/// asked for or the lease was lost.
pub(super) async fn heartbeat(
    backend: Backend,
    job_id: String,
    token: CancellationToken,
    lost: Arc<AtomicBool>,
) {
    let lease = backend.config.jobs.lease;
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(60_000);
    let owner = backend.runtime.queue.inner.owner.clone();
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
