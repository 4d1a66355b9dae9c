//! The shared store of the abuse limits (`rate_limits`): one atomic statement takes a
//! request from a key's allowance (GCRA), so that every server process on the same
//! PostgreSQL database draws on the same allowance.

use super::{Db, DbError};
use crate::with_pool;

/// Takes one request for `key` at `now` (ms), each request costing `interval` and at most
/// `capacity` outstanding. `Ok(None)` when taken; `Ok(Some(tat))` when refused, with the
/// key's theoretical arrival time (to say when to try again).
pub async fn take(
    db: &Db,
    key: &str,
    now: i64,
    interval: i64,
    capacity: i64,
) -> Result<Option<i64>, DbError> {
    let taken: Option<i64> = with_pool!(db, |pool| sqlx::query_scalar(
        "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
         ON CONFLICT (key) DO UPDATE SET \
           tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
         WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 - $2 <= $4 \
         RETURNING tat"
    )
    .bind(key)
    .bind(now)
    .bind(interval)
    .bind(capacity)
    .fetch_optional(pool)
    .await)?;
    if taken.is_some() {
        return Ok(None);
    }
    let tat: Option<i64> = with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT tat FROM rate_limits WHERE key = $1"
    )
    .bind(key)
    .fetch_optional(pool)
    .await)?;
    Ok(Some(tat.unwrap_or(now)))
}

/// Gives one request back to `key` (an attempt that turned out not to count).
pub async fn give_back(db: &Db, key: &str, interval: i64) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE rate_limits SET tat = tat - $2 WHERE key = $1"
    )
    .bind(key)
    .bind(interval)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}
