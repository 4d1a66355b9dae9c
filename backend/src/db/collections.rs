//! The `collections` aggregate. Scoped by `user_id` like every query.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{now_ms, with_pool};

/// A collection with its image count and effective cover, read in one query.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CollectionRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    /// The cover the person chose.
    pub cover_image_id: Option<String>,
    /// The chosen cover, else the newest finished image in the collection.
    pub effective_cover_id: Option<String>,
    pub image_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CollectionRecord {
    pub fn to_model(&self) -> model::Collection {
        model::Collection {
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            image_count: u64::try_from(self.image_count).unwrap_or(0),
            cover_image_id: self.effective_cover_id.clone(),
            created_at: crate::to_time(self.created_at),
        }
    }
}

const SELECT: &str = "SELECT c.id, c.user_id, c.name, c.description, c.cover_image_id, \
     COALESCE(c.cover_image_id, (SELECT i.id FROM images i WHERE i.collection_id = c.id \
       AND i.deleted_at IS NULL AND i.status = 'completed' ORDER BY i.id DESC LIMIT 1)) \
       AS effective_cover_id, \
     (SELECT COUNT(*) FROM images i WHERE i.collection_id = c.id AND i.deleted_at IS NULL) \
       AS image_count, \
     c.created_at, c.updated_at FROM collections c";

pub async fn insert(
    db: &Db,
    id: &str,
    user_id: &str,
    name: &str,
    description: Option<&str>,
) -> Result<CollectionRecord, DbError> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO collections (id, user_id, name, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)"
    )
    .bind(id)
    .bind(user_id)
    .bind(name)
    .bind(description)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    get(db, user_id, id)
        .await?
        .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
}

pub async fn get(db: &Db, user_id: &str, id: &str) -> Result<Option<CollectionRecord>, DbError> {
    let sql = format!("{SELECT} WHERE c.id = $1 AND c.user_id = $2");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CollectionRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?)
}

/// The user's collections, newest first, after the cursor `before`.
pub async fn list(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<CollectionRecord>, DbError> {
    let sql = format!(
        "{SELECT} WHERE c.user_id = $1 AND ($2 IS NULL OR c.id < $2) ORDER BY c.id DESC LIMIT $3"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CollectionRecord>(&sql)
            .bind(user_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// Replaces name, description and chosen cover (the service merges a PATCH first).
pub async fn update(
    db: &Db,
    user_id: &str,
    id: &str,
    name: &str,
    description: Option<&str>,
    cover_image_id: Option<&str>,
) -> Result<Option<CollectionRecord>, DbError> {
    let done = with_pool!(db, |pool| {
        sqlx::query(
        "UPDATE collections SET name = $3, description = $4, cover_image_id = $5, updated_at = $6 \
         WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .bind(name)
    .bind(description)
    .bind(cover_image_id)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Ok(None);
    }
    get(db, user_id, id).await
}

/// Deletes a collection; its images stay (their `collection_id` is cleared).
pub async fn delete(db: &Db, user_id: &str, id: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM collections WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}
