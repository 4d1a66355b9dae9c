//! What the administrator's operations page shows (`GET /api/v1/admin/operations`); the
//! same numbers are on `/metrics`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ImageStatus, ProviderId};

/// The state of the instance, read from the database when asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operations {
    #[serde(with = "crate::timestamp")]
    pub generated_at: DateTime<Utc>,
    /// Jobs by provider and state (every state with at least one job).
    pub jobs: Vec<JobCount>,
    /// Jobs that failed for good in the last `failure_window_hours`, by provider and reason,
    /// most frequent first.
    pub failures: Vec<FailureCount>,
    pub failure_window_hours: u32,
    pub storage: StorageUsage,
    /// The last cleanup runs, newest first.
    pub cleanup_runs: Vec<CleanupRun>,
    /// How often the server runs the cleanup (`null` when the schedule is off).
    pub cleanup_interval_seconds: Option<u64>,
    /// Accounts on the instance, and how many of them are disabled.
    pub accounts: u64,
    pub disabled_accounts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobCount {
    pub provider: ProviderId,
    pub status: ImageStatus,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureCount {
    pub provider: ProviderId,
    /// The failure's code (`rate_limited`, `invalid_key`, `abandoned`, …).
    pub reason: String,
    pub count: u64,
    #[serde(with = "crate::timestamp")]
    pub last_at: DateTime<Utc>,
    /// The message of the most recent one, as its owner saw it.
    pub last_message: String,
}

/// Bytes kept in object storage, as the database records them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageUsage {
    /// Images in people's libraries.
    pub images: u64,
    pub image_bytes: u64,
    /// Images in the trash (purged after the retention period).
    pub trash: u64,
    pub trash_bytes: u64,
    /// Cached resized variants (kept under the configured limit).
    pub variants: u64,
    pub variant_bytes: u64,
    pub variant_limit_bytes: u64,
    /// Images whose object the cleanup found missing.
    pub missing: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanupRun {
    #[serde(with = "crate::timestamp")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub finished_at: DateTime<Utc>,
    /// `server` (the schedule) or `command` (`avatar-studio cleanup`).
    pub trigger: String,
    pub dry_run: bool,
    /// The summary line of the run's report.
    pub summary: String,
    /// Why the run failed, if it did.
    pub error: Option<String>,
}
