//! The files a job uploads to its provider (Gemini's Files API): recorded as they are
//! made, deleted after the call, and left to the cleanup when that fails.

use model::ProviderId;
use secrecy::SecretString;

use super::*;
use crate::{
    db::{jobs::JobRecord, provider_files as files_db},
    providers::FileLedger,
    Backend,
};

/// Records the provider files a job uploads.
pub(super) struct Ledger<'a> {
    pub(super) backend: &'a Backend,
    pub(super) job: &'a JobRecord,
}

impl FileLedger for Ledger<'_> {
    async fn uploaded(&self, name: &str) {
        if let Err(e) = files_db::record(&self.backend.db, self.job, name).await {
            tracing::error!(error = %e, file = name, "cannot record a provider file; the cleanup will not know of it");
        }
    }
}

/// Deletes the files the job left at its provider.
pub(super) async fn delete_provider_files(backend: &Backend, job: &JobRecord) {
    let files = match files_db::open_for_job(&backend.db, &job.id).await {
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
    backend
        .external
        .providers
        .delete_file(provider, name, key)
        .await?;
    files_db::mark_deleted(&backend.db, id).await?;
    Ok(())
}
