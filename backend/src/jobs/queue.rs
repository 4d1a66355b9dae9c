//! The queue's handle: wakes the dispatcher (in this process directly, in the others
//! through PostgreSQL's `NOTIFY`) and reaches the jobs running here to cancel them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    db::{self},
    Backend,
};

/// The queue's handle in [`Backend`]: wakes the dispatcher and reaches running jobs.
#[derive(Debug, Clone)]
pub struct Queue {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) notify: Notify,
    /// This process's name on the leases it holds.
    pub(super) owner: String,
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

    pub(super) fn register(&self, job_id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        self.inner
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job_id.to_owned(), token.clone());
        token
    }

    pub(super) fn unregister(&self, job_id: &str) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(job_id);
    }
}

/// With PostgreSQL, other processes insert jobs too: their `NOTIFY` wakes this one.
pub(super) fn spawn_listener(
    backend: &Backend,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let db::Db::Postgres(pool) = &backend.db else {
        return None;
    };
    let pool = pool.clone();
    let queue = backend.runtime.queue.clone();
    Some(tokio::spawn(async move {
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = db::notify::listen(&pool, WAKE_CHANNEL, "new jobs", |_| queue.wake()) => {}
        }
    }))
}

/// The PostgreSQL channel on which new jobs are announced.
pub(super) const WAKE_CHANNEL: &str = "avatar_studio_jobs";

/// Wakes the dispatchers of every process: this one directly, the others (PostgreSQL)
/// through `NOTIFY`.
pub async fn announce(backend: &Backend) {
    backend.runtime.queue.wake();
    if let db::Db::Postgres(pool) = &backend.db {
        if let Err(e) = db::notify::notify(pool, WAKE_CHANNEL, "").await {
            tracing::warn!(error = %e, "cannot announce new jobs to other processes");
        }
    }
}
