//! Share links: an owner hands out a signed link to one finished image, lists the links
//! of an image and revokes any of them. Every link is a row (`share_links`); its URL
//! carries the row's id, its expiry and a signature over both and the image, so a link
//! cannot be forged or moved to another image, and the row decides whether it still
//! opens the image. A revoked or expired link is 404, and stays so when the image goes
//! to the trash and back.

use super::{auth::Principal, into_page, page_cursor, page_limit, parse_id, ServiceError};
use crate::{
    db::{
        images::{self, ImageRecord},
        share_links::{self, ShareLinkRecord},
    },
    domain::FieldError,
    to_time, Backend,
};
use model::Page;

/// How many active links one image may have at once.
pub const MAX_ACTIVE_PER_IMAGE: i64 = 50;

/// The query parameters of a shared link (`/media/{id}?share=…&exp=…&sig=…`).
#[derive(Debug, Clone, Copy)]
pub struct SignedLink<'a> {
    pub share: &'a str,
    pub exp: &'a str,
    pub sig: &'a str,
}

/// The signed message of a share link.
fn message(link_id: &str, image_id: &str, expires: i64) -> String {
    format!("share:{link_id}:{image_id}:{expires}")
}

/// The absolute URL of a link (the signature is deterministic, so a listed link shows the
/// same URL it was handed out with).
fn url(backend: &Backend, record: &ShareLinkRecord) -> String {
    let expires = record.expires_at.div_euclid(1000);
    let sig = backend
        .security
        .links
        .sign(&message(&record.id, &record.image_id, expires));
    let mut url = backend.config.public_url.clone();
    url.set_path(&format!("/media/{}", record.image_id));
    url.query_pairs_mut()
        .append_pair("share", &record.id)
        .append_pair("exp", &expires.to_string())
        .append_pair("sig", &sig);
    url.to_string()
}

fn to_model(backend: &Backend, record: &ShareLinkRecord) -> model::ShareLink {
    model::ShareLink {
        id: record.id.clone(),
        image_id: record.image_id.clone(),
        url: url(backend, record),
        created_at: to_time(record.created_at),
        expires_at: to_time(record.expires_at),
        revoked_at: record.revoked_at.map(to_time),
    }
}

/// `POST /api/v1/images/{id}/share`: a new link to a finished image outside the trash,
/// for 1 hour to 30 days.
pub async fn create(
    backend: &Backend,
    principal: &Principal,
    id: &str,
    expires_in_hours: u32,
) -> Result<model::ShareLink, ServiceError> {
    if !(1..=720).contains(&expires_in_hours) {
        return Err(
            FieldError::new("expires_in_hours", "Choose from 1 to 720 hours (30 days).").into(),
        );
    }
    let image = super::images::record(backend, principal, id).await?;
    if image.deleted_at.is_some() || image.status != model::ImageStatus::Completed {
        return Err(ServiceError::Conflict {
            code: "not_shareable",
            field: None,
            message: "Only finished images outside the trash can be shared.".to_owned(),
        });
    }
    if share_links::count_live(&backend.db, &image.id).await? >= MAX_ACTIVE_PER_IMAGE {
        return Err(ServiceError::Conflict {
            code: "too_many_share_links",
            field: None,
            message: format!(
                "This image already has {MAX_ACTIVE_PER_IMAGE} active links. Revoke one first."
            ),
        });
    }
    // Whole seconds, as the link shows them.
    let expires_at = (chrono::Utc::now().timestamp() + i64::from(expires_in_hours) * 3600) * 1000;
    let record =
        share_links::insert(&backend.db, principal.user_id(), &image.id, expires_at).await?;
    Ok(to_model(backend, &record))
}

/// `GET /api/v1/images/{id}/shares`: the links of one of your images, newest first,
/// active, expired and revoked alike (until the cleanup removes expired ones).
pub async fn list(
    backend: &Backend,
    principal: &Principal,
    image_id: &str,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<model::ShareLink>, ServiceError> {
    let limit = page_limit(limit)?;
    let before = page_cursor(cursor)?;
    let image = super::images::record(backend, principal, image_id).await?;
    let rows = share_links::list(
        &backend.db,
        principal.user_id(),
        &image.id,
        before.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(into_page(
        rows,
        limit,
        |r| r.id.clone(),
        |r| to_model(backend, r),
    ))
}

/// `DELETE /api/v1/shares/{id}`: the link no longer opens the image. Revoking a revoked
/// link again is no error; someone else's link is 404.
pub async fn revoke(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<model::ShareLink, ServiceError> {
    let id = parse_id(id)?;
    let record = share_links::revoke(&backend.db, principal.user_id(), id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(to_model(backend, &record))
}

/// The image a shared link opens: the signature must hold, the link must be active and
/// the image finished and outside the trash. Anything else is 404, with no hint of why.
pub(super) async fn open(
    backend: &Backend,
    image_id: &str,
    link: SignedLink<'_>,
) -> Result<ImageRecord, ServiceError> {
    let image_id = parse_id(image_id)?;
    let link_id = parse_id(link.share)?;
    let expires: i64 = link.exp.parse().map_err(|_| ServiceError::NotFound)?;
    let signed = message(link_id.as_str(), image_id.as_str(), expires);
    if !backend.security.links.verify(&signed, link.sig) {
        return Err(ServiceError::NotFound);
    }
    share_links::live(&backend.db, link_id.as_str(), image_id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)?;
    images::get_any(&backend.db, image_id.as_str())
        .await?
        .filter(|i| i.deleted_at.is_none() && i.status == model::ImageStatus::Completed)
        .ok_or(ServiceError::NotFound)
}
