//! The `api_tokens` aggregate: personal access tokens for `/api/v1`, stored as SHA-256.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{new_id, now_ms, with_pool};

/// `last_used_at` is written at most this often per token.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ApiTokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// Space-separated scopes.
    pub scopes: String,
}

const COLUMNS: &str =
    "id, user_id, name, prefix, token_hash, created_at, last_used_at, expires_at, scopes";

pub async fn insert(
    db: &Db,
    user_id: &str,
    name: &str,
    prefix: &str,
    token_hash: &str,
    expires_at: Option<i64>,
    scopes: &str,
) -> Result<ApiTokenRecord, DbError> {
    let sql = format!(
        "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at, \
         scopes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ApiTokenRecord>(
        &sql
    )
    .bind(new_id())
    .bind(user_id)
    .bind(name)
    .bind(prefix)
    .bind(token_hash)
    .bind(now_ms())
    .bind(expires_at)
    .bind(scopes)
    .fetch_one(pool)
    .await)?)
}

/// The unexpired token with this hash.
pub async fn find_live(db: &Db, token_hash: &str) -> Result<Option<ApiTokenRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 \
         AND (expires_at IS NULL OR expires_at > $2)"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ApiTokenRecord>(
        &sql
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

/// Whether the token with this id still exists and has not expired.
pub async fn is_live(db: &Db, id: &str) -> Result<bool, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM api_tokens WHERE id = $1 \
         AND (expires_at IS NULL OR expires_at > $2)"
    )
    .bind(id)
    .bind(now_ms())
    .fetch_one(pool)
    .await)?
        > 0)
}

/// Records a use, at most once per [`TOUCH_INTERVAL_MS`].
pub async fn touch(db: &Db, id: &str) -> Result<(), DbError> {
    let now = now_ms();
    with_pool!(db, |pool| sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2 \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)"
    )
    .bind(id)
    .bind(now)
    .bind(now - TOUCH_INTERVAL_MS)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A person's tokens (expired ones included, so they can be cleaned up), newest first.
pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<ApiTokenRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ApiTokenRecord>(
        &sql
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?)
}

pub async fn count_for_user(db: &Db, user_id: &str) -> Result<i64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(pool)
    .await)?)
}

/// Revokes one of a person's tokens; `false` when there is no such token of theirs.
pub async fn delete_for_user(db: &Db, user_id: &str, id: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Revokes every token of a person (their password was reset or changed); how many.
pub async fn delete_all_for_user(db: &Db, user_id: &str) -> Result<u64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query(
        "DELETE FROM api_tokens WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}
