//! The `provider_keys` aggregate: a person's API keys for the image providers, as
//! ciphertext (see [`crate::crypto`]). Nothing in this module sees a plaintext key.

use model::KeyProvider;
use sqlx::FromRow;

use super::{Db, DbError};
use crate::{now_ms, with_pool};

#[derive(Clone, PartialEq, Eq, FromRow)]
pub struct ProviderKeyRecord {
    pub user_id: String,
    #[sqlx(try_from = "super::Enumerated<KeyProvider>")]
    pub provider: KeyProvider,
    pub ciphertext: Vec<u8>,
    pub last4: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for ProviderKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKeyRecord")
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("last4", &self.last4)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "user_id, provider, ciphertext, last4, created_at, updated_at";

/// Stores or replaces a person's key for a provider.
pub async fn upsert(
    db: &Db,
    user_id: &str,
    provider: &str,
    ciphertext: &[u8],
    last4: &str,
) -> Result<ProviderKeyRecord, DbError> {
    let sql = format!(
        "INSERT INTO provider_keys (user_id, provider, ciphertext, last4, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (user_id, provider) DO UPDATE SET ciphertext = excluded.ciphertext, \
         last4 = excluded.last4, updated_at = excluded.updated_at RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ProviderKeyRecord>(&sql)
            .bind(user_id)
            .bind(provider)
            .bind(ciphertext)
            .bind(last4)
            .bind(now_ms())
            .fetch_one(pool)
            .await
    })?)
}

pub async fn find(
    db: &Db,
    user_id: &str,
    provider: &str,
) -> Result<Option<ProviderKeyRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM provider_keys WHERE user_id = $1 AND provider = $2");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ProviderKeyRecord>(&sql)
            .bind(user_id)
            .bind(provider)
            .fetch_optional(pool)
            .await
    })?)
}

pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<ProviderKeyRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM provider_keys WHERE user_id = $1 ORDER BY provider");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ProviderKeyRecord>(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await
    })?)
}

pub async fn delete(db: &Db, user_id: &str, provider: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM provider_keys WHERE user_id = $1 AND provider = $2"
    )
    .bind(user_id)
    .bind(provider)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Re-encrypts every stored key in one transaction: `reencrypt` gets each row and returns
/// the new ciphertext, or an error that rolls everything back. Returns how many keys.
pub async fn reencrypt_all<E>(
    db: &Db,
    mut reencrypt: impl FnMut(&ProviderKeyRecord) -> Result<Vec<u8>, E>,
) -> Result<Result<usize, E>, DbError> {
    let select = format!("SELECT {COLUMNS} FROM provider_keys ORDER BY user_id, provider");
    let update = "UPDATE provider_keys SET ciphertext = $3 WHERE user_id = $1 AND provider = $2";
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let rows = sqlx::query_as::<_, ProviderKeyRecord>(&select)
            .fetch_all(&mut *tx)
            .await?;
        for row in &rows {
            let ciphertext = match reencrypt(row) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            sqlx::query(update)
                .bind(&row.user_id)
                .bind(row.provider.as_str())
                .bind(ciphertext)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(rows.len()))
    })
}

/// Removes every stored key of a person; how many.
pub async fn delete_all_for_user(db: &Db, user_id: &str) -> Result<u64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query(
        "DELETE FROM provider_keys WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}
