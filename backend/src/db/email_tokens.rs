//! The `email_tokens` aggregate: single-use, expiring tokens sent by mail (email
//! verification, password reset), stored as SHA-256.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{new_id, now_ms, with_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

impl TryFrom<String> for Purpose {
    type Error = model::UnknownValue;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        [Self::VerifyEmail, Self::ResetPassword]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| model::UnknownValue(format!("'{s}' is not a mailed link's purpose")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct EmailTokenRecord {
    pub id: String,
    pub user_id: String,
    #[sqlx(try_from = "super::Enumerated<Purpose>")]
    pub purpose: Purpose,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, purpose, token_hash, created_at, expires_at, used_at";

pub async fn insert(
    db: &Db,
    user_id: &str,
    purpose: Purpose,
    token_hash: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO email_tokens (id, user_id, purpose, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(new_id())
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(token_hash)
    .bind(now_ms())
    .bind(expires_at)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Marks the token used if it is unused and unexpired, atomically (two concurrent uses:
/// one wins). Returns the user it belongs to.
pub async fn consume(
    db: &Db,
    purpose: Purpose,
    token_hash: &str,
) -> Result<Option<String>, DbError> {
    let now = now_ms();
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(
        "UPDATE email_tokens SET used_at = $3 \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id"
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(pool)
    .await)?)
}

/// The token, whatever its state: to tell a used token from an expired or unknown one.
pub async fn find(
    db: &Db,
    purpose: Purpose,
    token_hash: &str,
) -> Result<Option<EmailTokenRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM email_tokens WHERE token_hash = $1 AND purpose = $2");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, EmailTokenRecord>(&sql)
            .bind(token_hash)
            .bind(purpose.as_str())
            .fetch_optional(pool)
            .await
    })?)
}

/// Invalidates a person's other unused tokens of a purpose (a new reset link replaces the
/// old ones).
pub async fn expire_unused(db: &Db, user_id: &str, purpose: Purpose) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE email_tokens SET expires_at = $3 \
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}
