//! Services: the operations that the UI's server functions and the HTTP API both call.
//! They take validated input, enforce who may do what, and answer with [`ServiceError`],
//! which the transports map to a status (server) or to the UI's error (app).

pub mod accounts;
pub mod auth;
pub mod avatars;
pub mod characters;
pub mod collections;
pub mod edits;
pub mod export;
pub mod generations;
pub mod identities;
pub mod images;
pub mod ingest;
pub mod instance;
pub mod invitations;
pub mod maintenance;
pub mod media;
pub mod operations;
pub mod operators;
pub mod presence;
pub mod provider_keys;
pub mod quotas;
pub mod session_records;
pub mod shares;
pub mod sheet;
pub mod spend;
pub mod tokens;
pub mod variations;

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
    /// Not allowed for this caller, whoever they are (403): sign-up closed, a token
    /// without the scope.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// Over one of the account's quotas (429): nothing was done; `message` says which and
    /// what to do.
    #[error("{message}")]
    OverQuota { code: &'static str, message: String },
    /// The month's spending cap (the account's or the instance's) would be passed (402):
    /// nothing was queued or sent to a provider.
    #[error("{0}")]
    OverSpendingCap(String),
    /// The account's storage is full (413): nothing was stored or queued.
    #[error("{0}")]
    StorageFull(String),
    /// Well-formed but refused (422), e.g. a provider rejected a key.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// Too many attempts (429); try again after `retry_after`.
    #[error("Too many attempts. Try again in {} seconds.", retry_after_secs(.retry_after))]
    RateLimited { retry_after: Duration },
    /// An image was refused (413 too large, 415 not an image, 400 damaged).
    #[error("{0}")]
    Image(#[from] crate::imaging::ImageError),
    /// A URL could not be fetched (400 not allowed, 413 too large, 422 remote failure).
    #[error("{0}")]
    Fetch(#[from] crate::outbound::FetchError),
    /// Something failed on our side (5xx); the cause is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of failure a [`ServiceError`] is, for the transports to turn into a status:
/// one mapping here, one per transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad input (400).
    Invalid,
    /// No or bad credentials (401).
    Unauthenticated,
    /// Not there, or not the caller's (404).
    NotFound,
    /// Conflicts with what exists (409).
    Conflict,
    /// Not allowed (403).
    Forbidden,
    /// Too large (413).
    TooLarge,
    /// Not a type we take (415).
    Unsupported,
    /// Well-formed but refused (422).
    Refused,
    /// Too many attempts (429).
    RateLimited,
    /// A spending cap is reached (402).
    PaymentRequired,
    /// Our side (500).
    Internal,
}

impl ServiceError {
    pub fn class(&self) -> ErrorClass {
        use crate::{imaging::ImageError, outbound::FetchError};
        match self {
            Self::Invalid(_) | Self::BadToken { .. } => ErrorClass::Invalid,
            Self::Unauthenticated(_) => ErrorClass::Unauthenticated,
            Self::NotFound => ErrorClass::NotFound,
            Self::Conflict { .. } => ErrorClass::Conflict,
            Self::Refused { .. } => ErrorClass::Refused,
            Self::Forbidden { .. } => ErrorClass::Forbidden,
            Self::OverQuota { .. } => ErrorClass::RateLimited,
            Self::StorageFull(_) => ErrorClass::TooLarge,
            Self::OverSpendingCap(_) => ErrorClass::PaymentRequired,
            Self::RateLimited { .. } => ErrorClass::RateLimited,
            Self::Image(e) => match e {
                ImageError::TooLarge { .. } | ImageError::TooManyPixels { .. } => {
                    ErrorClass::TooLarge
                }
                ImageError::Unsupported | ImageError::TrailingData => ErrorClass::Unsupported,
                ImageError::Corrupt(_) => ErrorClass::Invalid,
                ImageError::Internal(_) => ErrorClass::Internal,
            },
            Self::Fetch(e) => match e {
                FetchError::BadUrl(_) | FetchError::Forbidden => ErrorClass::Invalid,
                FetchError::TooLarge { .. } => ErrorClass::TooLarge,
                FetchError::Failed(_) => ErrorClass::Refused,
            },
            Self::Internal(_) => ErrorClass::Internal,
        }
    }

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
            | Self::Forbidden { code, .. }
            | Self::OverQuota { code, .. }
            | Self::BadToken { code, .. } => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::StorageFull(_) => "storage_quota_exceeded",
            Self::OverSpendingCap(_) => "spending_cap_reached",
            Self::Image(e) => e.code(),
            Self::Fetch(e) => e.code(),
            Self::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid(e) => Some(e.field),
            Self::Conflict { field, .. } => *field,
            Self::BadToken { .. } => Some("token"),
            Self::Fetch(_) => Some("url"),
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

impl From<object_store::Error> for ServiceError {
    fn from(e: object_store::Error) -> Self {
        Self::internal(format!("object storage: {e}"))
    }
}

/// Parses an id from a request; anything that is not one of our ids is "not found".
pub fn parse_id(raw: &str) -> Result<crate::domain::Id, ServiceError> {
    crate::domain::Id::parse(raw).ok_or(ServiceError::NotFound)
}

/// Validates `?limit=` (API.md: default 50, at most 200).
pub fn page_limit(limit: Option<u32>) -> Result<i64, ServiceError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=200) => Ok(i64::from(n)),
        Some(_) => Err(FieldError::new("limit", "Choose a limit from 1 to 200.").into()),
    }
}

/// Validates `?cursor=` (the last id of the previous page).
pub fn page_cursor(cursor: Option<&str>) -> Result<Option<String>, ServiceError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => crate::domain::Id::parse(c)
            .map(|id| Some(id.as_str().to_owned()))
            .ok_or_else(|| {
                FieldError::new("cursor", "That cursor is not one this API gave out.").into()
            }),
    }
}

/// Cuts a `limit + 1` fetch into a page: the extra row only says that there is more.
pub fn into_page<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    id: impl Fn(&R) -> String,
    view: impl Fn(&R) -> T,
) -> model::Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(&id)
    } else {
        None
    };
    model::Page {
        items: rows.iter().map(view).collect(),
        next_cursor,
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sqlx(e) => e.into(),
            e => Self::internal(e),
        }
    }
}

/// A write that refers to a row deleted since it was checked (a collection deleted while
/// an image is moved into it) is "not found", as if the check had come a moment later.
impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_foreign_key_violation(&e) {
            tracing::info!(error = %e, "a write referred to a row that is gone");
            return Self::NotFound;
        }
        Self::internal(e)
    }
}
