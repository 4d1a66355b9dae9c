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

/// Bounds the memory that received files take: each file reserves its largest allowed
/// size (`MAX_UPLOAD_BYTES`) out of `UPLOAD_MEMORY_BYTES` before its first byte is read
/// and gives it back once it is stored. A file reserves all it may need at once, so
/// requests waiting for room never hold part of it (no two can starve each other).
#[derive(Debug, Clone)]
pub struct Intake {
    /// In KiB: a semaphore counts in `u32`.
    kib: Arc<tokio::sync::Semaphore>,
    total_kib: u32,
}

/// Room for one file, held until it is dropped.
#[derive(Debug)]
pub struct IntakePermit {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Intake {
    pub fn new(total_bytes: u64) -> Self {
        let total_kib = u32::try_from(total_bytes.div_ceil(1024))
            .unwrap_or(u32::MAX >> 4)
            .max(1);
        Self {
            kib: Arc::new(tokio::sync::Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Waits until `bytes` (at most the whole budget) are free and holds them.
    pub async fn reserve(&self, bytes: u64) -> Result<IntakePermit, ImageError> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_kib);
        let permit = Arc::clone(&self.kib)
            .acquire_many_owned(kib)
            .await
            .map_err(|e| ImageError::Internal(e.to_string()))?;
        Ok(IntakePermit { _permit: permit })
    }

    /// Bytes free now.
    pub fn available_bytes(&self) -> u64 {
        self.kib.available_permits() as u64 * 1024
    }
}
