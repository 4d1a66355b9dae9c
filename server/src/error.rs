//! The JSON error responses of `/api/v1` (API.md, "Conventions").

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use model::ApiError;

/// An error answer: a status and the documented JSON body.
#[derive(Debug)]
pub struct ApiErrorResponse {
    pub status: StatusCode,
    pub body: ApiError,
}

impl ApiErrorResponse {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError::new(code, message),
        }
    }

    /// An internal failure: the cause is logged with a reference id, which is all the
    /// client sees.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let reference = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(%reference, %cause, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: ApiError::new(
                "internal",
                "Something went wrong on our side. If it keeps happening, quote the reference.",
            )
            .with_reference(reference),
        }
    }
}

impl IntoResponse for ApiErrorResponse {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
