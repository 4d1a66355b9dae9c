//! The library's images: list with filters, view, rename, favourite, move, trash and
//! restore (one at a time or in bulk), and the stats of the dashboard.

use model::{
    BulkAction, BulkFailure, BulkRequest, BulkResult, Image, ImageCard, ImageEventKind,
    ImageFilter, Page,
};

use super::{auth::Principal, into_page, page_cursor, page_limit, parse_id, ServiceError};
use crate::{
    db::{
        characters, collections,
        images::{self, CardRecord, ImagePatch, ImageRecord, ListQuery},
    },
    domain::{parse_label, FieldError, Id},
    storage, Backend,
};

/// The most images one bulk request may name.
pub const MAX_BULK: usize = 500;
/// The longest search text.
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 10;

/// Parses an optional id filter: a malformed one is a 400 naming the field.
fn filter_id(field: &'static str, raw: Option<&str>) -> Result<Option<String>, ServiceError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Id::parse(s)
            .map(|id| Some(id.as_str().to_owned()))
            .ok_or_else(|| FieldError::new(field, "That is not an id.").into()),
    }
}

fn search_words(q: Option<&str>) -> Result<Vec<String>, ServiceError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(Vec::new());
    };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(FieldError::new(
            "q",
            format!("Search for at most {MAX_QUERY_CHARS} characters."),
        )
        .into());
    }
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    if words.len() > MAX_QUERY_WORDS {
        return Err(
            FieldError::new("q", format!("Search for at most {MAX_QUERY_WORDS} words.")).into(),
        );
    }
    Ok(words)
}

#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn list(
    backend: &Backend,
    principal: &Principal,
    filter: &ImageFilter,
) -> Result<Page<Image>, ServiceError> {
    let (query, limit) = list_query(filter)?;
    let rows = images::list(&backend.db, principal.user_id(), &query).await?;
    Ok(into_page(
        rows,
        limit,
        |r| r.id.clone(),
        ImageRecord::to_model,
    ))
}

/// [`list`] as cards (`ImageCard`, what the gallery's pages read), from only the columns
/// they need: the same images, filters, limits and cursor.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn list_cards(
    backend: &Backend,
    principal: &Principal,
    filter: &ImageFilter,
) -> Result<Page<ImageCard>, ServiceError> {
    let (query, limit) = list_query(filter)?;
    let rows = images::list_cards(&backend.db, principal.user_id(), &query).await?;
    Ok(into_page(
        rows,
        limit,
        |r| r.id.clone(),
        CardRecord::to_card,
    ))
}

/// The checked query of a filter, asking for one row more than the page (to know whether
/// there is a next one), and the page's size.
fn list_query(filter: &ImageFilter) -> Result<(ListQuery, i64), ServiceError> {
    let limit = page_limit(filter.limit)?;
    let query = ListQuery {
        collection_id: filter_id("collection_id", filter.collection_id.as_deref())?,
        character_id: filter_id("character_id", filter.character_id.as_deref())?,
        parent_id: filter_id("parent_id", filter.parent_id.as_deref())?,
        kind: filter.kind,
        status: filter.status,
        provider: filter
            .provider
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        favorite: filter.favorite,
        words: search_words(filter.q.as_deref())?,
        trashed: filter.trashed.unwrap_or(false),
        before: page_cursor(filter.cursor.as_deref())?,
        limit: limit + 1,
    };
    Ok((query, limit))
}

/// One of the caller's images (in the trash or not).
pub(crate) async fn record(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<ImageRecord, ServiceError> {
    let id = parse_id(id)?;
    images::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn get(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Image, ServiceError> {
    Ok(record(backend, principal, id).await?.to_model())
}

/// The caller's images among `ids`, in that order (those not theirs are left out).
pub async fn get_many(
    backend: &Backend,
    principal: &Principal,
    ids: &[String],
) -> Result<Vec<Image>, ServiceError> {
    Ok(images::get_many(&backend.db, principal.user_id(), ids)
        .await?
        .iter()
        .map(ImageRecord::to_model)
        .collect())
}

/// Checks that a collection named in a request is the caller's.
pub async fn own_collection(
    backend: &Backend,
    principal: &Principal,
    raw: &str,
) -> Result<String, ServiceError> {
    // Another person's collection is "not found", like any of their resources.
    let id = parse_id(raw)?;
    collections::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .map(|c| c.id)
        .ok_or(ServiceError::NotFound)
}

/// Checks that a character named in a request is the caller's.
pub async fn own_character(
    backend: &Backend,
    principal: &Principal,
    raw: &str,
) -> Result<String, ServiceError> {
    let id = parse_id(raw)?;
    characters::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .map(|c| c.id)
        .ok_or(ServiceError::NotFound)
}

/// Of `ids`, those that are the user's finished images outside the trash, in the order
/// given (one query): what may be sent to a provider as a reference.
pub async fn usable(
    backend: &Backend,
    user_id: &str,
    ids: &[String],
) -> Result<Vec<String>, ServiceError> {
    Ok(images::get_many(&backend.db, user_id, ids)
        .await?
        .into_iter()
        .filter(|r| r.status == model::ImageStatus::Completed && r.deleted_at.is_none())
        .map(|r| r.id)
        .collect())
}

/// Parses an optional title: `None` or blank clears it.
pub fn parse_title(raw: Option<&str>) -> Result<Option<String>, ServiceError> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Ok(Some(parse_label("title", t, 200)?)),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id, image_id = %id))]
pub async fn update(
    backend: &Backend,
    principal: &Principal,
    id: &str,
    request: &model::UpdateImageRequest,
) -> Result<Image, ServiceError> {
    let image = record(backend, principal, id).await?;
    let collection_id = match &request.collection_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(c)) => Some(Some(own_collection(backend, principal, c).await?)),
    };
    let title = match &request.title {
        None => None,
        Some(t) => Some(parse_title(t.as_deref())?),
    };
    let patch = ImagePatch {
        collection_id,
        favorite: request.favorite,
        title,
    };
    let updated = images::update(&backend.db, principal.user_id(), &image.id, &patch)
        .await?
        .map(|r| r.to_model())
        .ok_or(ServiceError::NotFound)?;
    backend
        .runtime
        .hub
        .image(principal.user_id(), ImageEventKind::Updated, &updated);
    Ok(updated)
}

/// Tells the owner's open pages about images that changed (one query for all of them).
pub async fn announce(
    backend: &Backend,
    user_id: &str,
    event: ImageEventKind,
    ids: &[String],
) -> Result<(), ServiceError> {
    if ids.is_empty() {
        return Ok(());
    }
    for image in images::get_many(&backend.db, user_id, ids).await? {
        backend.runtime.hub.image(user_id, event, &image.to_model());
    }
    Ok(())
}

/// Moves images to the trash and drops their variants (a cache that a trashed image no
/// longer needs). Answers the ids that moved.
pub async fn trash(
    backend: &Backend,
    principal: &Principal,
    ids: &[String],
) -> Result<Vec<String>, ServiceError> {
    let done = images::trash(&backend.db, principal.user_id(), ids).await?;
    drop_variants(backend, &done).await?;
    tracing::info!(count = done.len(), "images moved to the trash");
    announce(backend, principal.user_id(), ImageEventKind::Deleted, &done).await?;
    Ok(done)
}

/// Forgets and deletes the cached variants of `image_ids`: the rows, then everything
/// under each image's variant prefix (one listing per image, whatever the number of
/// variants).
pub async fn drop_variants(backend: &Backend, image_ids: &[String]) -> Result<(), ServiceError> {
    images::delete_variants(&backend.db, image_ids).await?;
    for id in image_ids {
        if let Some(id) = Id::parse(id) {
            if let Err(e) = backend
                .storage
                .delete_prefix(&storage::variant_prefix(&id))
                .await
            {
                // The rows are gone; what is left is an orphan that the cleanup job removes.
                tracing::warn!(error = %e, image_id = %id, "could not delete variants");
            }
        }
    }
    Ok(())
}

/// `DELETE /api/v1/images/{id}`: to the trash. Deleting what is already there is a no-op.
pub async fn delete(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    let image = record(backend, principal, id).await?;
    trash(backend, principal, std::slice::from_ref(&image.id)).await?;
    Ok(())
}

pub async fn restore(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Image, ServiceError> {
    let image = record(backend, principal, id).await?;
    images::restore(
        &backend.db,
        principal.user_id(),
        std::slice::from_ref(&image.id),
    )
    .await?;
    let restored = get(backend, principal, &image.id).await?;
    backend
        .runtime
        .hub
        .image(principal.user_id(), ImageEventKind::Updated, &restored);
    Ok(restored)
}

/// Deletes images for good, with their objects and variants: emptying the trash.
pub async fn purge(
    backend: &Backend,
    principal: &Principal,
    ids: &[String],
) -> Result<Vec<String>, ServiceError> {
    drop_variants(backend, ids).await?;
    let gone = images::purge(&backend.db, principal.user_id(), ids).await?;
    for (_, key) in &gone {
        if let Some(key) = key {
            if let Err(e) = backend
                .storage
                .delete(&object_store::path::Path::from(key.as_str()))
                .await
            {
                tracing::warn!(error = %e, key, "could not delete a purged image");
            }
        }
    }
    Ok(gone.into_iter().map(|(id, _)| id).collect())
}

/// How many images one batch of emptying the trash deletes.
const EMPTY_BATCH: i64 = 200;

/// `DELETE /api/v1/trash`: every image in the caller's trash deleted for good, with its
/// files and variants, a batch at a time (memory stays bounded whatever the trash holds).
pub async fn empty_trash(
    backend: &Backend,
    principal: &Principal,
) -> Result<model::EmptyTrashResult, ServiceError> {
    let mut deleted = 0u64;
    loop {
        let ids = images::trashed_ids(&backend.db, principal.user_id(), EMPTY_BATCH).await?;
        if ids.is_empty() {
            break;
        }
        let gone = purge(backend, principal, &ids).await?;
        deleted += gone.len() as u64;
        if gone.is_empty() {
            // Nothing could be deleted (a concurrent emptying took them): stop, not spin.
            break;
        }
    }
    tracing::info!(deleted, "trash emptied");
    Ok(model::EmptyTrashResult { deleted })
}

/// `POST /api/v1/images/bulk`: each id is done or reported failed; one bad id does not
/// stop the others.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id, action = ?request.action, count = request.ids.len()))]
pub async fn bulk(
    backend: &Backend,
    principal: &Principal,
    request: &BulkRequest,
) -> Result<BulkResult, ServiceError> {
    if request.ids.is_empty() {
        return Err(FieldError::new("ids", "Choose at least one image.").into());
    }
    if request.ids.len() > MAX_BULK {
        return Err(FieldError::new(
            "ids",
            format!("Choose at most {MAX_BULK} images at a time."),
        )
        .into());
    }
    let mut failed = Vec::new();
    let mut ids = Vec::new();
    for raw in &request.ids {
        match Id::parse(raw) {
            Some(id) if !ids.contains(&id.as_str().to_owned()) => ids.push(id.as_str().to_owned()),
            Some(_) => {}
            None => failed.push(BulkFailure {
                id: raw.clone(),
                message: "That is not an id.".to_owned(),
            }),
        }
    }
    let done = match request.action {
        // Announced by `trash`.
        BulkAction::Delete => trash(backend, principal, &ids).await?,
        BulkAction::Purge => {
            let in_trash: Vec<String> = images::get_many(&backend.db, principal.user_id(), &ids)
                .await?
                .into_iter()
                .filter(|r| r.deleted_at.is_some())
                .map(|r| r.id)
                .collect();
            purge(backend, principal, &in_trash).await?
        }
        BulkAction::Restore => images::restore(&backend.db, principal.user_id(), &ids).await?,
        BulkAction::Move => {
            let collection = match request.collection_id.as_deref() {
                Some(c) => Some(own_collection(backend, principal, c).await?),
                None => None,
            };
            images::move_to(
                &backend.db,
                principal.user_id(),
                &ids,
                collection.as_deref(),
            )
            .await?
        }
    };
    if matches!(request.action, BulkAction::Move | BulkAction::Restore) {
        announce(backend, principal.user_id(), ImageEventKind::Updated, &done).await?;
    }
    // What was not done: not the caller's, or already in the wanted state (a second
    // query, only when something was left out).
    let left_out: Vec<String> = ids.into_iter().filter(|id| !done.contains(id)).collect();
    let existing: Vec<String> = if left_out.is_empty() {
        Vec::new()
    } else {
        images::get_many(&backend.db, principal.user_id(), &left_out)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    for id in left_out {
        let message = if !existing.contains(&id) {
            "That image does not exist, or it is not yours."
        } else if request.action == BulkAction::Delete {
            "It is already in the trash."
        } else if request.action == BulkAction::Purge {
            "Only images in the trash can be deleted for good: move it to the trash first."
        } else {
            "It is not in the trash."
        };
        failed.push(BulkFailure {
            id,
            message: message.to_owned(),
        });
    }
    Ok(BulkResult { done, failed })
}

/// `GET /api/v1/stats`: two grouped queries, whatever the size of the library.
pub async fn stats(backend: &Backend, principal: &Principal) -> Result<model::Stats, ServiceError> {
    let mut stats = model::Stats::default();
    for (kind, status, provider, count, bytes) in
        images::stats_groups(&backend.db, principal.user_id()).await?
    {
        let count = u64::try_from(count).unwrap_or(0);
        stats.images.total += count;
        match kind.as_str() {
            "generated" => stats.images.generated += count,
            "uploaded" => stats.images.uploaded += count,
            "imported" => stats.images.imported += count,
            _ => {}
        }
        *stats.by_status.entry(status).or_default() += count;
        if let Some(p) = provider {
            *stats.by_provider.entry(p).or_default() += count;
        }
        stats.bytes_used += u64::try_from(bytes).unwrap_or(0);
    }
    let (total, with_avatar) = characters::counts(&backend.db, principal.user_id()).await?;
    stats.characters.total = u64::try_from(total).unwrap_or(0);
    stats.characters.with_avatar = u64::try_from(with_avatar).unwrap_or(0);
    Ok(stats)
}
