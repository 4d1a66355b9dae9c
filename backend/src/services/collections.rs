//! Collections: create, rename, describe, choose a cover, delete (the images stay).

use model::{Collection, CreateCollectionRequest, Page, UpdateCollectionRequest};

use super::{auth::Principal, into_page, page_cursor, page_limit, parse_id, ServiceError};
use crate::{
    db::{collections, collections::CollectionRecord, images},
    domain::{parse_label, parse_text, FieldError, Id},
    Backend,
};

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2000;

pub async fn create(
    backend: &Backend,
    principal: &Principal,
    request: &CreateCollectionRequest,
) -> Result<Collection, ServiceError> {
    let name = parse_label("name", &request.name, MAX_NAME)?;
    let description = parse_text(
        "description",
        request.description.as_deref(),
        MAX_DESCRIPTION,
    )?;
    let id = Id::new();
    let record = collections::insert(
        &backend.db,
        id.as_str(),
        principal.user_id(),
        &name,
        description.as_deref(),
    )
    .await?;
    Ok(record.to_model())
}

pub async fn list(
    backend: &Backend,
    principal: &Principal,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<Collection>, ServiceError> {
    let limit = page_limit(limit)?;
    let before = page_cursor(cursor)?;
    let rows = collections::list(
        &backend.db,
        principal.user_id(),
        before.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(into_page(
        rows,
        limit,
        |r| r.id.clone(),
        CollectionRecord::to_model,
    ))
}

async fn record(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<CollectionRecord, ServiceError> {
    let id = parse_id(id)?;
    collections::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn get(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Collection, ServiceError> {
    Ok(record(backend, principal, id).await?.to_model())
}

pub async fn update(
    backend: &Backend,
    principal: &Principal,
    id: &str,
    request: &UpdateCollectionRequest,
) -> Result<Collection, ServiceError> {
    let current = record(backend, principal, id).await?;
    let name = match &request.name {
        Some(n) => parse_label("name", n, MAX_NAME)?,
        None => current.name.clone(),
    };
    let description = match &request.description {
        Some(d) => parse_text("description", d.as_deref(), MAX_DESCRIPTION)?,
        None => current.description.clone(),
    };
    let cover = match &request.cover_image_id {
        None => current.cover_image_id.clone(),
        Some(None) => None,
        Some(Some(raw)) => {
            let not_in =
                || FieldError::new("cover_image_id", "Choose an image of this collection.");
            let image_id = Id::parse(raw).ok_or_else(not_in)?;
            let image = images::get(&backend.db, principal.user_id(), image_id.as_str())
                .await?
                .filter(|i| {
                    i.collection_id.as_deref() == Some(current.id.as_str())
                        && i.deleted_at.is_none()
                })
                .ok_or_else(not_in)?;
            Some(image.id)
        }
    };
    collections::update(
        &backend.db,
        principal.user_id(),
        &current.id,
        &name,
        description.as_deref(),
        cover.as_deref(),
    )
    .await?
    .map(|r| r.to_model())
    .ok_or(ServiceError::NotFound)
}

/// Deletes the collection; its images stay in the library, outside any collection.
pub async fn delete(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    let id = parse_id(id)?;
    if collections::delete(&backend.db, principal.user_id(), id.as_str()).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}
