//! Server functions for accounts and Settings: each gets the caller, calls one `backend`
//! service and maps the error. Forms post to them directly before the page is hydrated
//! (progressive enhancement); on success they redirect where a person expects to go.

use leptos::prelude::*;
use model::{KeyProvider, ProviderKeyInfo, SessionInfo, SignInMethods, TokenInfo, User, Viewer};

use crate::AppError;

#[cfg(feature = "ssr")]
use {
    crate::ssr::{backend, client, require_principal, safe_next, service_error, session},
    backend::services::{accounts, provider_keys, tokens},
};

/// The signed-in account, if any (the header shows it; without its timestamp, see
/// [`Viewer`]). The header asks with a plain request to this address, not through this
/// function's client (`components::layout::provide_current_user`): keep its input empty.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Viewer>, AppError> {
    Ok(crate::signed_in_user())
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    display_name: Option<String>,
    invitation: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let backend = backend()?;
    let client = client();
    let signed_up = accounts::sign_up(
        &backend,
        &client,
        accounts::SignUp {
            email: &email,
            password: &password,
            display_name: display_name.as_deref(),
            invitation: invitation.as_deref(),
        },
    )
    .await
    .map_err(service_error)?;
    let accounts::SignedUp::Active(user) = signed_up else {
        // The address must be confirmed first: the page says to look in the inbox.
        leptos_axum::redirect("/signup?check=1");
        return Ok(());
    };
    crate::session::establish(&session()?, &user.id, &client)
        .await
        .map_err(crate::ssr::internal)?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let backend = backend()?;
    let client = client();
    let user = accounts::sign_in(&backend, &client, &email, &password)
        .await
        .map_err(service_error)?;
    crate::session::establish(&session()?, &user.id, &client)
        .await
        .map_err(crate::ssr::internal)?;
    // An identity provider's sign-in that waited for this account's password is linked.
    if let Some(browser) = crate::ssr::signin_browser() {
        backend::services::identities::claim_offer(&backend, &browser, &user.id)
            .await
            .map_err(service_error)?;
    }
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// The account's password state and linked identities (Settings → Sign-in methods).
#[server(endpoint = "list_sign_in_methods")]
pub async fn list_sign_in_methods() -> Result<SignInMethods, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    backend::services::identities::methods(&backend, &principal.caller)
        .await
        .map_err(service_error)
}

#[server(endpoint = "unlink_identity")]
pub async fn unlink_identity(id: String) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    backend::services::identities::unlink(&backend, &principal.caller, &id)
        .await
        .map_err(service_error)
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::session::end(&session()?, &crate::ssr::backend()?)
        .await
        .map_err(crate::ssr::internal)?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    let backend = backend()?;
    accounts::forgot_password(&backend, &client(), &email)
        .await
        .map_err(service_error)?;
    leptos_axum::redirect("/forgot-password?sent=1");
    Ok(())
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let backend = backend()?;
    let keep = crate::ssr::principal().and_then(|p| p.session_hash().map(str::to_owned));
    accounts::reset_password(&backend, &token, &password, keep.as_deref())
        .await
        .map_err(service_error)?;
    leptos_axum::redirect("/login?reset=1");
    Ok(())
}

#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let backend = backend()?;
    accounts::verify_email(&backend, &token)
        .await
        .map_err(service_error)?;
    leptos_axum::redirect("/verify-email?done=1");
    Ok(())
}

#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::resend_verification(&backend, &client(), &principal.caller)
        .await
        .map_err(service_error)
}

#[server(endpoint = "update_profile")]
pub async fn update_profile(display_name: Option<String>) -> Result<User, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::update_profile(&backend, &principal, display_name.as_deref())
        .await
        .map_err(service_error)
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::change_password(&backend, &principal, &current_password, &new_password)
        .await
        .map_err(service_error)
}

#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::list_sessions(&backend, &principal)
        .await
        .map_err(service_error)
}

#[server(endpoint = "revoke_session")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::revoke_session(&backend, &principal, &id)
        .await
        .map_err(service_error)
}

#[server(endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::revoke_other_sessions(&backend, &principal)
        .await
        .map_err(service_error)
}

#[server(endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    tokens::list(&backend, &principal)
        .await
        .map_err(service_error)
}

/// Creates a token and returns it: the only time it is shown.
#[server(endpoint = "create_token")]
pub async fn create_token(
    name: String,
    expires_in_days: Option<String>,
    // One checkbox per scope (present when ticked), so that the form works without
    // JavaScript.
    scope_read: Option<String>,
    scope_generate: Option<String>,
    scope_write: Option<String>,
    scope_admin: Option<String>,
) -> Result<String, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    let days = match expires_in_days.as_deref().map(str::trim) {
        None | Some("") | Some("never") => None,
        Some(d) => Some(d.parse::<u32>().map_err(|_| AppError::Validation {
            field: Some("expires_in_days".to_owned()),
            message: "Choose a number of days, or no expiry.".to_owned(),
        })?),
    };
    let scopes: Vec<model::TokenScope> = [
        (scope_read, model::TokenScope::Read),
        (scope_generate, model::TokenScope::Generate),
        (scope_write, model::TokenScope::Write),
        (scope_admin, model::TokenScope::Admin),
    ]
    .into_iter()
    .filter_map(|(ticked, scope)| ticked.map(|_| scope))
    .collect();
    let token = tokens::create(&backend, &principal, &name, days, Some(&scopes))
        .await
        .map(|t| t.token)
        .map_err(service_error)?;
    if crate::ssr::is_plain_form_post() {
        // Without JavaScript the answer is a redirect back to Settings, which has nowhere
        // to carry the token: it waits, encrypted and bound to the account, in a cookie
        // only that page receives, for it to show once (`take_new_token`). Not in the
        // session: a request of the same browser that read the session earlier (a favicon)
        // would save it back without the token.
        let sealed = backend
            .security
            .cipher
            .encrypt(&token, &flash_context(&principal.caller.id));
        let hex: String = sealed.iter().map(|b| format!("{b:02x}")).collect();
        set_flash_cookie(
            &hex,
            tower_sessions::cookie::time::Duration::minutes(5),
            backend.config.is_https(),
        );
        leptos_axum::redirect("/settings#tokens");
    }
    Ok(token)
}

/// The cookie that carries a new token from the form's redirect to Settings.
#[cfg(feature = "ssr")]
const NEW_TOKEN_COOKIE: &str = "avatar_new_token";

/// Sets (or, with a zero age, clears) the new-token cookie: HttpOnly, for `/settings` only.
#[cfg(feature = "ssr")]
fn set_flash_cookie(value: &str, max_age: tower_sessions::cookie::time::Duration, secure: bool) {
    use tower_sessions::cookie::{Cookie, SameSite};
    let cookie = Cookie::build((NEW_TOKEN_COOKIE, value.to_owned()))
        .path("/settings")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    if let (Some(response), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie.to_string()),
    ) {
        response.append_header(http::header::SET_COOKIE, v);
    }
}

/// The new-token cookie the browser sent, decoded.
#[cfg(feature = "ssr")]
fn flash_cookie() -> Option<Vec<u8>> {
    let parts = crate::ssr::parts()?;
    let hex = parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(tower_sessions::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == NEW_TOKEN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() <= 1024 && v.len() % 2 == 0)?;
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(feature = "ssr")]
fn flash_context(user_id: &str) -> String {
    format!("new-token-flash:{user_id}")
}

/// The token created by a form posted without JavaScript, once: reading it removes it.
#[server(endpoint = "take_new_token")]
pub async fn take_new_token() -> Result<Option<String>, AppError> {
    use secrecy::ExposeSecret;
    let backend = backend()?;
    let Some(principal) = crate::ssr::principal() else {
        return Ok(None);
    };
    let sealed = flash_cookie();
    if sealed.is_some() {
        // Shown once.
        set_flash_cookie(
            "",
            tower_sessions::cookie::time::Duration::ZERO,
            backend.config.is_https(),
        );
    }
    Ok(sealed.and_then(|sealed| {
        backend
            .security
            .cipher
            .decrypt(&sealed, &flash_context(&principal.caller.id))
            .ok()
            .map(|t| t.expose_secret().to_owned())
    }))
}

#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    tokens::revoke(&backend, &principal, &id)
        .await
        .map_err(service_error)
}

#[server(endpoint = "list_provider_keys")]
pub async fn list_provider_keys() -> Result<Vec<ProviderKeyInfo>, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    provider_keys::list(&backend, &principal)
        .await
        .map_err(service_error)
}

#[server(endpoint = "save_provider_key")]
pub async fn save_provider_key(
    provider: KeyProvider,
    api_key: String,
) -> Result<ProviderKeyInfo, AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    provider_keys::put(&backend, &principal, provider, &api_key)
        .await
        .map_err(service_error)
}

#[server(endpoint = "delete_provider_key")]
pub async fn delete_provider_key(provider: KeyProvider) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    provider_keys::delete(&backend, &principal, provider)
        .await
        .map_err(service_error)
}

/// Asks the provider whether it accepts the stored key; the error says why not.
#[server(endpoint = "test_provider_key")]
pub async fn test_provider_key(provider: KeyProvider) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    provider_keys::test(&backend, &principal, provider)
        .await
        .map_err(service_error)
}

#[server(endpoint = "delete_account")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    let backend = backend()?;
    let principal = require_principal()?;
    accounts::delete_account(&backend, &principal, &password)
        .await
        .map_err(service_error)?;
    crate::session::end(&session()?, &crate::ssr::backend()?)
        .await
        .map_err(crate::ssr::internal)?;
    leptos_axum::redirect("/?deleted=1");
    Ok(())
}

/// The caller's use of their quota; nothing for a visitor who is not signed in (the home
/// page asks either way, and a signed-out visit is not an error).
#[server(endpoint = "my_usage")]
pub async fn my_usage() -> Result<Option<model::Usage>, AppError> {
    let backend = backend()?;
    let Some(principal) = crate::ssr::principal() else {
        return Ok(None);
    };
    backend::services::quotas::usage(&backend, &principal)
        .await
        .map(Some)
        .map_err(service_error)
}
