//! The one error type on the wire between the browser and the server functions. The
//! cause of an internal failure stays in the server log; the browser gets a reference id.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input, with the field it is about.
    #[error("{message}")]
    Validation {
        field: Option<String>,
        message: String,
    },
    /// Not signed in, or the credentials are wrong.
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("That does not exist, or it is not yours.")]
    NotFound,
    /// Well-formed but refused (a provider rejected a key, too many tokens, …).
    #[error("{message}")]
    Refused { code: String, message: String },
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error(
        "Something went wrong on our side. If it keeps happening, quote reference {reference}."
    )]
    Internal { reference: String },
    /// The request did not reach the server function or its answer did not come back
    /// (network, encoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn sign_in_required() -> Self {
        Self::Unauthorized {
            message: "Please sign in to continue.".to_owned(),
        }
    }

    /// The message for one form field, when this error is about it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            Self::Validation {
                field: Some(f),
                message,
            } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The message for the form as a whole: every error that is not about one field.
    pub fn general(&self) -> Option<String> {
        match self {
            Self::Validation { field: Some(_), .. } => None,
            other => Some(other.to_string()),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // A form posted with a missing or malformed field.
            ServerFnErrorErr::Args(message) => Self::Validation {
                field: None,
                message: format!("The form was incomplete: {message}"),
            },
            other => Self::Transport(other.to_string()),
        }
    }
}
