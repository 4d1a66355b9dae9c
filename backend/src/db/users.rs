//! The `users` aggregate.

use sqlx::FromRow;

use super::{is_unique_violation, Db, DbError};
use crate::{domain::Email, new_id, now_ms, with_pool};

/// A row of `users`. The password hash never leaves the backend.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub email_normalized: String,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<i64>,
    pub is_admin: bool,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRecord {
    /// The public view of the account, as the API and the UI show it.
    pub fn to_model(&self) -> model::User {
        model::User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            email_verified: self.email_verified_at.is_some(),
            is_admin: self.is_admin,
            created_at: crate::to_time(self.created_at),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UserRepoError {
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for UserRepoError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Sqlx(e))
    }
}

const COLUMNS: &str = "id, email, email_normalized, display_name, password_hash, \
     email_verified_at, is_admin, disabled_at, created_at, updated_at";

pub async fn insert(db: &Db, new: NewUser) -> Result<UserRecord, UserRepoError> {
    let now = now_ms();
    let sql = format!(
        "INSERT INTO users (id, email, email_normalized, display_name, password_hash, \
         is_admin, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING {COLUMNS}"
    );
    let id = new_id();
    let result = with_pool!(db, |pool| sqlx::query_as::<_, UserRecord>(&sql)
        .bind(&id)
        .bind(new.email.as_str())
        .bind(new.email.normalized())
        .bind(new.display_name.as_deref())
        .bind(new.password_hash.as_deref())
        .bind(new.is_admin)
        .bind(now)
        .fetch_one(pool)
        .await);
    match result {
        Ok(user) => Ok(user),
        Err(e) if is_unique_violation(&e) => Err(UserRepoError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<UserRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, UserRecord>(
        &sql
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?)
}

/// Case-insensitive: finds `Ann@Example.com` by `ann@example.com`.
pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<UserRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_normalized = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, UserRecord>(
        &sql
    )
    .bind(email.normalized())
    .fetch_optional(pool)
    .await)?)
}

pub async fn count(db: &Db) -> Result<i64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(pool)
    .await)?)
}

/// Accounts in creation order, `limit` at a time after the id `after` (keyset pagination).
pub async fn list(db: &Db, after: Option<&str>, limit: i64) -> Result<Vec<UserRecord>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, UserRecord>(
        &sql
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

pub async fn set_password_hash(db: &Db, id: &str, password_hash: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(password_hash)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Marks the email address verified (keeps the first verification time).
pub async fn mark_email_verified(db: &Db, id: &str) -> Result<(), DbError> {
    let now = now_ms();
    with_pool!(db, |pool| sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 \
         WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn set_display_name(
    db: &Db,
    id: &str,
    display_name: Option<&str>,
) -> Result<Option<UserRecord>, DbError> {
    let sql = format!(
        "UPDATE users SET display_name = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, UserRecord>(
        &sql
    )
    .bind(id)
    .bind(display_name)
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

/// Deletes the account; every row that belongs to it goes with it (`ON DELETE CASCADE`).
pub async fn delete(db: &Db, id: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Disables (`Some(time)`) or enables (`None`) an account; `false` when there is none.
pub async fn set_disabled(db: &Db, id: &str, at: Option<i64>) -> Result<bool, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query(
        "UPDATE users SET disabled_at = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(at)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?
        > 0)
}
