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
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("That does not exist, or it is not yours.")]
    NotFound,
    #[error(
        "Something went wrong on our side. If it keeps happening, quote reference {reference}."
    )]
    Internal { reference: String },
    /// The request did not reach the server function or its answer did not come back
    /// (network, encoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}
