//! The `share_links` aggregate: every signed link an owner hands out for one image, so
//! that it can be listed and revoked. The link's URL carries the row's id and a signature
//! over it; the row decides whether it still opens the image.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{new_id, now_ms, with_pool};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ShareLinkRecord {
    pub id: String,
    pub image_id: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, image_id, user_id, created_at, expires_at, revoked_at";

pub async fn insert(
    db: &Db,
    user_id: &str,
    image_id: &str,
    expires_at: i64,
) -> Result<ShareLinkRecord, DbError> {
    let sql = format!(
        "INSERT INTO share_links (id, image_id, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ShareLinkRecord>(&sql)
            .bind(new_id())
            .bind(image_id)
            .bind(user_id)
            .bind(now_ms())
            .bind(expires_at)
            .fetch_one(pool)
            .await
    })?)
}

/// The link `id` to `image_id` if it still opens the image (not revoked, not expired).
pub async fn live(db: &Db, id: &str, image_id: &str) -> Result<Option<ShareLinkRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM share_links \
         WHERE id = $1 AND image_id = $2 AND revoked_at IS NULL AND expires_at > $3"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ShareLinkRecord>(&sql)
            .bind(id)
            .bind(image_id)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
    })?)
}

/// The links of one of the user's images, newest first, after the cursor `before`.
pub async fn list(
    db: &Db,
    user_id: &str,
    image_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<ShareLinkRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM share_links \
         WHERE image_id = $1 AND user_id = $2 AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ShareLinkRecord>(&sql)
            .bind(image_id)
            .bind(user_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// How many links to the image still open it, for the per-image limit.
pub async fn count_live(db: &Db, image_id: &str) -> Result<i64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM share_links \
         WHERE image_id = $1 AND revoked_at IS NULL AND expires_at > $2"
    )
    .bind(image_id)
    .bind(now_ms())
    .fetch_one(pool)
    .await)?)
}

/// Revokes one of the user's links (a revoked one stays revoked, at its first time); the
/// link, or `None` when the user has no link with that id.
pub async fn revoke(db: &Db, user_id: &str, id: &str) -> Result<Option<ShareLinkRecord>, DbError> {
    let sql = format!(
        "UPDATE share_links SET revoked_at = COALESCE(revoked_at, $3) \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ShareLinkRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
    })?)
}
