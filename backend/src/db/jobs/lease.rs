//! The worker's side of the queue. A job is claimed by a conditional UPDATE, so two
//! workers (or two processes) never hold the same job; a lease that is not renewed
//! expires and the job can be claimed again. Every change of state is recorded in
//! `job_stages` in the same transaction.

use model::{ImageFailure, ImageStatus, ProviderId};
use sqlx::FromRow;

use super::{get, JobRecord, COLUMNS};
use crate::{
    db::{Db, DbError, RUNNING},
    now_ms, with_pool,
};

/// A job that may be claimed now, with the running jobs of its owner and its provider.
#[derive(Debug, Clone, FromRow)]
pub struct Candidate {
    pub id: String,
    pub user_id: String,
    #[sqlx(try_from = "crate::db::Enumerated<ProviderId>")]
    pub provider: ProviderId,
    pub user_running: i64,
    pub provider_running: i64,
    /// When a job of this owner last started: owners served longest ago go first.
    pub user_last_start: i64,
}

/// Claimable jobs, fairest first: the owners with the fewest running jobs, then those
/// served longest ago (round robin between owners), then the longest waiting.
pub async fn candidates(db: &Db, now: i64, limit: i64) -> Result<Vec<Candidate>, DbError> {
    // The counts are computed once per person and per provider (not once per candidate),
    // so a long queue costs one pass over it.
    let sql = format!(
        "WITH running AS (\
           SELECT user_id, provider FROM jobs \
           WHERE status IN {RUNNING} AND lease_expires_at >= $1), \
         per_user AS (SELECT user_id, COUNT(*) AS n FROM running GROUP BY user_id), \
         per_provider AS (SELECT provider, COUNT(*) AS n FROM running GROUP BY provider), \
         due AS (\
           SELECT id, user_id, provider, next_attempt_at FROM jobs \
           WHERE cancel_requested = FALSE AND attempt < max_attempts \
             AND ((status = 'pending' AND next_attempt_at <= $1) \
               OR (status IN {RUNNING} AND lease_expires_at < $1))), \
         last_start AS (\
           SELECT user_id, MAX(started_at) AS t FROM jobs \
           WHERE started_at IS NOT NULL AND user_id IN (SELECT user_id FROM due) \
           GROUP BY user_id) \
         SELECT d.id, d.user_id, d.provider, \
           COALESCE(u.n, 0) AS user_running, COALESCE(p.n, 0) AS provider_running, \
           COALESCE(l.t, 0) AS user_last_start \
         FROM due d \
           LEFT JOIN per_user u ON u.user_id = d.user_id \
           LEFT JOIN per_provider p ON p.provider = d.provider \
           LEFT JOIN last_start l ON l.user_id = d.user_id \
         ORDER BY user_running ASC, user_last_start ASC, d.next_attempt_at ASC, d.id ASC \
         LIMIT $2"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, Candidate>(&sql)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// Claims a job for `owner` until `lease_until`: `generating`, one more attempt. `None`
/// when someone else got it first or it is no longer claimable.
pub async fn claim(
    db: &Db,
    id: &str,
    owner: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<JobRecord>, DbError> {
    let sql = format!(
        "UPDATE jobs SET status = 'generating', seq = seq + 1, attempt = attempt + 1, \
           lease_owner = $1, lease_expires_at = $2, started_at = COALESCE(started_at, $3), \
           error_code = NULL, error_message = NULL, updated_at = $3 \
         WHERE id = $4 AND cancel_requested = FALSE AND attempt < max_attempts \
           AND ((status = 'pending' AND next_attempt_at <= $3) \
             OR (status IN {RUNNING} AND lease_expires_at < $3)) \
         RETURNING {COLUMNS}"
    );
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let row = sqlx::query_as::<_, JobRecord>(&sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(job) = &row {
            record_stage!(tx, job, now)?;
            sqlx::query("UPDATE images SET status = 'generating', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&job.image_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(row)
    })
}

/// Renews the lease of a job `owner` holds. `None` when it holds it no more (the job was
/// taken over or finished); else whether cancellation was asked for.
pub async fn heartbeat(
    db: &Db,
    id: &str,
    owner: &str,
    lease_until: i64,
) -> Result<Option<bool>, DbError> {
    let sql = format!(
        "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 \
         AND status IN {RUNNING} RETURNING cancel_requested"
    );
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, bool>(&sql)
        .bind(lease_until)
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await)?)
}

/// A change of state by the worker holding the job.
#[derive(Debug, Clone)]
pub struct Transition {
    pub status: ImageStatus,
    /// The error to record (cleared when `None`).
    pub error: Option<ImageFailure>,
    /// For a retry: when it is due (the job goes back to `pending`, the lease is released).
    pub retry_at: Option<i64>,
}

/// Moves a running job held by `owner` to `t.status` (and its image with it). `None` when
/// `owner` no longer holds it.
pub async fn transition(
    db: &Db,
    id: &str,
    owner: &str,
    t: &Transition,
) -> Result<Option<JobRecord>, DbError> {
    let now = now_ms();
    let status = t.status;
    let is_final = status.is_final();
    let release = is_final || t.retry_at.is_some();
    let sql = format!(
        "UPDATE jobs SET status = $1, seq = seq + 1, error_code = $2, error_message = $3, \
           next_attempt_at = COALESCE($4, next_attempt_at), \
           lease_owner = CASE WHEN $5 THEN NULL ELSE lease_owner END, \
           lease_expires_at = CASE WHEN $5 THEN NULL ELSE lease_expires_at END, \
           finished_at = CASE WHEN $6 THEN $7 ELSE finished_at END, updated_at = $7 \
         WHERE id = $8 AND lease_owner = $9 AND status IN {RUNNING} \
         RETURNING {COLUMNS}"
    );
    let (code, message) = match &t.error {
        Some(e) => (Some(e.code.clone()), Some(e.message.clone())),
        None => (None, None),
    };
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let row = sqlx::query_as::<_, JobRecord>(&sql)
            .bind(status.as_str())
            .bind(&code)
            .bind(&message)
            .bind(t.retry_at)
            .bind(release)
            .bind(is_final)
            .bind(now)
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(job) = &row {
            record_stage!(tx, job, now)?;
            // A waiting retry leaves the image `pending`; a failure records why.
            let image_error = if is_final {
                (code.clone(), message.clone())
            } else {
                (None, None)
            };
            sqlx::query(
                "UPDATE images SET status = $1, error_code = $2, error_message = $3, \
                 updated_at = $4 WHERE id = $5 AND status <> 'completed'",
            )
            .bind(status.as_str())
            .bind(image_error.0)
            .bind(image_error.1)
            .bind(now)
            .bind(&job.image_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(row)
    })
}

/// What a finished image is, to record with it.
#[derive(Debug, Clone)]
pub struct Finished {
    pub storage_key: String,
    pub mime_type: String,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
    pub sha256: String,
    pub revised_prompt: Option<String>,
    /// JSON: `model::Provenance`.
    pub generation: String,
    /// JSON: `model::Cost` (the provenance's), kept on the job too.
    pub cost: Option<String>,
    /// What it cost, for the spend ledger (`None` when no price applies).
    pub spend: Option<super::super::spend::Entry>,
}

/// Completes a job held by `owner`: the image gets its bytes' description, the job
/// `completed`, the character its avatar when asked — in one transaction. Idempotent: a
/// job that is no longer held (say, completed by a run that lost its lease) changes
/// nothing and answers `None`.
pub async fn complete(
    db: &Db,
    job_id: &str,
    owner: &str,
    done: &Finished,
) -> Result<Option<JobRecord>, DbError> {
    let now = now_ms();
    let job_sql = format!(
        "UPDATE jobs SET status = 'completed', seq = seq + 1, error_code = NULL, \
           error_message = NULL, lease_owner = NULL, lease_expires_at = NULL, \
           finished_at = $1, updated_at = $1, cost = $4 \
         WHERE id = $2 AND lease_owner = $3 AND status IN {RUNNING} RETURNING {COLUMNS}"
    );
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let Some(job) = sqlx::query_as::<_, JobRecord>(&job_sql)
            .bind(now)
            .bind(job_id)
            .bind(owner)
            .bind(&done.cost)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        sqlx::query(
            "UPDATE images SET status = 'completed', storage_key = $1, mime_type = $2, \
             width = $3, height = $4, bytes = $5, sha256 = $6, revised_prompt = $7, \
             generation = $8, error_code = NULL, error_message = NULL, updated_at = $9 \
             WHERE id = $10",
        )
        .bind(&done.storage_key)
        .bind(&done.mime_type)
        .bind(done.width)
        .bind(done.height)
        .bind(done.bytes)
        .bind(&done.sha256)
        .bind(&done.revised_prompt)
        .bind(&done.generation)
        .bind(now)
        .bind(&job.image_id)
        .execute(&mut *tx)
        .await?;
        // The first image of one request to finish becomes the avatar; the request's other
        // images (its jobs were inserted at the same instant) are candidates, not
        // replacements.
        if let (true, Some(character)) = (job.set_avatar, &job.character_id) {
            sqlx::query(
                "UPDATE characters SET avatar_image_id = $1, avatar_external_url = NULL, \
                 updated_at = $2 WHERE id = $3 AND user_id = $4 AND NOT EXISTS ( \
                   SELECT 1 FROM jobs s WHERE s.user_id = $4 AND s.character_id = $3 \
                   AND s.created_at = $5 AND s.set_avatar = TRUE AND s.id <> $6 \
                   AND s.image_id = characters.avatar_image_id)",
            )
            .bind(&job.image_id)
            .bind(now)
            .bind(character)
            .bind(&job.user_id)
            .bind(job.created_at)
            .bind(&job.id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(e) = &done.spend {
            sqlx::query(super::super::spend::INSERT)
                .bind(&e.job_id)
                .bind(&e.user_id)
                .bind(&e.image_id)
                .bind(&e.provider)
                .bind(&e.model)
                .bind(e.key_source)
                .bind(&e.key_last4)
                .bind(e.cost_micros)
                .bind(&e.pricing_version)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        record_stage!(tx, job, now)?;
        tx.commit().await?;
        Ok(Some(job))
    })
}

/// Asks for a job to be canceled. A job nobody is running (queued, waiting for a retry, or
/// held by a worker whose lease expired) is canceled at once; a running one is flagged,
/// and its worker stops at its next heartbeat. `None` when the job is not the user's.
pub async fn request_cancel(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<JobRecord>, DbError> {
    let now = now_ms();
    let direct = format!(
        "UPDATE jobs SET status = 'canceled', seq = seq + 1, cancel_requested = TRUE, \
           lease_owner = NULL, lease_expires_at = NULL, finished_at = $1, updated_at = $1 \
         WHERE id = $2 AND user_id = $3 AND (status = 'pending' \
           OR (status IN {RUNNING} AND (lease_expires_at IS NULL OR lease_expires_at < $1))) \
         RETURNING {COLUMNS}"
    );
    let flag = format!(
        "UPDATE jobs SET cancel_requested = TRUE, updated_at = $1 \
         WHERE id = $2 AND user_id = $3 AND status IN {RUNNING} RETURNING {COLUMNS}"
    );
    let changed: Option<JobRecord> = with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let canceled = sqlx::query_as::<_, JobRecord>(&direct)
            .bind(now)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let row = match canceled {
            Some(job) => {
                record_stage!(tx, job, now)?;
                sqlx::query("UPDATE images SET status = 'canceled', updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&job.image_id)
                    .execute(&mut *tx)
                    .await?;
                Some(job)
            }
            None => {
                sqlx::query_as::<_, JobRecord>(&flag)
                    .bind(now)
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        tx.commit().await?;
        Ok::<_, DbError>(row)
    })?;
    // Neither: a finished job (or not the user's), answered as it is.
    match changed {
        Some(job) => Ok(Some(job)),
        None => get(db, user_id, id).await,
    }
}

/// When the next job becomes claimable without anyone inserting one: the earliest due
/// retry or expiring lease.
pub async fn next_due(db: &Db) -> Result<Option<i64>, DbError> {
    let sql = format!(
        "SELECT MIN(t) FROM (\
           SELECT MIN(next_attempt_at) AS t FROM jobs WHERE status = 'pending' \
             AND cancel_requested = FALSE AND attempt < max_attempts \
           UNION ALL \
           SELECT MIN(lease_expires_at) AS t FROM jobs WHERE status IN {RUNNING} \
             AND attempt < max_attempts) AS due"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar::<_, Option<i64>>(&sql)
            .fetch_one(pool)
            .await
    })?)
}
