//! What the cleanup reads and removes across aggregates: the object keys the database
//! knows, images whose object went missing, and expired rows (sessions, access tokens,
//! mailed links, idempotency keys).

use std::collections::HashSet;

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
pub const EXPIRED: [(&str, &str, &str); 4] = [
    ("sessions", "sessions", "expires_at < $1"),
    (
        "access tokens",
        "api_tokens",
        "expires_at IS NOT NULL AND expires_at < $1",
    ),
    ("mailed links", "email_tokens", "expires_at < $1"),
    ("idempotency keys", "idempotency_keys", "created_at < $1"),
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
