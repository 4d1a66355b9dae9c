//! Server functions for the administrator's operations page.

use leptos::prelude::*;
use model::Operations;

use crate::AppError;

/// The state of the instance; a caller who is not an administrator is told it does not
/// exist.
#[server(endpoint = "operations")]
pub async fn get_operations() -> Result<Operations, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    backend::services::operations::overview(&backend, &p)
        .await
        .map_err(service_error)
}
