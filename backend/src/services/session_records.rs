//! The stored side of browser sessions, for the server's session-library adapter: a row
//! per signed-in session under the SHA-256 of its id (the cookie's value never reaches
//! the database). Listing and revoking sessions is in [`super::tokens`] and
//! [`super::accounts`]; this is only what the session library needs.

use crate::{
    crypto,
    db::{sessions, DbError},
    Db,
};

/// What a stored session holds: the library's data (JSON) and its expiry (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: i64,
}

/// The hash under which the session with this id is stored.
pub fn hash(id: &str) -> String {
    crypto::token_hash(id)
}

/// Stores a new signed-in session; `Ok(false)` when its id is taken (pick another).
pub async fn create(
    db: &Db,
    id: &str,
    user_id: &str,
    data: &str,
    user_agent: Option<&str>,
    ip: Option<&str>,
    expires_at: i64,
) -> Result<bool, DbError> {
    sessions::insert(
        db,
        sessions::NewSession {
            token_hash: &hash(id),
            user_id,
            data,
            user_agent,
            ip,
            expires_at,
        },
    )
    .await
}

/// Saves a live session's data; never brings back a session that was revoked.
pub async fn save(db: &Db, id: &str, data: &str, expires_at: i64) -> Result<(), DbError> {
    sessions::touch(db, &hash(id), data, expires_at).await
}

/// A live session, if there is one under this id.
pub async fn load(db: &Db, id: &str) -> Result<Option<StoredSession>, DbError> {
    Ok(sessions::find_live(db, &hash(id))
        .await?
        .map(|row| StoredSession {
            data: row.data,
            expires_at: row.expires_at,
        }))
}

pub async fn delete(db: &Db, id: &str) -> Result<(), DbError> {
    sessions::delete_by_hash(db, &hash(id)).await
}
