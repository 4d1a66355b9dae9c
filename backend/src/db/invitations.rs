//! The `invitations` aggregate (SIGNUP=invite): single-use, expiring sign-up links. The
//! link's token is stored as its SHA-256; claiming one is a conditional UPDATE, so two
//! sign-ups racing for the same link cannot both have it.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{new_id, now_ms, with_pool};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InvitationRecord {
    pub id: String,
    pub created_by: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
}

const COLUMNS: &str = "id, created_by, note, created_at, expires_at, used_at, used_by";

pub async fn insert(
    db: &Db,
    token_hash: &str,
    created_by: Option<&str>,
    note: Option<&str>,
    expires_at: i64,
) -> Result<InvitationRecord, DbError> {
    let sql = format!(
        "INSERT INTO invitations (id, token_hash, created_by, note, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, InvitationRecord>(&sql)
            .bind(new_id())
            .bind(token_hash)
            .bind(created_by)
            .bind(note)
            .bind(now_ms())
            .bind(expires_at)
            .fetch_one(pool)
            .await
    })?)
}

/// Takes the unused, unexpired invitation with this token hash; its id, or `None`.
pub async fn claim(db: &Db, token_hash: &str) -> Result<Option<String>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar(
        "UPDATE invitations SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id"
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

/// Records who signed up with a claimed invitation.
pub async fn mark_used_by(db: &Db, id: &str, user_id: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE invitations SET used_by = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Gives a claimed invitation back (the sign-up it was claimed for failed).
pub async fn release(db: &Db, id: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE invitations SET used_at = NULL, used_by = NULL WHERE id = $1"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The invitations that can still be used, newest first.
pub async fn list_open(db: &Db, limit: i64) -> Result<Vec<InvitationRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE used_at IS NULL AND expires_at > $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, InvitationRecord>(&sql)
            .bind(now_ms())
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// Withdraws an unused invitation; whether there was one.
pub async fn revoke(db: &Db, id: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM invitations WHERE id = $1 AND used_at IS NULL"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}
