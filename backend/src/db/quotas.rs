//! Account quotas: an administrator's limits per account (`account_quotas`; a NULL
//! follows the instance's default) and what an account uses — images generated in the
//! last day, jobs queued or running, bytes stored — counted in one query.

use sqlx::FromRow;

use super::{Db, DbError, FINAL};
use crate::{now_ms, with_pool};

/// An account's own limits (`None`: the instance's default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct QuotaRow {
    pub images_per_day: Option<i64>,
    pub active_jobs: Option<i64>,
    pub storage_bytes: Option<i64>,
}

/// What an account uses now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct UsageRow {
    pub images_today: i64,
    pub active_jobs: i64,
    pub storage_bytes: i64,
}

/// One account with its limits and use, for administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub is_admin: bool,
    pub quota: QuotaRow,
    pub usage: UsageRow,
}

/// The usage columns for the account `{who}` (a column or a parameter), counting jobs
/// created since `$since`.
fn usage_columns(who: &str, since: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM jobs j WHERE j.user_id = {who} AND j.created_at >= {since}) \
           AS images_today, \
         (SELECT COUNT(*) FROM jobs j WHERE j.user_id = {who} AND j.status NOT IN {FINAL}) \
           AS active_jobs, \
         (SELECT CAST(COALESCE(SUM(i.bytes), 0) AS BIGINT) FROM images i \
           WHERE i.user_id = {who}) AS storage_bytes"
    )
}

/// What the account uses: images generated in the last `window_ms`, active jobs, bytes.
pub async fn usage(db: &Db, user_id: &str, window_ms: i64) -> Result<UsageRow, DbError> {
    let sql = format!("SELECT {}", usage_columns("$1", "$2"));
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, UsageRow>(&sql)
        .bind(user_id)
        .bind(now_ms() - window_ms)
        .fetch_one(pool)
        .await)?)
}

/// The account's own limits, if an administrator set any.
pub async fn get(db: &Db, user_id: &str) -> Result<Option<QuotaRow>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, QuotaRow>(
        "SELECT images_per_day, active_jobs, storage_bytes FROM account_quotas \
         WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)?)
}

/// Sets the account's own limits; all `None` goes back to the instance's defaults.
pub async fn set(db: &Db, user_id: &str, quota: QuotaRow) -> Result<(), DbError> {
    if quota == QuotaRow::default() {
        with_pool!(db, |pool| sqlx::query(
            "DELETE FROM account_quotas WHERE user_id = $1"
        )
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        return Ok(());
    }
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO account_quotas (user_id, images_per_day, active_jobs, storage_bytes, \
           updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET images_per_day = $2, active_jobs = $3, \
           storage_bytes = $4, updated_at = $5"
    )
    .bind(user_id)
    .bind(quota.images_per_day)
    .bind(quota.active_jobs)
    .bind(quota.storage_bytes)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Accounts with their limits and use, in the order they were made (ids grow with
/// time), from after the account `after` (a page for administrators).
pub async fn accounts(
    db: &Db,
    window_ms: i64,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AccountRow>, DbError> {
    let sql = format!(
        "SELECT u.id, u.email, u.is_admin, q.images_per_day AS q_images_per_day, \
           q.active_jobs AS q_active_jobs, q.storage_bytes AS q_storage_bytes, {} \
         FROM users u LEFT JOIN account_quotas q ON q.user_id = u.id \
         WHERE ($2 IS NULL OR u.id > $2) ORDER BY u.id LIMIT $3",
        usage_columns("u.id", "$1")
    );
    let rows = with_pool!(db, |pool| sqlx::query_as::<_, AccountSql>(&sql)
        .bind(now_ms() - window_ms)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(AccountRow::from).collect())
}

/// A row of [`accounts`] as SQL answers it (the limits and the use have the same names).
#[derive(FromRow)]
struct AccountSql {
    id: String,
    email: String,
    is_admin: bool,
    q_images_per_day: Option<i64>,
    q_active_jobs: Option<i64>,
    q_storage_bytes: Option<i64>,
    images_today: i64,
    active_jobs: i64,
    storage_bytes: i64,
}

impl From<AccountSql> for AccountRow {
    fn from(r: AccountSql) -> Self {
        Self {
            id: r.id,
            email: r.email,
            is_admin: r.is_admin,
            quota: QuotaRow {
                images_per_day: r.q_images_per_day,
                active_jobs: r.q_active_jobs,
                storage_bytes: r.q_storage_bytes,
            },
            usage: UsageRow {
                images_today: r.images_today,
                active_jobs: r.active_jobs,
                storage_bytes: r.storage_bytes,
            },
        }
    }
}
