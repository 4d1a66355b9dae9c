//! The generation workers. A dispatcher claims due jobs from the database queue (fairest
//! first, within the global, per-user and per-provider limits) and runs each on its own
//! task: provider call, download, checks, storage, completion — every stage persisted and
//! published. A heartbeat renews the job's lease (a crashed worker's job is claimed again
//! once its lease expires) and notices cancellation. Failures are retried with
//! exponential backoff and jitter, honouring the provider's hints, unless retrying cannot
//! help. The dispatcher sleeps until woken (a new job, a finished one) or until the next
//! retry or lease is due: no busy polling.

mod dispatch;
mod pipeline;
mod provider_files;
mod queue;
mod retry;

use serde::{Deserialize, Serialize};

pub use dispatch::run;
pub use pipeline::{publish, resolve_key};
pub use provider_files::delete_provider_file;
pub use queue::{announce, Queue};
pub use retry::retry_delay;

/// What a job asks the provider for (stored as JSON in `jobs.request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    pub prompt: String,
    pub size: String,
    pub quality: Option<String>,
    pub seed: i64,
    /// Every reference sent: the request's own, then the character's identity ones.
    #[serde(default)]
    pub reference_image_ids: Vec<String>,
    /// The character sheet the request was built from (for the provenance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<model::SheetUse>,
    /// The character, for the built-in generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<crate::providers::Identity>,
    /// An edit: the image it starts from (also the first reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_of: Option<crate::providers::EditOf>,
}
