//! Server functions for the administrator's operations page.

use leptos::prelude::*;
use model::{AccountUsage, Invitation, Operations, Page};

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

/// The sign-up invitations that still work (administrators only).
#[server(endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    backend::services::invitations::list(&backend, &p)
        .await
        .map_err(service_error)
}

/// Makes an invitation; the answer carries its link, shown once.
#[server(endpoint = "create_invitation")]
pub async fn create_invitation(
    note: Option<String>,
    days: Option<u32>,
) -> Result<Invitation, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    let request = model::CreateInvitationRequest { note, days };
    backend::services::invitations::create(&backend, Some(&p), &request)
        .await
        .map_err(service_error)
}

/// Withdraws an unused invitation.
#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    backend::services::invitations::revoke(&backend, &p, &id)
        .await
        .map_err(service_error)
}

/// Every account with its use and limits, a page at a time (administrators only).
#[server(endpoint = "list_accounts")]
pub async fn list_accounts(cursor: Option<String>) -> Result<Page<AccountUsage>, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    backend::services::quotas::accounts(&backend, &p, Some(100), cursor.as_deref())
        .await
        .map_err(service_error)
}

/// Reads one limit of the quota form: empty follows the instance's default.
pub fn limit_field<T: std::str::FromStr>(field: &str, raw: &str) -> Result<Option<T>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| AppError::Validation {
        field: Some(field.to_owned()),
        message: "Enter a whole number, 0 for no limit, or leave it empty for the default."
            .to_owned(),
    })
}

/// Sets an account's own limits from the operations page (empty: the default).
#[server(endpoint = "set_account_quota")]
pub async fn set_account_quota(
    id: String,
    images_per_day: String,
    active_jobs: String,
    storage_mb: String,
) -> Result<model::Usage, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    let settings = model::QuotaSettings {
        images_per_day: limit_field("images_per_day", &images_per_day)?,
        active_jobs: limit_field("active_jobs", &active_jobs)?,
        storage_bytes: limit_field::<u64>("storage_mb", &storage_mb)?
            .map(|mb| mb.saturating_mul(1_000_000)),
    };
    backend::services::quotas::set(&backend, &p, &id, settings)
        .await
        .map_err(service_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_limit_is_the_default_and_garbage_is_an_error() {
        assert_eq!(limit_field::<u32>("x", " ").unwrap(), None);
        assert_eq!(limit_field::<u32>("x", "0").unwrap(), Some(0));
        assert_eq!(limit_field::<u32>("x", " 25 ").unwrap(), Some(25));
        assert!(limit_field::<u32>("x", "-1").is_err());
        assert!(limit_field::<u32>("x", "many").is_err());
    }
}
