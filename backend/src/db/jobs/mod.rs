//! The job queue (`jobs`, `job_stages`) and idempotency keys (written with the jobs they
//! name, in one transaction): the records, inserting a generation, and reading jobs. The
//! worker's side (claiming under a lease, heartbeats, transitions, completing, canceling)
//! is in `lease`; ending jobs whose worker is gone is in `abandoned`.

use model::{ImageFailure, ImageStatus, ProviderId};
use sqlx::FromRow;

use super::{images::NewImage, Db, DbError, Enumerated, FINAL};
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
    /// The jobs of one comparison share it.
    pub batch_id: Option<String>,
    /// JSON `model::Cost`, set when it completes.
    pub cost: Option<String>,
}

const COLUMNS: &str = "id, user_id, image_id, character_id, set_avatar, provider, model, \
     request, status, seq, attempt, max_attempts, next_attempt_at, lease_owner, \
     lease_expires_at, cancel_requested, error_code, error_message, created_at, started_at, \
     finished_at, updated_at, batch_id, cost";

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

// After the macro, so that both can use it.
mod abandoned;
mod lease;

pub use abandoned::{abandoned, fail_abandoned};
pub use lease::{
    candidates, claim, complete, heartbeat, next_due, request_cancel, transition, Candidate,
    Finished, Transition,
};

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
            set_avatar: self.set_avatar,
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
            batch_id: self.batch_id.clone(),
            cost: self
                .cost
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
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
    pub batch_id: Option<String>,
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
         request, status, seq, attempt, max_attempts, next_attempt_at, created_at, updated_at, \
         batch_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 1, 0, $9, $10, $10, $10, $11) \
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
                .bind(&job.batch_id)
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

/// The most unfinished jobs [`list_recent`] answers (the active-jobs quota keeps a
/// person far below it).
const MAX_RECENT: i64 = 500;

/// The user's unfinished jobs and the most recent others, newest first (at most
/// [`MAX_RECENT`]).
pub async fn list_recent(db: &Db, user_id: &str, limit: i64) -> Result<Vec<JobRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE user_id = $1 AND (status NOT IN {FINAL} OR id IN \
         (SELECT id FROM jobs WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2)) \
         ORDER BY created_at DESC, id DESC LIMIT {MAX_RECENT}"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, JobRecord>(&sql)
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// A page of the user's jobs, newest first (ids grow with time), from before the job
/// `before`.
pub async fn list_page(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<JobRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE user_id = $1 AND ($2 IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, JobRecord>(&sql)
        .bind(user_id)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
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
