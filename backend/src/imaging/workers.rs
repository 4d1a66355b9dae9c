//! The bound on image work: every decode, resize and encode runs on a blocking thread,
//! at most this many at a time.

use std::sync::Arc;

use super::*;

/// Bounds the CPU work on images: at most `IMAGE_WORKERS` decodes, resizes or encodes at
/// once, each on a blocking thread so that the async runtime never waits on one.
#[derive(Debug, Clone)]
pub struct ImageWorkers {
    permits: Arc<tokio::sync::Semaphore>,
}

impl ImageWorkers {
    pub fn new(workers: usize) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
        }
    }

    /// Runs `work` on a blocking thread once a worker is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ImageError>
    where
        F: FnOnce() -> Result<T, ImageError> + Send + 'static,
        T: Send + 'static,
    {
        self.permit().await?.run(work).await
    }

    /// Waits for a free worker and holds it: take it before reading what the work needs
    /// into memory, so that no more than `IMAGE_WORKERS` sources are held at once.
    pub async fn permit(&self) -> Result<WorkerPermit, ImageError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| ImageError::Internal(e.to_string()))?;
        Ok(WorkerPermit { _permit: permit })
    }
}

/// A worker, held: the work it runs needs no further wait.
#[derive(Debug)]
pub struct WorkerPermit {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl WorkerPermit {
    /// Runs `work` on a blocking thread, then frees the worker.
    pub async fn run<T, F>(self, work: F) -> Result<T, ImageError>
    where
        F: FnOnce() -> Result<T, ImageError> + Send + 'static,
        T: Send + 'static,
    {
        let result = tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ImageError::Internal(format!("an image task failed: {e}")))?;
        drop(self);
        result
    }
}
