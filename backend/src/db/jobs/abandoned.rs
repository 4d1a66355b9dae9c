//! Jobs whose worker is gone for good (the lease expired while it ran, and no attempt is
//! left): found and ended by the cleanup, so that nobody waits for them forever.

use model::ImageFailure;

use super::{JobRecord, COLUMNS};
use crate::{
    db::{Db, DbError, RUNNING},
    with_pool,
};

/// The condition of a job whose worker is gone (its lease expired while it ran) and that
/// has no attempt left: the queue would never claim it again.
fn abandoned_condition() -> String {
    format!(
        "status IN {RUNNING} AND lease_expires_at IS NOT NULL AND lease_expires_at < $1 \
         AND attempt >= max_attempts"
    )
}

/// The abandoned jobs (what the cleanup would end), oldest first.
pub async fn abandoned(db: &Db, now: i64) -> Result<Vec<JobRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE {} ORDER BY created_at",
        abandoned_condition()
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, JobRecord>(&sql)
        .bind(now)
        .fetch_all(pool)
        .await)?)
}

/// Ends the abandoned jobs as `error` with `reason` (their images too), recording the
/// stage; answers them.
pub async fn fail_abandoned(
    db: &Db,
    now: i64,
    reason: &ImageFailure,
) -> Result<Vec<JobRecord>, DbError> {
    let sql = format!(
        "UPDATE jobs SET status = 'error', seq = seq + 1, error_code = $2, error_message = $3, \
           lease_owner = NULL, lease_expires_at = NULL, finished_at = $1, updated_at = $1 \
         WHERE {} RETURNING {COLUMNS}",
        abandoned_condition()
    );
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let rows = sqlx::query_as::<_, JobRecord>(&sql)
            .bind(now)
            .bind(&reason.code)
            .bind(&reason.message)
            .fetch_all(&mut *tx)
            .await?;
        for job in &rows {
            record_stage!(tx, job, now)?;
            sqlx::query(
                "UPDATE images SET status = 'error', error_code = $1, error_message = $2, \
                 updated_at = $3 WHERE id = $4 AND status <> 'completed'",
            )
            .bind(&reason.code)
            .bind(&reason.message)
            .bind(now)
            .bind(&job.image_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows)
    })
}
