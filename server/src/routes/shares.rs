//! `/api/v1` share links: make one for an image, list an image's links, revoke one.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, post},
    Json, Router,
};
use backend::{services::shares, Backend};
use model::{Page, ShareLink, ShareRequest};

use crate::{
    auth::Authenticated,
    error::ApiErrorResponse,
    routes::{
        account::ApiJson,
        library::{ApiQuery, PageQuery},
    },
    state::AppState,
};

type ApiResult<T> = Result<T, ApiErrorResponse>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/images/{id}/share", post(create))
        .route("/images/{id}/shares", get(list))
        .route("/shares/{id}", delete(revoke))
}

/// A link to the image that needs no sign-in until it expires or is revoked.
#[utoipa::path(post, path = "/api/v1/images/{id}/share", tag = "images", request_body = ShareRequest,
    params(("id" = String, Path, description = "The image id")),
    responses((status = 200, body = ShareLink), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError),
        (status = 404, body = model::ApiError),
        (status = 409, body = model::ApiError, description = "Not finished, in the trash, or too many active links")))]
pub async fn create(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ShareRequest>,
) -> ApiResult<Json<ShareLink>> {
    Ok(Json(
        shares::create(&backend, &p, &id, body.expires_in_hours).await?,
    ))
}

/// The image's share links, newest first: active, expired and revoked.
#[utoipa::path(get, path = "/api/v1/images/{id}/shares", tag = "images",
    params(("id" = String, Path, description = "The image id"), PageQuery),
    responses((status = 200, body = Page<ShareLink>), (status = 400, body = model::ApiError),
        (status = 401, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn list(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<ShareLink>>> {
    Ok(Json(
        shares::list(&backend, &p, &id, q.limit, q.cursor.as_deref()).await?,
    ))
}

/// Revokes a share link: from now on it is 404, even after the image leaves the trash.
#[utoipa::path(delete, path = "/api/v1/shares/{id}", tag = "images",
    params(("id" = String, Path, description = "The share link's id")),
    responses((status = 204, description = "Revoked (also when it already was)"),
        (status = 401, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn revoke(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    shares::revoke(&backend, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
