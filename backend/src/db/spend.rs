//! What generations cost: the `spend` ledger (one row per priced job, written with the
//! job's completion), the sums a month's views and the caps read from it, the accounts'
//! own caps and the administrators' prices (`price_overrides`).

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{now_ms, with_pool};

/// One priced job, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub job_id: String,
    pub user_id: String,
    pub image_id: String,
    pub provider: String,
    pub model: String,
    /// `own`, `server` or `none`.
    pub key_source: &'static str,
    pub key_last4: Option<String>,
    pub cost_micros: i64,
    pub pricing_version: String,
}

/// The ledger's insert, for the completing transaction (a job is priced once: a second
/// completion of the same job changes nothing).
pub(crate) const INSERT: &str = "INSERT INTO spend (job_id, user_id, image_id, provider, \
     model, key_source, key_last4, cost_micros, pricing_version, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (job_id) DO NOTHING";

/// The sum of one provider, model, key and day.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Group {
    pub provider: String,
    pub model: String,
    pub key_source: String,
    pub key_last4: Option<String>,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub micros: i64,
    pub images: i64,
}

/// An account's spend between `from` (inclusive) and `to` (ms), grouped by provider,
/// model, key and day, in one query.
pub async fn groups(db: &Db, user_id: &str, from: i64, to: i64) -> Result<Vec<Group>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, Group>(
        "SELECT provider, model, key_source, key_last4, created_at / 86400000 AS day, \
           CAST(SUM(cost_micros) AS BIGINT) AS micros, COUNT(*) AS images \
         FROM spend WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY provider, model, key_source, key_last4, created_at / 86400000 \
         ORDER BY day, provider, model"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?)
}

/// The spend between `from` and `to` of one account, or of all when `user_id` is `None`.
pub async fn total(db: &Db, user_id: Option<&str>, from: i64, to: i64) -> Result<i64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM spend \
         WHERE ($1 IS NULL OR user_id = $1) AND created_at >= $2 AND created_at < $3"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await)?)
}

/// One account's month, for administrators.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AccountGroup {
    pub user_id: String,
    pub email: Option<String>,
    pub cap_micros: Option<i64>,
    pub micros: i64,
    pub images: i64,
}

/// Every account's spend between `from` and `to`, most first (at most `limit`).
pub async fn by_account(
    db: &Db,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<AccountGroup>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, AccountGroup>(
        "SELECT s.user_id, u.email, u.monthly_spend_cap_micros AS cap_micros, \
           CAST(SUM(s.cost_micros) AS BIGINT) AS micros, COUNT(*) AS images \
         FROM spend s LEFT JOIN users u ON u.id = s.user_id \
         WHERE s.created_at >= $1 AND s.created_at < $2 \
         GROUP BY s.user_id, u.email, u.monthly_spend_cap_micros \
         ORDER BY micros DESC, s.user_id LIMIT $3"
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// The instance's spend between `from` and `to` by provider: (provider, micros, images).
pub async fn by_provider(db: &Db, from: i64, to: i64) -> Result<Vec<(String, i64, i64)>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<
        _,
        (String, i64, i64),
    >(
        "SELECT provider, CAST(SUM(cost_micros) AS BIGINT), COUNT(*) FROM spend \
         WHERE created_at >= $1 AND created_at < $2 GROUP BY provider ORDER BY provider"
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?)
}

/// The account's own monthly cap (micros), if it set one.
pub async fn cap(db: &Db, user_id: &str) -> Result<Option<i64>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, Option<i64>>(
        "SELECT monthly_spend_cap_micros FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)?
    .flatten())
}

pub async fn set_cap(db: &Db, user_id: &str, micros: Option<i64>) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE users SET monthly_spend_cap_micros = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(micros)
    .bind(now_ms())
    .bind(user_id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// An administrator's price for one model (`price` is a `ModelPrice` as JSON).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PriceRow {
    pub provider: String,
    pub model: String,
    pub price: String,
    pub updated_at: i64,
}

pub async fn price_overrides(db: &Db) -> Result<Vec<PriceRow>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, PriceRow>(
        "SELECT provider, model, price, updated_at FROM price_overrides \
         ORDER BY provider, model"
    )
    .fetch_all(pool)
    .await)?)
}

pub async fn set_price(
    db: &Db,
    provider: &str,
    model: &str,
    price: &str,
    by: &str,
) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO price_overrides (provider, model, price, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, model) DO UPDATE SET \
           price = $3, updated_by = $4, updated_at = $5"
    )
    .bind(provider)
    .bind(model)
    .bind(price)
    .bind(by)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Removes an administrator's price; whether there was one.
pub async fn delete_price(db: &Db, provider: &str, model: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM price_overrides WHERE provider = $1 AND model = $2"
    )
    .bind(provider)
    .bind(model)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}
