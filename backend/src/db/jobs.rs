//! The job queue (`jobs`, `job_stages`) and idempotency keys (written with the jobs they
//! name, in one transaction). A job is claimed by a conditional UPDATE, so
//! two workers (or two processes) never hold the same job; a lease that is not renewed
//! expires and the job can be claimed again.

use model::{ImageFailure, ImageStatus, ProviderId};
use sqlx::FromRow;

use super::{images::NewImage, Db, DbError, Enumerated, FINAL, RUNNING};
use crate::{now_ms, to_time, with_pool};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct JobRecord {
    pub id: String,
    pub user_id: String,
    pub image_id: String,
    pub character_id: Option<String>,
    pub set_avatar: bool,
    #[sqlx(try_from = "super::Enumerated<ProviderId>")]
    pub provider: ProviderId,
    pub model: String,
    pub request: String,
    #[sqlx(try_from = "super::Enumerated<ImageStatus>")]
    pub status: ImageStatus,
    pub seq: i64,
    pub attempt: i64,
    pub max_attempts: i64,
    pub next_attempt_at: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub cancel_requested: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, user_id, image_id, character_id, set_avatar, provider, model, \
     request, status, seq, attempt, max_attempts, next_attempt_at, lease_owner, \
     lease_expires_at, cancel_requested, error_code, error_message, created_at, started_at, \
     finished_at, updated_at";

/// Appends the job's current stage to its history, inside the transaction `tx` (a macro:
/// the same code for both database backends).
macro_rules! record_stage {
    ($tx:expr, $job:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO job_stages (job_id, seq, status, attempt, error_code, at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&$job.id)
        .bind($job.seq)
        .bind($job.status.as_str())
        .bind($job.attempt)
        .bind(&$job.error_code)
        .bind($now)
        .execute(&mut *$tx)
        .await
    };
}

impl JobRecord {
    pub fn error(&self) -> Option<ImageFailure> {
        self.error_code.as_ref().map(|code| ImageFailure {
            code: code.clone(),
            message: self.error_message.clone().unwrap_or_default(),
        })
    }

    /// The public view (API.md, `Job`).
    pub fn to_model(&self) -> model::Job {
        let status = self.status;
        model::Job {
            id: self.id.clone(),
            image_id: self.image_id.clone(),
            character_id: self.character_id.clone(),
            status,
            seq: self.seq,
            attempt: u32::try_from(self.attempt).unwrap_or(0),
            max_attempts: u32::try_from(self.max_attempts).unwrap_or(0),
            provider: self.provider,
            model: self.model.clone(),
            error: self.error(),
            created_at: to_time(self.created_at),
            started_at: self.started_at.map(to_time),
            finished_at: self.finished_at.map(to_time),
            next_attempt_at: (status == ImageStatus::Pending && self.attempt > 0)
                .then(|| to_time(self.next_attempt_at)),
        }
    }
}

/// A job to insert with its image.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub user_id: String,
    pub image_id: String,
    pub character_id: Option<String>,
    pub set_avatar: bool,
    pub provider: ProviderId,
    pub model: String,
    pub request: String,
    pub max_attempts: i64,
}

/// What inserting a generation did.
#[derive(Debug)]
pub enum Inserted {
    /// The images and jobs are in.
    Created(Vec<JobRecord>),
    /// The idempotency key was used before: its request hash and job ids.
    Existing {
        request_hash: String,
        job_ids: Vec<String>,
    },
}

/// Inserts the images (`pending`) and their jobs in one transaction, with the
/// idempotency key if any: all or nothing, and a repeated key inserts nothing.
pub async fn insert_generation(
    db: &Db,
    images: &[NewImage],
    jobs: &[NewJob],
    idempotency: Option<(&str, &str)>,
) -> Result<Inserted, DbError> {
    let now = now_ms();
    let job_ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let ids_json = serde_json::to_string(&job_ids).unwrap_or_default();
    let job_sql = format!(
        "INSERT INTO jobs (id, user_id, image_id, character_id, set_avatar, provider, model, \
         request, status, seq, attempt, max_attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 1, 0, $9, $10, $10, $10) \
         RETURNING {COLUMNS}"
    );
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        if let Some((key, hash)) = idempotency {
            let user_id = jobs.first().map(|j| j.user_id.as_str()).unwrap_or_default();
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, job_ids, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(key)
            .bind(hash)
            .bind(&ids_json)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                let (request_hash, ids): (String, String) = sqlx::query_as(
                    "SELECT request_hash, job_ids FROM idempotency_keys \
                     WHERE user_id = $1 AND key = $2",
                )
                .bind(user_id)
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
                return Ok(Inserted::Existing {
                    request_hash,
                    job_ids: serde_json::from_str(&ids).unwrap_or_default(),
                });
            }
        }
        let image_sql = super::images::insert_sql();
        for new in images {
            super::images::insert_image!(&mut *tx, &image_sql, new, now)?;
        }
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            let row = sqlx::query_as::<_, JobRecord>(&job_sql)
                .bind(&job.id)
                .bind(&job.user_id)
                .bind(&job.image_id)
                .bind(&job.character_id)
                .bind(job.set_avatar)
                .bind(job.provider.as_str())
                .bind(&job.model)
                .bind(&job.request)
                .bind(job.max_attempts)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            record_stage!(tx, row, now)?;
            out.push(row);
        }
        tx.commit().await?;
        Ok(Inserted::Created(out))
    })
}

/// One of the user's jobs.
pub async fn get(db: &Db, user_id: &str, id: &str) -> Result<Option<JobRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1 AND user_id = $2");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, JobRecord>(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await)?)
}

/// Several of the user's jobs, in the order of `ids`.
pub async fn get_many(db: &Db, user_id: &str, ids: &[String]) -> Result<Vec<JobRecord>, DbError> {
    super::owned_in_order(db, "jobs", COLUMNS, user_id, ids, |r: &JobRecord| &r.id).await
}

/// The user's unfinished jobs and the most recent others, newest first.
pub async fn list_recent(db: &Db, user_id: &str, limit: i64) -> Result<Vec<JobRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE user_id = $1 AND (status NOT IN {FINAL} OR id IN \
         (SELECT id FROM jobs WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2)) \
         ORDER BY created_at DESC, id DESC"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, JobRecord>(&sql)
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// A job that may be claimed now, with the running jobs of its owner and its provider.
#[derive(Debug, Clone, FromRow)]
pub struct Candidate {
    pub id: String,
    pub user_id: String,
    #[sqlx(try_from = "super::Enumerated<ProviderId>")]
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
           finished_at = $1, updated_at = $1 \
         WHERE id = $2 AND lease_owner = $3 AND status IN {RUNNING} RETURNING {COLUMNS}"
    );
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let Some(job) = sqlx::query_as::<_, JobRecord>(&job_sql)
            .bind(now)
            .bind(job_id)
            .bind(owner)
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
        if let (true, Some(character)) = (job.set_avatar, &job.character_id) {
            sqlx::query(
                "UPDATE characters SET avatar_image_id = $1, avatar_external_url = NULL, \
                 updated_at = $2 WHERE id = $3 AND user_id = $4",
            )
            .bind(&job.image_id)
            .bind(now)
            .bind(character)
            .bind(&job.user_id)
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

/// The stages a job went through: `(seq, status, attempt, at)`.
pub async fn stages(db: &Db, job_id: &str) -> Result<Vec<(i64, String, i64, i64)>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<
        _,
        (i64, String, i64, i64),
    >(
        "SELECT seq, status, attempt, at FROM job_stages WHERE job_id = $1 ORDER BY seq"
    )
    .bind(job_id)
    .fetch_all(pool)
    .await)?)
}

/// Jobs by provider and status, in that order (the metrics and the operations page).
pub async fn count_by_status(db: &Db) -> Result<Vec<(ProviderId, ImageStatus, i64)>, DbError> {
    let rows = with_pool!(db, |pool| sqlx::query_as::<
        _,
        (Enumerated<ProviderId>, Enumerated<ImageStatus>, i64),
    >(
        "SELECT provider, status, COUNT(*) FROM jobs GROUP BY provider, status \
         ORDER BY provider, status"
    )
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(|(p, s, n)| (p.0, s.0, n)).collect())
}

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
