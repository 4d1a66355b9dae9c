//! Services: the operations that the UI's server functions and the HTTP API both call.
//! They take validated input, enforce who may do what, and answer with [`ServiceError`],
//! which the transports map to a status (server) or to the UI's error (app).

pub mod accounts;
pub mod auth;
pub mod instance;
pub mod provider_keys;
pub mod tokens;

use std::time::Duration;

use crate::{db::DbError, domain::FieldError};

/// What a service call can answer instead of a result. Every message is a sentence a
/// person can act on; internal causes are kept for the log and never shown.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input (400), about one field.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// A token from an email link that cannot be used (400): unknown, used or expired.
    #[error("{message}")]
    BadToken { code: &'static str, message: String },
    /// Bad or missing credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Not there, or not the caller's (404): the two are never told apart.
    #[error("That does not exist, or it is not yours.")]
    NotFound,
    /// The request conflicts with what exists (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// Well-formed but refused (422), e.g. a provider rejected a key.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// Too many attempts (429); try again after `retry_after`.
    #[error("Too many attempts. Try again in {} seconds.", retry_after_secs(.retry_after))]
    RateLimited { retry_after: Duration },
    /// Something failed on our side (5xx); the cause is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The stable snake_case code of API.md's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::NotFound => "not_found",
            Self::Conflict { code, .. }
            | Self::Refused { code, .. }
            | Self::BadToken { code, .. } => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid(e) => Some(e.field),
            Self::Conflict { field, .. } => *field,
            Self::BadToken { .. } => Some("token"),
            _ => None,
        }
    }
}

/// Whole seconds to wait, at least one: the value of a `Retry-After` header.
pub fn retry_after_secs(wait: impl std::borrow::Borrow<Duration>) -> u64 {
    let wait = wait.borrow();
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl From<crate::passwords::PasswordError> for ServiceError {
    fn from(e: crate::passwords::PasswordError) -> Self {
        Self::internal(e)
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        Self::internal(e)
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}
