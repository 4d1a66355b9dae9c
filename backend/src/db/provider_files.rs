//! The files jobs upload to providers (`provider_files`, Gemini's Files API): recorded
//! as they are made, marked when deleted; what ended jobs left is the cleanup's to delete.

use model::ProviderId;

use super::{jobs::JobRecord, Db, DbError, FINAL};
use crate::{now_ms, with_pool};

/// Records a file a job uploaded to a provider.
pub async fn record(db: &Db, job: &JobRecord, name: &str) -> Result<String, DbError> {
    let id = crate::new_id();
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO provider_files (id, job_id, user_id, provider, name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&id)
    .bind(&job.id)
    .bind(&job.user_id)
    .bind(job.provider.as_str())
    .bind(name)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(id)
}

/// The files a job left at its provider that are not deleted yet: `(id, name)`.
pub async fn open_for_job(db: &Db, job_id: &str) -> Result<Vec<(String, String)>, DbError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT id, name FROM provider_files WHERE job_id = $1 AND deleted_at IS NULL",
        )
        .bind(job_id)
        .fetch_all(pool)
        .await
    })?)
}

/// A file left at a provider that the cleanup may delete.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeftProviderFile {
    pub id: String,
    pub job_id: Option<String>,
    pub user_id: String,
    #[sqlx(try_from = "super::Enumerated<ProviderId>")]
    pub provider: ProviderId,
    pub name: String,
    pub created_at: i64,
}

/// The provider files not deleted whose job has ended (or is gone), oldest first: a job
/// still queued or running deletes its own after its attempt.
pub async fn left(db: &Db) -> Result<Vec<LeftProviderFile>, DbError> {
    let sql = format!(
        "SELECT f.id, f.job_id, f.user_id, f.provider, f.name, f.created_at \
         FROM provider_files f LEFT JOIN jobs j ON j.id = f.job_id \
         WHERE f.deleted_at IS NULL AND (j.id IS NULL OR j.status IN {FINAL}) \
         ORDER BY f.created_at, f.id"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, LeftProviderFile>(&sql)
            .fetch_all(pool)
            .await
    })?)
}

pub async fn mark_deleted(db: &Db, id: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE provider_files SET deleted_at = $1 WHERE id = $2"
    )
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}
