//! Server functions: thin wrappers around `backend` services.

use leptos::prelude::*;
use model::InstanceInfo;

use crate::AppError;

/// What this instance offers: its version and the providers usable without a key.
#[server(endpoint = "instance_info")]
pub async fn get_instance_info() -> Result<InstanceInfo, AppError> {
    let backend = crate::ssr::backend()?;
    Ok(backend::services::instance::info(&backend.config))
}

pub mod account;
pub mod admin;
pub mod client;
pub mod generation;
pub mod library;
pub mod spend;
