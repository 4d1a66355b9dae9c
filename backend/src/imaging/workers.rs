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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ImageError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ImageError::Internal(format!("an image task failed: {e}")))?
    }
}
