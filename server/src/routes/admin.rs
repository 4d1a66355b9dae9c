//! `/api/v1/admin`: what an administrator of the instance may read and do. Anyone else gets
//! the 404 of a resource that is not theirs.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, put},
    Json, Router,
};
use backend::{
    services::{invitations, operations, quotas},
    Backend,
};
use model::{
    AccountUsage, CreateInvitationRequest, Invitation, Operations, Page, QuotaSettings, Usage,
};

use crate::{
    auth::Authenticated,
    error::ApiErrorResponse,
    routes::{
        account::ApiJson,
        library::{ApiQuery, PageQuery},
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/operations", get(get_operations))
        .route(
            "/admin/invitations",
            get(list_invitations).post(create_invitation),
        )
        .route("/admin/invitations/{id}", delete(revoke_invitation))
        .route("/admin/accounts", get(list_accounts))
        .route("/admin/accounts/{id}/quota", put(set_quota))
}

/// Every account with what it uses and its limits, a page at a time (administrators
/// only).
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "operations", params(PageQuery),
    responses((status = 200, body = Page<AccountUsage>), (status = 400, body = model::ApiError),
        (status = 401, body = model::ApiError),
        (status = 404, description = "The caller is not an administrator", body = model::ApiError)))]
pub async fn list_accounts(
    State(backend): State<Backend>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<AccountUsage>>, ApiErrorResponse> {
    Ok(Json(
        quotas::accounts(&backend, &principal, q.limit, q.cursor.as_deref()).await?,
    ))
}

/// Set an account's own limits; a field left out follows the instance's default, `0` is
/// no limit (administrators only). Answers the account's usage under them.
#[utoipa::path(put, path = "/api/v1/admin/accounts/{id}/quota", tag = "operations",
    params(("id" = String, Path)), request_body = QuotaSettings,
    responses((status = 200, body = Usage), (status = 400, body = model::ApiError),
        (status = 401, body = model::ApiError),
        (status = 404, description = "No such account, or not an administrator", body = model::ApiError)))]
pub async fn set_quota(
    State(backend): State<Backend>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<QuotaSettings>,
) -> Result<Json<Usage>, ApiErrorResponse> {
    Ok(Json(quotas::set(&backend, &principal, &id, body).await?))
}

/// The state of the instance: jobs by state and provider, failures of the last 24 hours by
/// reason, storage used and the last cleanup runs (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/operations", tag = "operations",
    responses((status = 200, body = Operations), (status = 401, body = model::ApiError),
        (status = 404, description = "The caller is not an administrator", body = model::ApiError)))]
pub async fn get_operations(
    State(backend): State<Backend>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Operations>, ApiErrorResponse> {
    Ok(Json(operations::overview(&backend, &principal).await?))
}

/// The sign-up invitations that still work, newest first (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/invitations", tag = "operations",
    responses((status = 200, body = [Invitation]), (status = 401, body = model::ApiError),
        (status = 404, description = "The caller is not an administrator", body = model::ApiError)))]
pub async fn list_invitations(
    State(backend): State<Backend>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<Invitation>>, ApiErrorResponse> {
    Ok(Json(invitations::list(&backend, &principal).await?))
}

/// Make a single-use sign-up invitation; the answer carries its link, shown this once
/// (administrators only; used when `SIGNUP=invite`).
#[utoipa::path(post, path = "/api/v1/admin/invitations", tag = "operations",
    request_body = CreateInvitationRequest,
    responses((status = 201, body = Invitation), (status = 400, body = model::ApiError),
        (status = 401, body = model::ApiError),
        (status = 404, description = "The caller is not an administrator", body = model::ApiError)))]
pub async fn create_invitation(
    State(backend): State<Backend>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateInvitationRequest>,
) -> Result<(StatusCode, Json<Invitation>), ApiErrorResponse> {
    let invitation = invitations::create(&backend, Some(&principal), &body).await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// Withdraw an unused invitation: its link stops working (administrators only).
#[utoipa::path(delete, path = "/api/v1/admin/invitations/{id}", tag = "operations",
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = model::ApiError),
        (status = 404, description = "No such unused invitation, or not an administrator", body = model::ApiError)))]
pub async fn revoke_invitation(
    State(backend): State<Backend>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiErrorResponse> {
    invitations::revoke(&backend, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
