//! `GET /media/{image_id}`: an image's bytes or a resized variant (API.md, "Media"), for
//! the owner or the holder of a signed link, with `ETag`, `Cache-Control` and 304s.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use backend::{
    services::media::{self, MediaQuery, Viewer},
    Backend,
};

use crate::{auth::Authenticated, error::ApiErrorResponse, routes::library::ApiQuery};

/// The bytes of an image you own (or hold a signed link to), or a variant of it.
#[utoipa::path(get, path = "/media/{id}", tag = "images",
    params(
        ("id" = String, Path, description = "The image id"),
        ("w" = Option<u32>, Query, description = "Width, from the ladder 16…2048"),
        ("h" = Option<u32>, Query, description = "Height, from the ladder 16…2048"),
        ("fit" = Option<String>, Query, description = "cover (default), contain or fill"),
        ("format" = Option<String>, Query, description = "webp, jpeg, png or auto (by Accept; the default)"),
        ("q" = Option<u8>, Query, description = "Quality 1–100 for webp and jpeg (default 80)"),
        ("share" = Option<String>, Query, description = "Shared links: the link's id"),
        ("exp" = Option<i64>, Query, description = "Shared links: expiry"),
        ("sig" = Option<String>, Query, description = "Shared links: signature"),
    ),
    responses((status = 200, description = "The image", content_type = "image/*"),
        (status = 304, description = "Not modified"),
        (status = 400, body = model::ApiError, description = "A size outside the ladder, or another bad parameter"),
        (status = 401, body = model::ApiError), (status = 404, body = model::ApiError),
        (status = 409, body = model::ApiError, description = "Not finished yet")))]
pub async fn serve(
    State(backend): State<Backend>,
    principal: Option<Authenticated>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MediaQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiErrorResponse> {
    let viewer = match &principal {
        Some(Authenticated(p)) => Viewer::Principal(p),
        None => Viewer::Anonymous,
    };
    let cache = if query.sig.is_some() {
        // A shared link can be revoked at any time: a browser asks again each time (a
        // 304 while the link still holds).
        "private, no-cache"
    } else {
        // The bytes behind an id never change.
        "private, max-age=31536000, immutable"
    };
    let image = media::authorize(&backend, viewer, &id, &query).await?;
    respond(&backend, &image, &query, &headers, cache).await
}

/// A character's current avatar through its public link, for anyone, with the same
/// variants as `/media`.
#[utoipa::path(get, path = "/avatars/{token}", tag = "characters",
    params(
        ("token" = String, Path, description = "The link's token (from `public_avatar_url`)"),
        ("w" = Option<u32>, Query, description = "Width, from the ladder 16…2048"),
        ("h" = Option<u32>, Query, description = "Height, from the ladder 16…2048"),
        ("fit" = Option<String>, Query, description = "cover (default), contain or fill"),
        ("format" = Option<String>, Query, description = "webp, jpeg, png or auto (by Accept; the default)"),
        ("q" = Option<u8>, Query, description = "Quality 1–100 for webp and jpeg (default 80)"),
    ),
    responses((status = 200, description = "The avatar", content_type = "image/*"),
        (status = 304, description = "Not modified"),
        (status = 400, body = model::ApiError, description = "A size outside the ladder, or another bad parameter"),
        (status = 404, body = model::ApiError, description = "No such link, revoked, or the character has no avatar")))]
pub async fn public_avatar(
    State(backend): State<Backend>,
    Path(token): Path<String>,
    ApiQuery(query): ApiQuery<MediaQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiErrorResponse> {
    let image = media::public_avatar(&backend, &token).await?;
    // The avatar behind the link changes when the owner picks another, and the link can
    // be revoked: caches keep it a few minutes, then ask again (a 304 when unchanged).
    let mut response = respond(
        &backend,
        &image,
        &query,
        &headers,
        "public, max-age=300, must-revalidate",
    )
    .await?;
    // Made to be embedded on other sites.
    response.headers_mut().insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}

/// The bytes or a variant of an image that was found readable, with its validators.
async fn respond(
    backend: &Backend,
    image: &media::Readable,
    query: &MediaQuery,
    headers: &HeaderMap,
    cache: &'static str,
) -> Result<Response, ApiErrorResponse> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let spec = media::parse_spec(query, accept)?;
    let varies_by_accept = spec.is_some() && matches!(query.format.as_deref(), None | Some("auto"));

    let mut common = HeaderMap::new();
    // The bytes behind an id never change; a shared link can be revoked at any time, so
    // a browser asks again each time (a 304 when the link still holds).
    common.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Served bytes are only ever an image: never run as a page, whatever they contain.
    common.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if varies_by_accept {
        common.insert(header::VARY, HeaderValue::from_static("Accept"));
    }
    let etag = media::etag(image, spec.as_ref());
    if let Some(tag) = etag.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        common.insert(header::ETAG, tag);
    }
    if let (Some(tag), Some(wanted)) = (etag.as_deref(), headers.get(header::IF_NONE_MATCH)) {
        let matches = wanted
            .to_str()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .any(|w| w == "*" || w.trim_start_matches("W/") == tag);
        if matches {
            return Ok((StatusCode::NOT_MODIFIED, common).into_response());
        }
    }

    let media = match spec {
        None => media::original(backend, image).await?,
        Some(spec) => media::variant(backend, image, &spec).await?,
    };
    let body = match media.body {
        media::Body::Bytes(b) => Body::from(b),
        media::Body::Stream(s) => Body::from_stream(s),
    };
    let mut response = (common, body).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(media.length));
    Ok(response)
}
