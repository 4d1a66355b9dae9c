//! The administrator's view of the instance: jobs by state and provider, recent failures
//! by reason, storage used and the last cleanup runs. The operations page shows it and
//! `/metrics` exports the same numbers.

use model::{CleanupRun, FailureCount, JobCount, Operations, StorageUsage};

use super::{auth::Principal, ServiceError};
use crate::{db::jobs as queue_db, db::maintenance, now_ms, to_time, Backend};

/// Failures are counted over this window.
pub const FAILURE_WINDOW_HOURS: u32 = 24;
/// At most this many (provider, reason) groups of failures.
const FAILURE_GROUPS: i64 = 50;
/// The cleanup runs shown.
const RUNS: i64 = 10;

/// The overview, for an administrator only: anyone else is told it does not exist.
pub async fn overview(backend: &Backend, caller: &Principal) -> Result<Operations, ServiceError> {
    caller.require_admin()?;
    snapshot(backend).await
}

/// The overview, read from the database (four queries, none per row).
pub async fn snapshot(backend: &Backend) -> Result<Operations, ServiceError> {
    let db = &backend.db;
    let since = now_ms() - i64::from(FAILURE_WINDOW_HOURS) * 3_600_000;
    let (jobs, failures, totals, runs) = tokio::try_join!(
        queue_db::count_by_status(db),
        maintenance::failures_since(db, since, FAILURE_GROUPS),
        maintenance::storage_totals(db),
        maintenance::recent_runs(db, RUNS),
    )?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Operations {
        generated_at: chrono::Utc::now(),
        jobs: jobs
            .into_iter()
            .map(|(provider, status, n)| JobCount {
                provider,
                status,
                count: count(n),
            })
            .collect(),
        failures: failures
            .into_iter()
            .map(|(provider, reason, n, last, message)| FailureCount {
                provider,
                reason,
                count: count(n),
                last_at: to_time(last),
                last_message: message.unwrap_or_default(),
            })
            .collect(),
        failure_window_hours: FAILURE_WINDOW_HOURS,
        storage: StorageUsage {
            images: count(totals.images),
            image_bytes: count(totals.image_bytes),
            trash: count(totals.trash),
            trash_bytes: count(totals.trash_bytes),
            variants: count(totals.variants),
            variant_bytes: count(totals.variant_bytes),
            variant_limit_bytes: backend.config.variant_cache_max_bytes,
            missing: count(totals.missing),
        },
        cleanup_runs: runs
            .into_iter()
            .map(|r| CleanupRun {
                started_at: to_time(r.started_at),
                finished_at: to_time(r.finished_at),
                trigger: r.trigger,
                dry_run: r.dry_run,
                // The report ends with its summary line.
                summary: r.summary.lines().last().unwrap_or_default().to_owned(),
                error: r.error,
            })
            .collect(),
        cleanup_interval_seconds: backend.config.cleanup_interval.map(|d| d.as_secs()),
        accounts: count(totals.accounts),
        disabled_accounts: count(totals.disabled_accounts),
    })
}
