//! What the cleanup reads and removes across aggregates: the object keys the database
//! knows, images whose object went missing, and expired rows (sessions, access tokens,
//! mailed links, idempotency keys).

use std::collections::HashSet;

use model::ProviderId;

use super::{Db, DbError};
use crate::with_pool;

/// Every object key a row refers to: originals and cached variants.
pub async fn known_keys(db: &Db) -> Result<HashSet<String>, DbError> {
    let keys: Vec<String> = with_pool!(db, |pool| sqlx::query_scalar::<_, String>(
        "SELECT storage_key FROM images WHERE storage_key IS NOT NULL \
         UNION ALL SELECT storage_key FROM image_variants"
    )
    .fetch_all(pool)
    .await)?;
    Ok(keys.into_iter().collect())
}

/// An image whose bytes should be in storage.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredImage {
    pub id: String,
    pub user_id: String,
    pub storage_key: String,
    pub missing_at: Option<i64>,
}

/// Every image that has an object and was last changed before `before` (a row written
/// after the storage was listed may have an object the listing did not see).
pub async fn stored_images(db: &Db, before: i64) -> Result<Vec<StoredImage>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, StoredImage>(
        "SELECT id, user_id, storage_key, missing_at FROM images \
         WHERE storage_key IS NOT NULL AND updated_at < $1 ORDER BY id"
    )
    .bind(before)
    .fetch_all(pool)
    .await)?)
}

/// Marks images as missing their object (those not marked yet).
pub async fn mark_missing(db: &Db, ids: &[String], now: i64) -> Result<u64, DbError> {
    let mut marked = 0;
    for id in ids {
        marked += with_pool!(db, |pool| sqlx::query(
            "UPDATE images SET missing_at = $1, updated_at = $1 \
             WHERE id = $2 AND missing_at IS NULL"
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(marked)
}

/// Rows that have expired, by kind: the condition (`$1` is the cut-off time) per table.
pub const EXPIRED: [(&str, &str, &str); 10] = [
    ("sessions", "sessions", "expires_at < $1"),
    (
        "access tokens",
        "api_tokens",
        "expires_at IS NOT NULL AND expires_at < $1",
    ),
    ("mailed links", "email_tokens", "expires_at < $1"),
    ("idempotency keys", "idempotency_keys", "created_at < $1"),
    // Fully recovered: the same as no row.
    ("rate-limit entries", "rate_limits", "tat < $1"),
    (
        "unused invitations",
        "invitations",
        "used_at IS NULL AND expires_at < $1",
    ),
    // Revoked ones stay listed (as revoked) until they would have expired.
    ("share links", "share_links", "expires_at < $1"),
    // Servers that stopped without saying so (services::presence).
    (
        "stale server leases",
        "maintenance_leases",
        "name LIKE 'server:%' AND expires_at < $1",
    ),
    // Sign-ins through a provider that were never finished, and identities never linked.
    (
        "unfinished provider sign-ins",
        "identity_flows",
        "expires_at < $1",
    ),
    (
        "unclaimed identity links",
        "identity_offers",
        "expires_at < $1",
    ),
];

/// How many rows of `table` match `condition` at `cutoff`, deleting them unless
/// `dry_run`.
pub async fn expire(
    db: &Db,
    table: &str,
    condition: &str,
    cutoff: i64,
    dry_run: bool,
) -> Result<u64, DbError> {
    if dry_run {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
        let n: i64 = with_pool!(db, |pool| sqlx::query_scalar(&sql)
            .bind(cutoff)
            .fetch_one(pool)
            .await)?;
        Ok(u64::try_from(n).unwrap_or(0))
    } else {
        let sql = format!("DELETE FROM {table} WHERE {condition}");
        Ok(with_pool!(db, |pool| sqlx::query(&sql)
            .bind(cutoff)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }
}

/// Images in the trash since before `before`, as `(user, image)`.
pub async fn trashed_before(db: &Db, before: i64) -> Result<Vec<(String, String)>, DbError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT user_id, id FROM images WHERE deleted_at IS NOT NULL AND deleted_at < $1 \
         ORDER BY user_id, id",
        )
        .bind(before)
        .fetch_all(pool)
        .await
    })?)
}

/// A cached variant, for the size limit.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CachedVariant {
    pub image_id: String,
    pub spec: String,
    pub storage_key: String,
    pub bytes: i64,
    pub created_at: i64,
}

/// Every cached variant, least recently used first.
pub async fn variants_by_use(db: &Db) -> Result<Vec<CachedVariant>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, CachedVariant>(
        "SELECT image_id, spec, storage_key, bytes, created_at FROM image_variants \
         ORDER BY last_used_at, image_id, spec"
    )
    .fetch_all(pool)
    .await)?)
}

/// The bytes all cached variants take.
pub async fn variant_bytes(db: &Db) -> Result<i64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM image_variants"
    )
    .fetch_one(pool)
    .await)?)
}

/// The `limit` least recently used cached variants.
pub async fn least_used_variants(db: &Db, limit: i64) -> Result<Vec<CachedVariant>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, CachedVariant>(
        "SELECT image_id, spec, storage_key, bytes, created_at FROM image_variants \
         ORDER BY last_used_at, image_id, spec LIMIT $1"
    )
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Takes (or, for its own holder, extends) the lease on task `name` for `owner` until
/// `until`, unless another holder's lease is still live at `now`. One statement, so two
/// processes cannot both take it.
pub async fn take_lease(
    db: &Db,
    name: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<bool, DbError> {
    let holder: Option<String> = with_pool!(db, |pool| sqlx::query_scalar(
        "INSERT INTO maintenance_leases (name, owner, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
         WHERE maintenance_leases.expires_at < $4 OR maintenance_leases.owner = excluded.owner \
         RETURNING owner"
    )
    .bind(name)
    .bind(owner)
    .bind(until)
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    Ok(holder.as_deref() == Some(owner))
}

/// A live lease: its name, holder and end.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeaseRecord {
    pub name: String,
    pub owner: String,
    pub expires_at: i64,
}

/// The leases whose name starts with `prefix` and that are live at `now`.
pub async fn live_leases(db: &Db, prefix: &str, now: i64) -> Result<Vec<LeaseRecord>, DbError> {
    // `prefix` is ours (a constant), never a caller's: no LIKE wildcards to escape.
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, LeaseRecord>(
        "SELECT name, owner, expires_at FROM maintenance_leases \
         WHERE name LIKE $1 AND expires_at >= $2 ORDER BY name"
    )
    .bind(format!("{prefix}%"))
    .bind(now)
    .fetch_all(pool)
    .await)?)
}

/// Gives the lease back (only the holder's own).
pub async fn give_up_lease(db: &Db, name: &str, owner: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "DELETE FROM maintenance_leases WHERE name = $1 AND owner = $2"
    )
    .bind(name)
    .bind(owner)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// One run of a maintenance task.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRecord {
    pub id: String,
    pub task: String,
    pub trigger: String,
    pub dry_run: bool,
    pub started_at: i64,
    pub finished_at: i64,
    pub summary: String,
    pub error: Option<String>,
}

pub async fn record_run(db: &Db, run: &RunRecord) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO maintenance_runs (id, task, trigger, dry_run, started_at, finished_at, \
         summary, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&run.id)
    .bind(&run.task)
    .bind(&run.trigger)
    .bind(run.dry_run)
    .bind(run.started_at)
    .bind(run.finished_at)
    .bind(&run.summary)
    .bind(&run.error)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The most recent runs, newest first.
pub async fn recent_runs(db: &Db, limit: i64) -> Result<Vec<RunRecord>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, RunRecord>(
        "SELECT id, task, trigger, dry_run, started_at, finished_at, summary, error \
         FROM maintenance_runs ORDER BY started_at DESC, id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Jobs that failed for good since `since`, by provider and reason: `(provider, reason,
/// count, last finished, last message)`, most frequent first.
pub async fn failures_since(
    db: &Db,
    since: i64,
    limit: i64,
) -> Result<Vec<(ProviderId, String, i64, i64, Option<String>)>, DbError> {
    let rows = with_pool!(db, |pool| sqlx::query_as::<
        _,
        (
            super::Enumerated<ProviderId>,
            String,
            i64,
            i64,
            Option<String>
        ),
    >(
        "SELECT j.provider, COALESCE(j.error_code, 'unknown'), COUNT(*), MAX(j.finished_at), \
           (SELECT l.error_message FROM jobs l WHERE l.status = 'error' \
              AND l.provider = j.provider AND l.error_code = j.error_code \
              AND l.finished_at >= $1 ORDER BY l.finished_at DESC LIMIT 1) \
         FROM jobs j WHERE j.status = 'error' AND j.finished_at >= $1 \
         GROUP BY j.provider, j.error_code ORDER BY COUNT(*) DESC, MAX(j.finished_at) DESC \
         LIMIT $2"
    )
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(p, reason, n, last, message)| (p.0, reason, n, last, message))
        .collect())
}

/// What object storage holds, as the rows record it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct StorageTotals {
    pub images: i64,
    pub image_bytes: i64,
    pub trash: i64,
    pub trash_bytes: i64,
    pub missing: i64,
    pub variants: i64,
    pub variant_bytes: i64,
    pub accounts: i64,
    pub disabled_accounts: i64,
}

/// The storage totals and the number of accounts, in one round trip.
pub async fn storage_totals(db: &Db) -> Result<StorageTotals, DbError> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, StorageTotals>(
        "SELECT \
           CAST(COALESCE(SUM(CASE WHEN i.deleted_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS images, \
           CAST(COALESCE(SUM(CASE WHEN i.deleted_at IS NULL THEN i.bytes ELSE 0 END), 0) AS BIGINT) AS image_bytes, \
           CAST(COALESCE(SUM(CASE WHEN i.deleted_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS trash, \
           CAST(COALESCE(SUM(CASE WHEN i.deleted_at IS NOT NULL THEN i.bytes ELSE 0 END), 0) AS BIGINT) AS trash_bytes, \
           CAST(COALESCE(SUM(CASE WHEN i.missing_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS missing, \
           (SELECT COUNT(*) FROM image_variants) AS variants, \
           (SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM image_variants) AS variant_bytes, \
           (SELECT COUNT(*) FROM users) AS accounts, \
           (SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL) AS disabled_accounts \
         FROM images i WHERE i.storage_key IS NOT NULL"
    )
    .fetch_one(pool)
    .await
    })?)
}
