//! Server-only helpers for the server functions and pages.

use leptos::prelude::*;

use crate::AppError;

/// The backend services, provided as context by the server for every request.
pub fn backend() -> Result<backend::Backend, AppError> {
    use_context::<backend::Backend>().ok_or_else(|| internal("backend context missing"))
}

/// Logs the cause of an internal failure with a fresh reference id, and returns the
/// opaque error that the browser sees.
pub fn internal(cause: impl std::fmt::Display) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%reference, %cause, "internal error in a server function");
    AppError::Internal { reference }
}

/// Sets the HTTP status of the server-rendered response.
pub fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}
