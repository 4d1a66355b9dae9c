//! The JSON error responses of `/api/v1` (API.md, "Conventions").

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use backend::services::{retry_after_secs, ErrorClass, ServiceError};
use model::ApiError;

/// An error answer: a status and the documented JSON body.
#[derive(Debug)]
pub struct ApiErrorResponse {
    pub status: StatusCode,
    pub body: ApiError,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiErrorResponse {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError::new(code, message),
            retry_after: None,
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
            retry_after: None,
        }
    }

    /// A request body that is not the JSON the endpoint takes.
    pub fn bad_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }
}

impl From<ServiceError> for ApiErrorResponse {
    fn from(e: ServiceError) -> Self {
        let status = match e.class() {
            ErrorClass::Invalid => StatusCode::BAD_REQUEST,
            ErrorClass::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorClass::NotFound => StatusCode::NOT_FOUND,
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::Forbidden => StatusCode::FORBIDDEN,
            ErrorClass::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorClass::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorClass::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorClass::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorClass::PaymentRequired => StatusCode::PAYMENT_REQUIRED,
            ErrorClass::Internal => return Self::internal(&e),
        };
        let retry_after = match &e {
            ServiceError::RateLimited { retry_after } => Some(retry_after_secs(*retry_after)),
            _ => None,
        };
        let mut body = ApiError::new(e.code(), e.to_string());
        if let Some(field) = e.field() {
            body = body.with_field(field);
        }
        Self {
            status,
            body,
            retry_after,
        }
    }
}

impl IntoResponse for ApiErrorResponse {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
