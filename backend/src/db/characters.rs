//! The `characters` aggregate: the avatar subjects. Scoped by `user_id` like every query.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{now_ms, to_time, with_pool};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CharacterRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    pub avatar_image_id: Option<String>,
    pub avatar_external_url: Option<String>,
    pub avatar_prompt: Option<String>,
    pub avatar_generation_config: Option<String>,
    pub appearance: Option<String>,
    /// A JSON array of image ids; `None`: the current avatar.
    pub identity_reference_ids: Option<String>,
    pub sheet_version: i64,
    /// The token of the public avatar link (`/avatars/{token}`), while there is one.
    pub public_avatar_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, user_id, name, description, avatar_image_id, avatar_external_url, \
     avatar_prompt, avatar_generation_config, appearance, identity_reference_ids, \
     sheet_version, public_avatar_token, created_at, updated_at";

impl CharacterRecord {
    /// The public view; `public_url` is this instance's address (`PUBLIC_URL`), which the
    /// public avatar link is made of.
    pub fn to_model(&self, public_url: &url::Url) -> model::Character {
        model::Character {
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            avatar_image_id: self.avatar_image_id.clone(),
            avatar_url: match (&self.avatar_image_id, &self.avatar_external_url) {
                (Some(id), _) => Some(model::media_url(id, None, None)),
                (None, Some(url)) => Some(url.clone()),
                (None, None) => None,
            },
            avatar_prompt: self.avatar_prompt.clone(),
            avatar_generation_config: self
                .avatar_generation_config
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
            appearance: self.appearance.clone(),
            identity_reference_ids: self.identity_references(),
            identity_references_chosen: self.identity_reference_ids.is_some(),
            sheet_version: self.sheet_version,
            public_avatar_url: self
                .public_avatar_token
                .as_deref()
                .map(|token| public_avatar_url(public_url, token)),
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
        }
    }

    /// The images sent as the character's identity: the chosen ones, else the avatar.
    pub fn identity_references(&self) -> Vec<String> {
        match &self.identity_reference_ids {
            Some(json) => serde_json::from_str(json).unwrap_or_default(),
            None => self.avatar_image_id.iter().cloned().collect(),
        }
    }
}

/// The address of a public avatar link.
pub fn public_avatar_url(public_url: &url::Url, token: &str) -> String {
    let mut url = public_url.clone();
    url.set_path(&format!("/avatars/{token}"));
    url.set_query(None);
    url.to_string()
}

/// The fields a person sets.
#[derive(Debug, Clone, Default)]
pub struct CharacterFields {
    pub name: String,
    pub description: Option<String>,
    pub avatar_prompt: Option<String>,
    pub avatar_generation_config: Option<String>,
    pub appearance: Option<String>,
    /// A JSON array of image ids; `None`: the current avatar.
    pub identity_reference_ids: Option<String>,
}

pub async fn insert(
    db: &Db,
    id: &str,
    user_id: &str,
    fields: &CharacterFields,
) -> Result<CharacterRecord, DbError> {
    let sql = format!(
        "INSERT INTO characters (id, user_id, name, description, avatar_prompt, \
         avatar_generation_config, appearance, identity_reference_ids, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(&fields.avatar_prompt)
            .bind(&fields.avatar_generation_config)
            .bind(&fields.appearance)
            .bind(&fields.identity_reference_ids)
            .bind(now_ms())
            .fetch_one(pool)
            .await
    })?)
}

pub async fn get(db: &Db, user_id: &str, id: &str) -> Result<Option<CharacterRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM characters WHERE id = $1 AND user_id = $2");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?)
}

/// The user's characters, newest first, after the cursor `before`.
pub async fn list(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<CharacterRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM characters WHERE user_id = $1 AND ($2 IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(user_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// Replaces the person-set fields (the service merges a PATCH first). The sheet's version
/// grows when its appearance or identity references change.
pub async fn update(
    db: &Db,
    user_id: &str,
    id: &str,
    fields: &CharacterFields,
) -> Result<Option<CharacterRecord>, DbError> {
    let sql = format!(
        "UPDATE characters SET name = $3, description = $4, avatar_prompt = $5, \
         avatar_generation_config = $6, updated_at = $7, \
         sheet_version = sheet_version + CASE WHEN appearance IS NOT DISTINCT FROM $8 \
           AND identity_reference_ids IS NOT DISTINCT FROM $9 THEN 0 ELSE 1 END, \
         appearance = $8, identity_reference_ids = $9 \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(&fields.avatar_prompt)
            .bind(&fields.avatar_generation_config)
            .bind(now_ms())
            .bind(&fields.appearance)
            .bind(&fields.identity_reference_ids)
            .fetch_optional(pool)
            .await
    })?)
}

/// Makes one of the user's images the avatar (the caller checked that it is theirs).
pub async fn set_avatar(
    db: &Db,
    user_id: &str,
    id: &str,
    image_id: &str,
) -> Result<Option<CharacterRecord>, DbError> {
    let sql = format!(
        "UPDATE characters SET avatar_image_id = $3, avatar_external_url = NULL, updated_at = $4 \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(image_id)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
    })?)
}

/// Deletes a character; its images stay in the library (their `character_id` is cleared).
pub async fn delete(db: &Db, user_id: &str, id: &str) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| sqlx::query(
        "DELETE FROM characters WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// (characters, characters with an avatar) of a user.
pub async fn counts(db: &Db, user_id: &str) -> Result<(i64, i64), DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, (i64, i64)>(
        "SELECT COUNT(*), COUNT(avatar_image_id) FROM characters WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(pool)
    .await)?)
}

/// Characters (of every user) whose avatar still points outside our storage, in id order
/// after `after`.
pub async fn with_external_avatar(
    db: &Db,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CharacterRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM characters WHERE avatar_external_url IS NOT NULL \
         AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// Points a character's avatar at an address outside our storage (what older systems
/// kept); `import-urls` brings such avatars in.
pub async fn set_external_avatar(
    db: &Db,
    user_id: &str,
    id: &str,
    url: &str,
) -> Result<bool, DbError> {
    let done = with_pool!(db, |pool| {
        sqlx::query(
        "UPDATE characters SET avatar_external_url = $3, avatar_image_id = NULL, updated_at = $4 \
         WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .bind(url)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

/// Gives the character a public avatar link, keeping the one it has (a link handed out
/// stays the same until it is revoked).
pub async fn publish_avatar(
    db: &Db,
    user_id: &str,
    id: &str,
    token: &str,
) -> Result<Option<CharacterRecord>, DbError> {
    let sql = format!(
        "UPDATE characters SET public_avatar_token = COALESCE(public_avatar_token, $3), \
         updated_at = $4 WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(token)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
    })?)
}

/// Revokes the public avatar link: its address opens nothing from now on.
pub async fn unpublish_avatar(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<CharacterRecord>, DbError> {
    let sql = format!(
        "UPDATE characters SET public_avatar_token = NULL, updated_at = $3 \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
    })?)
}

/// The character whose public avatar link has this token (anyone's: the token is the
/// permission).
pub async fn by_public_avatar_token(
    db: &Db,
    token: &str,
) -> Result<Option<CharacterRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM characters WHERE public_avatar_token = $1");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CharacterRecord>(&sql)
            .bind(token)
            .fetch_optional(pool)
            .await
    })?)
}
