//! The `images` aggregate, with its cached variants (`image_variants`).
//!
//! Every query is scoped by `user_id`: another person's image is simply not found.
//!
//! Over 500 lines because it is the whole aggregate (images and their variants, read,
//! changed, trashed, purged), each query short; listing them (filters, the keyset cursor,
//! whole records or cards) is in [`listing`].

mod listing;

pub use listing::{list, list_cards, CardRecord, ListQuery};

use model::{ImageKind, ImageStatus};
use sqlx::FromRow;

use super::{placeholders, Arg, Db, DbError};
use crate::{bind_args, now_ms, to_time, with_pool};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ImageRecord {
    pub id: String,
    pub user_id: String,
    #[sqlx(try_from = "super::Enumerated<ImageKind>")]
    pub kind: ImageKind,
    #[sqlx(try_from = "super::Enumerated<ImageStatus>")]
    pub status: ImageStatus,
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
    pub parent_id: Option<String>,
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub revised_prompt: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub params: Option<String>,
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub mime_type: Option<String>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub source_url: Option<String>,
    pub storage_key: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub favorite: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub missing_at: Option<i64>,
    pub generation: Option<String>,
    pub was_avatar_of: Option<String>,
}

const COLUMNS: &str = "id, user_id, kind, status, collection_id, character_id, parent_id, \
     title, prompt, revised_prompt, provider, model, params, seed, width, height, mime_type, \
     bytes, sha256, source_url, storage_key, error_code, error_message, favorite, created_at, \
     updated_at, deleted_at, missing_at, generation, was_avatar_of";

impl ImageRecord {
    /// The public view (API.md, `Image`).
    pub fn to_model(&self) -> model::Image {
        model::Image {
            id: self.id.clone(),
            kind: self.kind,
            status: self.status,
            collection_id: self.collection_id.clone(),
            character_id: self.character_id.clone(),
            parent_id: self.parent_id.clone(),
            title: self.title.clone(),
            prompt: self.prompt.clone(),
            revised_prompt: self.revised_prompt.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            params: self
                .params
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            seed: self.seed,
            generation: self
                .generation
                .as_deref()
                .and_then(|g| serde_json::from_str(g).ok()),
            width: self.width.and_then(|v| u32::try_from(v).ok()),
            height: self.height.and_then(|v| u32::try_from(v).ok()),
            mime_type: self.mime_type.clone(),
            bytes: self.bytes.and_then(|v| u64::try_from(v).ok()),
            sha256: self.sha256.clone(),
            source_url: self.source_url.clone(),
            error: self.error_code.as_ref().map(|code| model::ImageFailure {
                code: code.clone(),
                message: self.error_message.clone().unwrap_or_default(),
            }),
            url: model::media_url(&self.id, None, None),
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
            deleted_at: self.deleted_at.map(to_time),
            favorite: self.favorite,
            was_avatar_of: self.was_avatar_of.clone(),
        }
    }
}

/// A new row. Uploaded and imported images arrive `completed` with their bytes stored.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub id: String,
    pub user_id: String,
    pub kind: ImageKind,
    pub status: ImageStatus,
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
    pub parent_id: Option<String>,
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub params: Option<String>,
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub mime_type: Option<String>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub source_url: Option<String>,
    pub storage_key: Option<String>,
}

impl NewImage {
    /// A row with its identity, kind and status, and nothing else yet.
    pub fn new(id: String, user_id: String, kind: ImageKind, status: ImageStatus) -> Self {
        Self {
            id,
            user_id,
            kind,
            status,
            collection_id: None,
            character_id: None,
            parent_id: None,
            title: None,
            prompt: None,
            provider: None,
            model: None,
            params: None,
            seed: None,
            width: None,
            height: None,
            mime_type: None,
            bytes: None,
            sha256: None,
            source_url: None,
            storage_key: None,
        }
    }
}

/// The statement that inserts a [`NewImage`], answering the row.
pub(super) fn insert_sql() -> String {
    format!(
        "INSERT INTO images (id, user_id, kind, status, collection_id, character_id, parent_id, \
         title, prompt, provider, model, params, seed, width, height, mime_type, bytes, sha256, \
         source_url, storage_key, favorite, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, FALSE, $21, $21) \
         RETURNING {COLUMNS}"
    )
}

/// Runs [`insert_sql`] for `$new` at `$now` on `$executor` (a pool or a transaction of
/// either backend: a macro, so that one text serves them all), answering the row.
macro_rules! insert_image {
    ($executor:expr, $sql:expr, $new:expr, $now:expr) => {
        sqlx::query_as::<_, $crate::db::images::ImageRecord>($sql)
            .bind(&$new.id)
            .bind(&$new.user_id)
            .bind($new.kind.as_str())
            .bind($new.status.as_str())
            .bind(&$new.collection_id)
            .bind(&$new.character_id)
            .bind(&$new.parent_id)
            .bind(&$new.title)
            .bind(&$new.prompt)
            .bind(&$new.provider)
            .bind(&$new.model)
            .bind(&$new.params)
            .bind($new.seed)
            .bind($new.width)
            .bind($new.height)
            .bind(&$new.mime_type)
            .bind($new.bytes)
            .bind(&$new.sha256)
            .bind(&$new.source_url)
            .bind(&$new.storage_key)
            .bind($now)
            .fetch_one($executor)
            .await
    };
}
pub(super) use insert_image;

pub async fn insert(db: &Db, new: &NewImage) -> Result<ImageRecord, DbError> {
    let sql = insert_sql();
    Ok(with_pool!(db, |pool| insert_image!(
        pool,
        &sql,
        new,
        now_ms()
    ))?)
}

/// One of the user's images, in the trash or not.
pub async fn get(db: &Db, user_id: &str, id: &str) -> Result<Option<ImageRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM images WHERE id = $1 AND user_id = $2");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ImageRecord>(
        &sql
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(pool)
    .await)?)
}

/// Several of the user's images at once (one query), in the order of `ids`; unknown ids
/// are left out.
pub async fn get_many(db: &Db, user_id: &str, ids: &[String]) -> Result<Vec<ImageRecord>, DbError> {
    super::owned_in_order(db, "images", COLUMNS, user_id, ids, |r: &ImageRecord| &r.id).await
}

/// What a `PATCH` changes; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ImagePatch {
    pub collection_id: Option<Option<String>>,
    pub favorite: Option<bool>,
    pub title: Option<Option<String>>,
}

pub async fn update(
    db: &Db,
    user_id: &str,
    id: &str,
    patch: &ImagePatch,
) -> Result<Option<ImageRecord>, DbError> {
    // CASE keeps the current value where the patch says nothing: one statement, both
    // backends.
    let sql = format!(
        "UPDATE images SET \
         collection_id = CASE WHEN $3 THEN $4 ELSE collection_id END, \
         favorite = CASE WHEN $5 THEN $6 ELSE favorite END, \
         title = CASE WHEN $7 THEN $8 ELSE title END, \
         updated_at = $9 \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ImageRecord>(
        &sql
    )
    .bind(id)
    .bind(user_id)
    .bind(patch.collection_id.is_some())
    .bind(patch.collection_id.clone().flatten())
    .bind(patch.favorite.is_some())
    .bind(patch.favorite.unwrap_or(false))
    .bind(patch.title.is_some())
    .bind(patch.title.clone().flatten())
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

/// Runs `UPDATE images SET {set} WHERE user_id = $1 AND id IN (…) {extra}` and answers the
/// ids it changed. `set` may use `$2` (now) and, when `value` is given, `$3`.
async fn update_many(
    db: &Db,
    user_id: &str,
    ids: &[String],
    set: &str,
    extra: &str,
    value: Option<Arg>,
) -> Result<Vec<String>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![Arg::Text(user_id.to_owned()), Arg::Int(now_ms())];
    args.extend(value);
    let sql = format!(
        "UPDATE images SET {set} WHERE user_id = $1 AND id IN ({}) {extra} RETURNING id",
        placeholders(args.len() + 1, ids.len())
    );
    args.extend(ids.iter().cloned().map(Arg::Text));
    Ok(with_pool!(db, |pool| bind_args!(
        sqlx::query_scalar::<_, String>(&sql),
        &args
    )
    .fetch_all(pool)
    .await)?)
}

/// Moves images to the trash; answers the ids that were moved (already trashed ones are
/// not). Characters and collections stop using them as avatar or cover.
pub async fn trash(db: &Db, user_id: &str, ids: &[String]) -> Result<Vec<String>, DbError> {
    let done = update_many(
        db,
        user_id,
        ids,
        "deleted_at = $2, updated_at = $2",
        "AND deleted_at IS NULL",
        None,
    )
    .await?;
    remember_avatars(db, user_id, &done).await?;
    forget_references(db, user_id, &done).await?;
    Ok(done)
}

/// Notes on each image the character it is the avatar of (or none), before the avatars
/// that point at them are cleared.
async fn remember_avatars(db: &Db, user_id: &str, ids: &[String]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE images SET was_avatar_of = (SELECT c.id FROM characters c \
         WHERE c.user_id = images.user_id AND c.avatar_image_id = images.id LIMIT 1) \
         WHERE user_id = $1 AND id IN ({})",
        placeholders(2, ids.len())
    );
    let mut args = vec![Arg::Text(user_id.to_owned())];
    args.extend(ids.iter().cloned().map(Arg::Text));
    with_pool!(db, |pool| bind_args!(sqlx::query(&sql), &args)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Up to `limit` ids of the user's images in the trash (to empty it a batch at a time).
pub async fn trashed_ids(db: &Db, user_id: &str, limit: i64) -> Result<Vec<String>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(
        "SELECT id FROM images WHERE user_id = $1 AND deleted_at IS NOT NULL ORDER BY id LIMIT $2"
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Clears the avatars and covers that point at `ids`.
async fn forget_references(db: &Db, user_id: &str, ids: &[String]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    for (table, column) in [
        ("characters", "avatar_image_id"),
        ("collections", "cover_image_id"),
    ] {
        let sql = format!(
            "UPDATE {table} SET {column} = NULL, updated_at = $2 WHERE user_id = $1 AND {column} IN ({})",
            placeholders(3, ids.len())
        );
        let mut args = vec![Arg::Text(user_id.to_owned()), Arg::Int(now_ms())];
        args.extend(ids.iter().cloned().map(Arg::Text));
        with_pool!(db, |pool| bind_args!(sqlx::query(&sql), &args)
            .execute(pool)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Takes images out of the trash; answers the ids restored.
pub async fn restore(db: &Db, user_id: &str, ids: &[String]) -> Result<Vec<String>, DbError> {
    update_many(
        db,
        user_id,
        ids,
        "deleted_at = NULL, updated_at = $2",
        "AND deleted_at IS NOT NULL",
        None,
    )
    .await
}

/// Puts images into a collection (or out of theirs with `None`); answers the ids moved.
pub async fn move_to(
    db: &Db,
    user_id: &str,
    ids: &[String],
    collection_id: Option<&str>,
) -> Result<Vec<String>, DbError> {
    update_many(
        db,
        user_id,
        ids,
        "collection_id = $3, updated_at = $2",
        "",
        Some(Arg::OptText(collection_id.map(str::to_owned))),
    )
    .await
}

/// Deletes rows for good (their variants go with them); answers the storage keys of the
/// originals, for the caller to delete.
pub async fn purge(
    db: &Db,
    user_id: &str,
    ids: &[String],
) -> Result<Vec<(String, Option<String>)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    forget_references(db, user_id, ids).await?;
    let sql = format!(
        "DELETE FROM images WHERE user_id = $1 AND id IN ({}) RETURNING id, storage_key",
        placeholders(2, ids.len())
    );
    let mut args = vec![Arg::Text(user_id.to_owned())];
    args.extend(ids.iter().cloned().map(Arg::Text));
    Ok(with_pool!(db, |pool| bind_args!(
        sqlx::query_as::<_, (String, Option<String>)>(&sql),
        &args
    )
    .fetch_all(pool)
    .await)?)
}

/// The ids of every image of a user (to delete their variants with the account).
pub async fn ids_of_user(db: &Db, user_id: &str) -> Result<Vec<String>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(
        "SELECT id FROM images WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?)
}

/// Counts for the stats page: (kind, status, provider, count, bytes) groups of the images
/// not in the trash.
pub async fn stats_groups(
    db: &Db,
    user_id: &str,
) -> Result<Vec<(String, String, Option<String>, i64, i64)>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<
        _,
        (String, String, Option<String>, i64, i64),
    >(
        "SELECT kind, status, provider, COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) \
         FROM images WHERE user_id = $1 AND deleted_at IS NULL GROUP BY kind, status, provider"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?)
}

/// A cached variant of an image.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct VariantRecord {
    pub image_id: String,
    pub spec: String,
    pub storage_key: String,
    pub mime_type: String,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
    pub created_at: i64,
    pub last_used_at: i64,
}

const VARIANT_COLUMNS: &str =
    "image_id, spec, storage_key, mime_type, width, height, bytes, created_at, last_used_at";

pub async fn variant(
    db: &Db,
    image_id: &str,
    spec: &str,
) -> Result<Option<VariantRecord>, DbError> {
    let sql =
        format!("SELECT {VARIANT_COLUMNS} FROM image_variants WHERE image_id = $1 AND spec = $2");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, VariantRecord>(
        &sql
    )
    .bind(image_id)
    .bind(spec)
    .fetch_optional(pool)
    .await)?)
}

/// Records a rendered variant (a second record of the same one is ignored).
pub async fn insert_variant(db: &Db, v: &VariantRecord) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO image_variants (image_id, spec, storage_key, mime_type, width, height, \
         bytes, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (image_id, spec) DO NOTHING"
    )
    .bind(&v.image_id)
    .bind(&v.spec)
    .bind(&v.storage_key)
    .bind(&v.mime_type)
    .bind(v.width)
    .bind(v.height)
    .bind(v.bytes)
    .bind(v.created_at)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Notes that a variant was served (at most once a minute per variant, to spare writes),
/// for the least-recently-used eviction.
pub async fn touch_variant(db: &Db, image_id: &str, spec: &str) -> Result<(), DbError> {
    let now = now_ms();
    with_pool!(db, |pool| sqlx::query(
        "UPDATE image_variants SET last_used_at = $3 \
         WHERE image_id = $1 AND spec = $2 AND last_used_at < $4"
    )
    .bind(image_id)
    .bind(spec)
    .bind(now)
    .bind(now - 60_000)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Forgets the variants of images (their objects live under `storage::variant_prefix`);
/// answers how many rows went.
pub async fn delete_variants(db: &Db, image_ids: &[String]) -> Result<u64, DbError> {
    if image_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "DELETE FROM image_variants WHERE image_id IN ({})",
        placeholders(1, image_ids.len())
    );
    let args: Vec<Arg> = image_ids.iter().cloned().map(Arg::Text).collect();
    Ok(with_pool!(db, |pool| bind_args!(sqlx::query(&sql), &args)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
}

/// Forgets one variant whose object went missing.
pub async fn delete_variants_by_spec(db: &Db, image_id: &str, spec: &str) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "DELETE FROM image_variants WHERE image_id = $1 AND spec = $2"
    )
    .bind(image_id)
    .bind(spec)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Any user's image, by id: only for requests that carry a valid signed link.
pub async fn get_any(db: &Db, id: &str) -> Result<Option<ImageRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM images WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ImageRecord>(
        &sql
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?)
}
