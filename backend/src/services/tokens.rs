//! Personal access tokens: created with a name and an optional expiry, shown once, stored
//! as SHA-256 with a visible prefix, listed with their last use, revoked.

use secrecy::ExposeSecret;

use model::TokenScope;

use super::{
    accounts::to_time,
    auth::{Credential, Principal, TOKEN_PREFIX},
    ServiceError,
};
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
        scopes: super::auth::parse_scopes(&r.scopes),
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
    scopes: Option<&[TokenScope]>,
) -> Result<model::CreatedToken, ServiceError> {
    let name = parse_label("name", name, 100)?;
    let scopes = check_scopes(principal, scopes)?;
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
    check_lifetime(principal, expires_at)?;
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
        &scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
    .await?;
    tracing::info!(token_id = %record.id, "access token created");
    Ok(model::CreatedToken {
        info: info(record),
        token: token.expose_secret().to_owned(),
    })
}

/// The scopes a new token gets: those asked for (by default `read generate write`), none
/// beyond what the account may do (`admin` for administrators only) nor, when a token
/// makes it, beyond that token's own.
fn check_scopes(
    principal: &Principal,
    asked: Option<&[TokenScope]>,
) -> Result<Vec<TokenScope>, ServiceError> {
    let mut scopes = asked.map_or_else(|| TokenScope::DEFAULT.to_vec(), <[TokenScope]>::to_vec);
    scopes.sort_unstable();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(FieldError::new("scopes", "Choose at least one scope.").into());
    }
    if scopes.contains(&TokenScope::Admin) && !principal.caller.is_admin {
        return Err(FieldError::new(
            "scopes",
            "Only administrators can give a token the admin scope.",
        )
        .into());
    }
    if let Some(beyond) = scopes.iter().find(|s| !principal.may(**s)) {
        return Err(ServiceError::Forbidden {
            code: "insufficient_scope",
            message: format!(
                "This token cannot make a token with the {beyond} scope: a token can only \
                 make tokens with its own scopes or fewer."
            ),
        });
    }
    Ok(scopes)
}

/// A token made by a token that expires must expire no later than it.
fn check_lifetime(principal: &Principal, expires_at: Option<i64>) -> Result<(), ServiceError> {
    let Credential::Token {
        expires_at: Some(own),
        ..
    } = &principal.credential
    else {
        return Ok(());
    };
    if expires_at.is_some_and(|e| e <= *own) {
        return Ok(());
    }
    let days_left = ((own - now_ms()) / 86_400_000).max(0);
    Err(FieldError::new(
        "expires_in_days",
        format!(
            "This token expires in {days_left} days, so the tokens it makes must expire no \
             later: choose at most {days_left} days."
        ),
    )
    .into())
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
