//! How an attempt ends: completed, canceled, retried after a backoff (the provider's
//! hint when it gave one) or failed for good, with the reason a person can act on.

use std::time::Duration;

use backon::BackoffBuilder;
use model::{ImageFailure, ImageStatus};

use super::pipeline::Stop;
use super::*;
use crate::{
    db::{
        self,
        jobs::{self as queue_db, JobRecord, Transition},
    },
    now_ms, Backend,
};

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
pub(super) async fn settle(
    backend: &Backend,
    job: &JobRecord,
    outcome: Result<(), Stop>,
) -> Result<(), db::DbError> {
    let owner = &backend.runtime.queue.inner.owner;
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
pub(super) fn failure(
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
