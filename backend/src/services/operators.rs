//! What the operator does from the command line (`avatar-studio user …`): create accounts
//! (optionally administrators), list them, disable and enable them.

use secrecy::{ExposeSecret, SecretString};

use super::ServiceError;
use crate::{
    db::{sessions, users, users::UserRecord},
    domain::{Email, FieldError, NewPassword},
    now_ms, Backend,
};

/// A created account, and its password when one was generated (shown once).
#[derive(Debug)]
pub struct Created {
    pub user: model::User,
    pub generated_password: Option<SecretString>,
}

/// An account as the operator commands list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: model::User,
    pub disabled: bool,
}

impl From<UserRecord> for Account {
    fn from(record: UserRecord) -> Self {
        Self {
            user: record.to_model(),
            disabled: record.disabled_at.is_some(),
        }
    }
}

/// Creates an account with `password`, or a generated one. The address counts as
/// verified: the operator vouches for it.
pub async fn create_user(
    backend: &Backend,
    email: &str,
    password: Option<&str>,
    display_name: Option<&str>,
    admin: bool,
) -> Result<Created, ServiceError> {
    let email = Email::parse(email).map_err(|e| FieldError::new("email", e.to_string()))?;
    let generated = password.is_none().then(|| {
        // 24 URL-safe characters from the same generator as the secrets.
        let secret = crate::config::generate_secret();
        SecretString::from(secret.expose_secret().chars().take(24).collect::<String>())
    });
    let raw = generated.as_ref().map_or_else(
        || password.unwrap_or_default().to_owned(),
        |g| g.expose_secret().to_owned(),
    );
    let password = NewPassword::parse(&raw)?;
    let display_name = super::accounts::parse_display_name(display_name)?;
    let password_hash = backend.security.passwords.hash(&password).await?;
    let user = super::accounts::insert_account(
        backend,
        users::NewUser {
            email,
            display_name,
            password_hash: Some(password_hash),
            is_admin: admin,
        },
        "An account with this email address already exists.",
    )
    .await?;
    users::mark_email_verified(&backend.db, &user.id).await?;
    tracing::info!(user_id = %user.id, admin, "account created by the operator");
    let user = users::find_by_id(&backend.db, &user.id)
        .await?
        .ok_or_else(|| ServiceError::internal("a created account vanished"))?;
    Ok(Created {
        user: user.to_model(),
        generated_password: generated,
    })
}

/// Every account, oldest id first.
pub async fn list_users(backend: &Backend) -> Result<Vec<Account>, ServiceError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = users::list(&backend.db, after.as_deref(), 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        all.extend(page.into_iter().map(Account::from));
    }
    Ok(all)
}

/// The account with this email address, for the operator's commands.
pub(crate) async fn account_by_email(
    backend: &Backend,
    email: &str,
) -> Result<UserRecord, ServiceError> {
    let email = Email::parse(email).map_err(|e| FieldError::new("email", e.to_string()))?;
    users::find_by_email(&backend.db, &email)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Disables an account (its sessions end at once; its tokens stop working) or enables it.
pub async fn set_disabled(
    backend: &Backend,
    email: &str,
    disabled: bool,
) -> Result<model::User, ServiceError> {
    let user = account_by_email(backend, email).await?;
    users::set_disabled(&backend.db, &user.id, disabled.then(now_ms)).await?;
    if disabled {
        sessions::delete_all_for_user(&backend.db, &user.id, None).await?;
        // Its open connections close now, not at their next periodic check: an operator
        // command runs outside the servers, so they are told through the database
        // (PostgreSQL; with SQLite the periodic check does it).
        if let Err(e) = crate::events::recheck_from_outside(&backend.db, &user.id).await {
            tracing::warn!(error = %e, "cannot tell the servers to close the account's connections");
        }
    }
    tracing::info!(user_id = %user.id, disabled, "account disabled or enabled by the operator");
    users::find_by_id(&backend.db, &user.id)
        .await?
        .map(|u| u.to_model())
        .ok_or(ServiceError::NotFound)
}
