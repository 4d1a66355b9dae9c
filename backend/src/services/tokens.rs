//! Personal access tokens: created with a name and an optional expiry, shown once, stored
//! as SHA-256 with a visible prefix, listed with their last use, revoked.

use secrecy::ExposeSecret;

use super::{accounts::to_time, auth::Principal, auth::TOKEN_PREFIX, ServiceError};
use crate::Backend;
use crate::{
    crypto,
    db::{api_tokens, api_tokens::ApiTokenRecord},
    domain::{parse_label, FieldError},
    now_ms,
};

/// The most tokens one person may have.
pub const MAX_TOKENS_PER_USER: i64 = 50;
/// The longest expiry, in days.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// How many characters of a token are kept to tell it apart (`avs_` and 8 more).
pub const VISIBLE_PREFIX_CHARS: usize = TOKEN_PREFIX.len() + 8;

fn info(r: ApiTokenRecord) -> model::TokenInfo {
    model::TokenInfo {
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        created_at: to_time(r.created_at),
        last_used_at: r.last_used_at.map(to_time),
        expires_at: r.expires_at.map(to_time),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn create(
    backend: &Backend,
    principal: &Principal,
    name: &str,
    expires_in_days: Option<u32>,
) -> Result<model::CreatedToken, ServiceError> {
    let name = parse_label("name", name, 100)?;
    let expires_at = match expires_in_days {
        None => None,
        Some(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Some(now_ms() + i64::from(d) * 86_400_000),
        Some(_) => {
            return Err(FieldError::new(
                "expires_in_days",
                format!("Choose between 1 and {MAX_EXPIRY_DAYS} days, or no expiry."),
            )
            .into())
        }
    };
    if api_tokens::count_for_user(&backend.db, &principal.caller.id).await? >= MAX_TOKENS_PER_USER {
        return Err(ServiceError::Conflict {
            code: "too_many_tokens",
            field: None,
            message: format!(
                "You already have {MAX_TOKENS_PER_USER} access tokens. Revoke one you no \
                 longer use first."
            ),
        });
    }
    let token = crypto::random_token(TOKEN_PREFIX);
    let prefix: String = token
        .expose_secret()
        .chars()
        .take(VISIBLE_PREFIX_CHARS)
        .collect();
    let record = api_tokens::insert(
        &backend.db,
        &principal.caller.id,
        &name,
        &prefix,
        &crypto::token_hash(token.expose_secret()),
        expires_at,
    )
    .await?;
    tracing::info!(token_id = %record.id, "access token created");
    Ok(model::CreatedToken {
        info: info(record),
        token: token.expose_secret().to_owned(),
    })
}

pub async fn list(
    backend: &Backend,
    principal: &Principal,
) -> Result<Vec<model::TokenInfo>, ServiceError> {
    Ok(api_tokens::list_for_user(&backend.db, &principal.caller.id)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

pub async fn revoke(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    if api_tokens::delete_for_user(&backend.db, &principal.caller.id, id).await? {
        tracing::info!(user_id = %principal.caller.id, token_id = %id, "access token revoked");
        backend.runtime.hub.recheck(&principal.caller.id);
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}
