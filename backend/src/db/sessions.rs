//! The `sessions` aggregate: the server side of the session cookie. The cookie holds a
//! random id; the table holds its SHA-256 (`token_hash`), so a leaked database does not
//! yield usable sessions.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{new_id, now_ms, with_pool};

/// `last_seen_at` is written at most this often per session, so that a busy page does not
/// turn every request into a database write.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub data: String,
    pub user_agent: Option<String>,
    /// The client's address when it signed in.
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str =
    "id, token_hash, user_id, data, user_agent, ip, created_at, last_seen_at, expires_at";

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub data: &'a str,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub expires_at: i64,
}

/// Inserts a session; `Ok(false)` when the token hash is already taken (the caller picks
/// another id).
pub async fn insert(db: &Db, new: NewSession<'_>) -> Result<bool, DbError> {
    let now = now_ms();
    let result = with_pool!(db, |pool| sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, data, user_agent, ip, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)"
    )
    .bind(new_id())
    .bind(new.token_hash)
    .bind(new.user_id)
    .bind(new.data)
    .bind(new.user_agent)
    .bind(new.ip)
    .bind(now)
    .bind(new.expires_at)
    .execute(pool)
    .await
    .map(|_| ()));
    match result {
        Ok(()) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The live session with this token hash (expired ones are not returned).
pub async fn find_live(db: &Db, token_hash: &str) -> Result<Option<SessionRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE token_hash = $1 AND expires_at > $2");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, SessionRecord>(
        &sql
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

/// Extends a session and records activity. Only updates a row that still exists (a
/// revoked session stays revoked), and only when the data changed or the last write is
/// older than [`TOUCH_INTERVAL_MS`].
pub async fn touch(db: &Db, token_hash: &str, data: &str, expires_at: i64) -> Result<(), DbError> {
    let now = now_ms();
    with_pool!(db, |pool| sqlx::query(
        "UPDATE sessions SET data = $2, expires_at = $3, last_seen_at = $4 \
         WHERE token_hash = $1 AND (data <> $2 OR last_seen_at < $5)"
    )
    .bind(token_hash)
    .bind(data)
    .bind(expires_at)
    .bind(now)
    .bind(now - TOUCH_INTERVAL_MS)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn delete_by_hash(db: &Db, token_hash: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1"
    )
    .bind(token_hash)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A person's live sessions, newest first.
pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<SessionRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > $2 \
         ORDER BY last_seen_at DESC, id DESC LIMIT 500"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, SessionRecord>(
        &sql
    )
    .bind(user_id)
    .bind(now_ms())
    .fetch_all(pool)
    .await)?)
}

/// Ends one of a person's sessions; `false` when there is no such session of theirs.
pub async fn delete_for_user(db: &Db, user_id: &str, id: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM sessions WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Ends every session of a person except the one with `keep_hash` (if given); returns how
/// many were ended.
pub async fn delete_all_for_user(
    db: &Db,
    user_id: &str,
    keep_hash: Option<&str>,
) -> Result<u64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)"
    )
    .bind(user_id)
    .bind(keep_hash)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Removes expired sessions; returns how many.
pub async fn delete_expired(db: &Db) -> Result<u64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= $1"
    )
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}
