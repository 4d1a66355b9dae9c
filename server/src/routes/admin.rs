//! `/api/v1/admin`: what an administrator of the instance may read. Anyone else gets the
//! 404 of a resource that is not theirs.

use axum::{extract::State, routing::get, Json, Router};
use backend::{services::operations, Backend};
use model::Operations;

use crate::{auth::Authenticated, error::ApiErrorResponse, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/operations", get(get_operations))
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
