//! The cleanup: reconciles the database with the object store in both directions, ends
//! jobs whose worker is gone for good, and removes expired rows. `dry_run` reports what
//! would be done and changes nothing.
//!
//! - An object no row refers to is an orphan (a crash between upload and commit, say);
//!   one younger than `CLEANUP_ORPHAN_GRACE_SECONDS` is left alone, so an upload in flight
//!   is never deleted. The storage is listed before the database is read, so a row
//!   committed meanwhile protects its object.
//! - An image whose object is gone is reported and marked (`missing_at`), never dropped;
//!   its media URL answers 404. A cached variant whose object is gone is reported and its
//!   row forgotten: it is a copy, made again from the original when next asked for.
//! - A job left running with an expired lease and no attempt left ends as `error`.
//! - A file a job uploaded to a provider and could not delete (the provider did not
//!   answer, say) is deleted with its owner's key once the job has ended; one whose key is
//!   gone is given up after the provider's own retention (Gemini keeps files 48 hours).

use std::{
    collections::{hash_map::Entry, HashMap, HashSet},
    fmt,
    time::Duration,
};

use futures::TryStreamExt;
use model::{ImageFailure, ImageStatus, ProviderId};

use super::ServiceError;
use crate::{
    db::{images as images_db, jobs as queue_db, maintenance},
    jobs, now_ms, Backend,
};

/// Idempotency keys are kept this long (a client retrying a request after a day is
/// making a new one).
const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// How long a provider keeps an uploaded file by itself (Gemini's Files API: 48 hours).
const PROVIDER_FILE_LIFETIME: Duration = Duration::from_secs(48 * 3600);

/// Objects the health check writes, never orphans.
const PROBES: [&str; 1] = [".readyz"];

/// What a cleanup did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    /// Orphaned objects deleted (or to delete).
    pub orphans: Vec<String>,
    /// Objects with no row that are younger than the grace period, left alone.
    pub young_orphans: usize,
    /// Images whose object is missing, newly marked (or to mark), as `(image, key)`.
    pub missing: Vec<(String, String)>,
    /// Images already marked missing before this run.
    pub missing_before: usize,
    /// Cached variants whose object is missing, forgotten (or to forget), as
    /// `(image, spec, key)`.
    pub missing_variants: Vec<(String, String, String)>,
    /// Jobs ended as `error` (or to end).
    pub abandoned_jobs: Vec<String>,
    /// Files left at a provider by ended jobs, deleted (or to delete), as
    /// `(provider, name)`.
    pub provider_files: Vec<(ProviderId, String)>,
    /// Left provider files the provider refused to delete this time (tried again next run).
    pub provider_files_failed: usize,
    /// Left provider files with no key to delete them with: given up once the provider has
    /// dropped them itself (`expired`), kept until then (`waiting`).
    pub provider_files_expired: usize,
    pub provider_files_waiting: usize,
    /// Images purged from the trash after the retention period (or to purge).
    pub purged: Vec<String>,
    /// Cached variants evicted to stay under the size limit (or to evict), and their bytes.
    pub evicted_variants: usize,
    pub evicted_bytes: u64,
    /// Expired rows removed (or to remove), by kind.
    pub expired: Vec<(&'static str, u64)>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (delete, mark, end, remove, forget) = if self.dry_run {
            (
                "would delete",
                "would mark",
                "would end",
                "would remove",
                "would forget",
            )
        } else {
            ("deleted", "marked", "ended", "removed", "forgot")
        };
        for key in &self.orphans {
            writeln!(f, "orphan      {delete} {key}")?;
        }
        for (image, key) in &self.missing {
            writeln!(
                f,
                "missing     {mark} image {image} (its object {key} is gone)"
            )?;
        }
        for (image, spec, key) in &self.missing_variants {
            writeln!(
                f,
                "missing     {forget} variant {spec} of image {image} (its object {key} is \
                 gone; it is made again when asked for)"
            )?;
        }
        for job in &self.abandoned_jobs {
            writeln!(f, "stuck job   {end} job {job} as error")?;
        }
        for (provider, name) in &self.provider_files {
            writeln!(f, "provider    {delete} {provider} file {name}")?;
        }
        for image in &self.purged {
            writeln!(f, "trash       {delete} image {image} and its variants")?;
        }
        writeln!(
            f,
            "{}: {delete} {} orphaned object(s) ({} younger than the grace period kept), \
             {mark} {} image(s) missing their object ({} marked before), {end} {} stuck \
             job(s), {delete} {} file(s) left at providers ({} failed, {} without a key \
             expired, {} without a key kept), {delete} {} image(s) past the trash retention, {delete} {} cached \
             variant(s) ({} bytes) over the cache limit, {forget} {} cached variant(s) missing \
             their object, {remove} {}",
            if self.dry_run { "dry run" } else { "cleanup" },
            self.orphans.len(),
            self.young_orphans,
            self.missing.len(),
            self.missing_before,
            self.abandoned_jobs.len(),
            self.provider_files.len(),
            self.provider_files_failed,
            self.provider_files_expired,
            self.provider_files_waiting,
            self.purged.len(),
            self.evicted_variants,
            self.evicted_bytes,
            self.missing_variants.len(),
            self.expired
                .iter()
                .map(|(what, n)| format!("{n} expired {what}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[tracing::instrument(skip_all, fields(dry_run))]
pub async fn cleanup(backend: &Backend, dry_run: bool) -> Result<Report, ServiceError> {
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let started = now_ms();
    // 1. The storage, then the rows: see the module's note on the order.
    let present = sweep_storage(backend, &mut report).await?;
    // 2. Rows whose object is gone (the variants read once: step 6 works on the same list).
    let variants = find_missing(backend, &mut report, &present, started).await?;
    // 3. Jobs nobody will finish.
    let now = now_ms();
    end_abandoned(backend, &mut report, now).await?;
    // 4. Files the ended jobs left at their providers.
    reap_provider_files(backend, dry_run, &mut report).await?;
    // 5. The trash, past its retention: the images, their objects and variants.
    purge_trash(backend, &mut report, now).await?;
    // 6. The variant cache, under its size limit: the least recently used go first.
    evict_variants(backend, &mut report, variants).await?;
    // 7. Expired rows.
    expire_rows(backend, &mut report, now).await?;
    tracing::info!(
        orphans = report.orphans.len(),
        young_orphans = report.young_orphans,
        missing = report.missing.len(),
        missing_variants = report.missing_variants.len(),
        abandoned_jobs = report.abandoned_jobs.len(),
        "cleanup finished"
    );
    Ok(report)
}

/// Deletes the objects no row knows, once older than the grace period (younger ones may
/// belong to an upload in flight); answers every key present.
async fn sweep_storage(
    backend: &Backend,
    report: &mut Report,
) -> Result<HashSet<String>, ServiceError> {
    let dry_run = report.dry_run;
    let grace = chrono::Duration::from_std(backend.config.cleanup_orphan_grace)
        .unwrap_or(chrono::Duration::MAX);
    let cutoff = chrono::Utc::now() - grace;
    let listed: Vec<object_store::ObjectMeta> =
        backend.storage.store().list(None).try_collect().await?;
    let known = maintenance::known_keys(&backend.db).await?;
    let mut present = HashSet::with_capacity(listed.len());
    for meta in listed {
        let key = meta.location.to_string();
        if PROBES.contains(&key.as_str()) {
            continue;
        }
        if !known.contains(&key) {
            if meta.last_modified < cutoff {
                if !dry_run {
                    backend.storage.delete(&meta.location).await?;
                }
                report.orphans.push(key.clone());
            } else {
                report.young_orphans += 1;
            }
        }
        present.insert(key);
    }
    Ok(present)
}

/// Marks images whose object is gone, and forgets cached variants whose object is gone;
/// answers the variants, least recently used first.
async fn find_missing(
    backend: &Backend,
    report: &mut Report,
    present: &HashSet<String>,
    started: i64,
) -> Result<Vec<maintenance::CachedVariant>, ServiceError> {
    let dry_run = report.dry_run;
    let mut newly_missing = Vec::new();
    for image in maintenance::stored_images(&backend.db, started).await? {
        if present.contains(&image.storage_key) {
            continue;
        }
        if image.missing_at.is_some() {
            report.missing_before += 1;
        } else {
            tracing::warn!(image_id = %image.id, key = %image.storage_key, "an image's object is missing from storage");
            newly_missing.push(image.id.clone());
            report.missing.push((image.id, image.storage_key));
        }
    }
    if !dry_run {
        maintenance::mark_missing(&backend.db, &newly_missing, now_ms()).await?;
    }
    // (Read once: the size limit below works on the same list.) A variant written after
    // the storage was listed may have an object the listing did not see.
    let variants = maintenance::variants_by_use(&backend.db).await?;
    for v in &variants {
        if v.created_at >= started || present.contains(&v.storage_key) {
            continue;
        }
        tracing::warn!(image_id = %v.image_id, spec = %v.spec, key = %v.storage_key, "a cached variant's object is missing from storage");
        if !dry_run {
            images_db::delete_variants_by_spec(&backend.db, &v.image_id, &v.spec).await?;
        }
        report
            .missing_variants
            .push((v.image_id.clone(), v.spec.clone(), v.storage_key.clone()));
    }
    Ok(variants)
}

/// Ends the jobs whose worker is gone with no attempt left, and tells their owners.
async fn end_abandoned(
    backend: &Backend,
    report: &mut Report,
    now: i64,
) -> Result<(), ServiceError> {
    let stuck = if report.dry_run {
        queue_db::abandoned(&backend.db, now).await?
    } else {
        let reason = ImageFailure {
            code: "abandoned".to_owned(),
            message: "The worker running this job stopped and no attempt is left. Try again."
                .to_owned(),
        };
        let ended = queue_db::fail_abandoned(&backend.db, now, &reason).await?;
        for job in &ended {
            debug_assert_eq!(job.status, ImageStatus::Error);
            jobs::publish(backend, job, None);
        }
        ended
    };
    report.abandoned_jobs = stuck.into_iter().map(|j| j.id).collect();
    Ok(())
}

/// Purges what has been in the trash longer than `TRASH_RETENTION_DAYS`.
async fn purge_trash(backend: &Backend, report: &mut Report, now: i64) -> Result<(), ServiceError> {
    let retention = i64::try_from(backend.config.trash_retention.as_millis()).unwrap_or(i64::MAX);
    let trashed = maintenance::trashed_before(&backend.db, now.saturating_sub(retention)).await?;
    let ids: Vec<String> = trashed.iter().map(|(_, id)| id.clone()).collect();
    if !report.dry_run && !ids.is_empty() {
        super::images::drop_variants(backend, &ids).await?;
        let mut by_user: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for (user, id) in &trashed {
            by_user.entry(user.as_str()).or_default().push(id.clone());
        }
        for (user_id, ids) in by_user {
            for (_, key) in images_db::purge(&backend.db, user_id, &ids).await? {
                if let Some(key) = key {
                    if let Err(e) = backend
                        .storage
                        .delete(&object_store::path::Path::from(key.as_str()))
                        .await
                    {
                        tracing::warn!(error = %e, key, "could not delete a purged image's object");
                    }
                }
            }
        }
    }
    report.purged = ids;
    Ok(())
}

/// Evicts the least recently used variants until the cache is under
/// `VARIANT_CACHE_MAX_BYTES`. `variants` are those read in step 2, less those forgotten
/// as missing and those purged with their image (or, in a dry run, that would be).
async fn evict_variants(
    backend: &Backend,
    report: &mut Report,
    variants: Vec<maintenance::CachedVariant>,
) -> Result<(), ServiceError> {
    let dry_run = report.dry_run;
    let forgotten: HashSet<&str> = report
        .missing_variants
        .iter()
        .map(|(_, _, key)| key.as_str())
        .collect();
    let purged: HashSet<&str> = report.purged.iter().map(String::as_str).collect();
    let variants: Vec<_> = variants
        .into_iter()
        .filter(|v| {
            !forgotten.contains(v.storage_key.as_str()) && !purged.contains(v.image_id.as_str())
        })
        .collect();
    let mut total: u64 = variants
        .iter()
        .map(|v| u64::try_from(v.bytes).unwrap_or(0))
        .sum();
    for v in variants {
        if total <= backend.config.variant_cache_max_bytes {
            break;
        }
        let bytes = u64::try_from(v.bytes).unwrap_or(0);
        if !dry_run {
            images_db::delete_variants_by_spec(&backend.db, &v.image_id, &v.spec).await?;
            if let Err(e) = backend
                .storage
                .delete(&object_store::path::Path::from(v.storage_key.as_str()))
                .await
            {
                // The row is gone: what is left is an orphan for the next run.
                tracing::warn!(error = %e, key = %v.storage_key, "could not delete an evicted variant");
            }
        }
        total -= bytes;
        report.evicted_variants += 1;
        report.evicted_bytes += bytes;
    }
    Ok(())
}

/// Deletes expired rows (sessions, tokens, idempotency keys past their retention…).
async fn expire_rows(backend: &Backend, report: &mut Report, now: i64) -> Result<(), ServiceError> {
    for (what, table, condition) in maintenance::EXPIRED {
        let cutoff = if table == "idempotency_keys" {
            now - i64::try_from(IDEMPOTENCY_RETENTION.as_millis()).unwrap_or(i64::MAX)
        } else {
            now
        };
        let n = maintenance::expire(&backend.db, table, condition, cutoff, report.dry_run).await?;
        report.expired.push((what, n));
    }
    Ok(())
}

/// Deletes the files ended jobs left at their providers, each with its owner's key (read
/// once per owner and provider).
async fn reap_provider_files(
    backend: &Backend,
    dry_run: bool,
    report: &mut Report,
) -> Result<(), ServiceError> {
    let files = crate::db::provider_files::left(&backend.db).await?;
    let expired_before =
        now_ms() - i64::try_from(PROVIDER_FILE_LIFETIME.as_millis()).unwrap_or(i64::MAX);
    let mut keys: HashMap<(String, ProviderId), Option<secrecy::SecretString>> = HashMap::new();
    for file in files {
        let provider = file.provider;
        let key = match keys.entry((file.user_id.clone(), provider)) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(slot) => slot
                .insert(
                    jobs::resolve_key(backend, &file.user_id, provider)
                        .await
                        .ok()
                        .flatten(),
                )
                .clone(),
        };
        let Some(key) = key else {
            if file.created_at < expired_before {
                if !dry_run {
                    crate::db::provider_files::mark_deleted(&backend.db, &file.id).await?;
                }
                report.provider_files_expired += 1;
            } else {
                report.provider_files_waiting += 1;
            }
            continue;
        };
        if !dry_run {
            if let Err(e) =
                jobs::delete_provider_file(backend, provider, &key, &file.id, &file.name).await
            {
                tracing::warn!(error = %e, file = %file.name, "cannot delete a provider file; the next cleanup tries again");
                report.provider_files_failed += 1;
                continue;
            }
            tracing::info!(file = %file.name, provider = %file.provider, "left provider file deleted");
        }
        report.provider_files.push((file.provider, file.name));
    }
    Ok(())
}

/// The lease of a cleanup run lasts this long; a process that crashed mid-run loses it.
const LEASE: Duration = Duration::from_secs(3600);

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The server's schedule.
    Server,
    /// `avatar-studio cleanup`.
    Command,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Command => "command",
        }
    }
}

/// Runs the cleanup unless another process (a server, or the command) is running it:
/// `None` then. Every run is recorded with its report.
pub async fn run_exclusive(
    backend: &Backend,
    dry_run: bool,
    trigger: Trigger,
) -> Result<Option<Report>, ServiceError> {
    let owner = crate::new_id();
    let started = now_ms();
    let until = started + i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX / 2);
    if !maintenance::take_lease(&backend.db, "cleanup", &owner, started, until).await? {
        tracing::info!("a cleanup is already running elsewhere; not starting another");
        return Ok(None);
    }
    let outcome = cleanup(backend, dry_run).await;
    let run = maintenance::RunRecord {
        id: crate::new_id(),
        task: "cleanup".to_owned(),
        trigger: trigger.as_str().to_owned(),
        dry_run,
        started_at: started,
        finished_at: now_ms(),
        summary: outcome
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        error: outcome.as_ref().err().map(ToString::to_string),
    };
    let recorded = maintenance::record_run(&backend.db, &run).await;
    maintenance::give_up_lease(&backend.db, "cleanup", &owner).await?;
    recorded?;
    outcome.map(Some)
}

/// The server's schedule: a cleanup every `CLEANUP_INTERVAL_SECONDS` (never when 0), one
/// at a time across processes, until `shutdown`.
pub async fn schedule(backend: Backend, shutdown: tokio_util::sync::CancellationToken) {
    let Some(interval) = backend.config.cleanup_interval else {
        shutdown.cancelled().await;
        return;
    };
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match run_exclusive(&backend, false, Trigger::Server).await {
            Ok(Some(_)) | Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "the scheduled cleanup failed; it runs again at the next interval")
            }
        }
    }
}
