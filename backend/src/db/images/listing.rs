//! Listing a person's images: the filters, the keyset cursor, and the two shapes a listing
//! reads — whole records ([`ImageRecord`], the API's images) or cards ([`CardRecord`], the
//! gallery's pages) — from one statement with other columns.

use model::{ImageKind, ImageStatus};
use sqlx::FromRow;

use super::{ImageRecord, COLUMNS};
use crate::{
    bind_args,
    db::{Arg, Db, DbError},
    to_time, with_pool,
};

/// The columns of an image that its card needs (`model::ImageCard`: what the gallery's
/// pages read), for listing many: two thirds of [`COLUMNS`], without the generation's
/// parameters and provenance (JSON, parsed per row by [`ImageRecord::to_model`]), the
/// revised prompt, the checksum, the storage key and the failure.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CardRecord {
    pub id: String,
    #[sqlx(try_from = "crate::db::Enumerated<ImageKind>")]
    pub kind: ImageKind,
    #[sqlx(try_from = "crate::db::Enumerated<ImageStatus>")]
    pub status: ImageStatus,
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
    pub parent_id: Option<String>,
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub mime_type: Option<String>,
    pub bytes: Option<i64>,
    pub source_url: Option<String>,
    pub favorite: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub was_avatar_of: Option<String>,
}

const CARD_COLUMNS: &str = "id, kind, status, collection_id, character_id, parent_id, title, \
     prompt, provider, model, width, height, mime_type, bytes, source_url, favorite, \
     created_at, updated_at, deleted_at, was_avatar_of";

impl CardRecord {
    /// The card, exactly as `ImageCard::from(record.to_model())` would make it.
    pub fn to_card(&self) -> model::ImageCard {
        model::ImageCard {
            id: self.id.clone(),
            kind: self.kind,
            status: self.status,
            collection_id: self.collection_id.clone(),
            character_id: self.character_id.clone(),
            parent_id: self.parent_id.clone(),
            title: self.title.clone(),
            prompt: self.prompt.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            width: self.width.and_then(|v| u32::try_from(v).ok()),
            height: self.height.and_then(|v| u32::try_from(v).ok()),
            mime_type: self.mime_type.clone(),
            bytes: self.bytes.and_then(|v| u64::try_from(v).ok()),
            source_url: self.source_url.clone(),
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
            deleted_at: self.deleted_at.map(to_time),
            favorite: self.favorite,
            was_avatar_of: self.was_avatar_of.clone(),
        }
    }
}

/// The filters of a listing, already validated.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
    /// Images made from this one (edits and regenerations).
    pub parent_id: Option<String>,
    pub kind: Option<ImageKind>,
    pub status: Option<ImageStatus>,
    pub provider: Option<String>,
    pub favorite: Option<bool>,
    /// Lower-cased words that must all appear in the prompt or the title.
    pub words: Vec<String>,
    pub trashed: bool,
    /// Only ids before this one (the cursor).
    pub before: Option<String>,
    pub limit: i64,
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(word: &str) -> String {
    let mut p = String::from("%");
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The user's images, newest first, `limit` at a time (keyset pagination on the
/// time-ordered id).
pub async fn list(db: &Db, user_id: &str, q: &ListQuery) -> Result<Vec<ImageRecord>, DbError> {
    let (sql, args) = list_statement(COLUMNS, user_id, q);
    Ok(with_pool!(db, |pool| bind_args!(
        sqlx::query_as::<_, ImageRecord>(&sql),
        &args
    )
    .fetch_all(pool)
    .await)?)
}

/// [`list`], reading only what the images' cards need ([`CardRecord`]).
pub async fn list_cards(db: &Db, user_id: &str, q: &ListQuery) -> Result<Vec<CardRecord>, DbError> {
    let (sql, args) = list_statement(CARD_COLUMNS, user_id, q);
    Ok(with_pool!(db, |pool| bind_args!(
        sqlx::query_as::<_, CardRecord>(&sql),
        &args
    )
    .fetch_all(pool)
    .await)?)
}

/// The statement of [`list`] and [`list_cards`], selecting `columns`, and its arguments.
fn list_statement(columns: &str, user_id: &str, q: &ListQuery) -> (String, Vec<Arg>) {
    let mut sql = format!("SELECT {columns} FROM images WHERE user_id = $1");
    let mut args = vec![Arg::Text(user_id.to_owned())];
    let mut cond = |sql: &mut String, clause: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    sql.push_str(if q.trashed {
        " AND deleted_at IS NOT NULL"
    } else {
        " AND deleted_at IS NULL"
    });
    if let Some(c) = &q.collection_id {
        cond(&mut sql, " AND collection_id = ?", Arg::Text(c.clone()));
    }
    if let Some(c) = &q.character_id {
        cond(&mut sql, " AND character_id = ?", Arg::Text(c.clone()));
    }
    if let Some(p) = &q.parent_id {
        cond(&mut sql, " AND parent_id = ?", Arg::Text(p.clone()));
    }
    if let Some(k) = q.kind {
        cond(&mut sql, " AND kind = ?", Arg::Text(k.as_str().to_owned()));
    }
    if let Some(s) = q.status {
        cond(
            &mut sql,
            " AND status = ?",
            Arg::Text(s.as_str().to_owned()),
        );
    }
    if let Some(p) = &q.provider {
        cond(&mut sql, " AND provider = ?", Arg::Text(p.clone()));
    }
    if let Some(f) = q.favorite {
        cond(&mut sql, " AND favorite = ?", Arg::Bool(f));
    }
    for word in &q.words {
        cond(
            &mut sql,
            " AND LOWER(COALESCE(prompt, '') || ' ' || COALESCE(title, '')) LIKE ? ESCAPE '\\'",
            Arg::Text(like_pattern(word)),
        );
    }
    if let Some(before) = &q.before {
        cond(&mut sql, " AND id < ?", Arg::Text(before.clone()));
    }
    cond(&mut sql, " ORDER BY id DESC LIMIT ?", Arg::Int(q.limit));
    (sql, args)
}
