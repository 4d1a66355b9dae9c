//! Accounts: sign-up, sign-in, email verification, password reset and change, profile,
//! sessions and deletion. The transports own the session cookie; this module owns the
//! rules.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{
    auth::{Caller, Principal},
    invitations, ServiceError,
};
use crate::{
    crypto,
    db::{
        api_tokens, email_tokens, email_tokens::Purpose, identities, provider_keys, sessions,
        users, users::UserRecord,
    },
    domain::{parse_label, Email, FieldError, NewPassword},
    mail::Mail,
    now_ms,
    ratelimit::{Action, LimitError, Taken},
    storage::Storage,
    Backend,
};

/// How long a verification link works.
pub const VERIFY_EMAIL_TTL: Duration = Duration::from_secs(48 * 3600);
/// How long a password reset link works.
pub const RESET_PASSWORD_TTL: Duration = Duration::from_secs(3600);
/// The longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 80;

/// Where a request came from: its client's address (behind a trusted proxy, the one the
/// proxy names) for the abuse limits and the sessions list, and its browser.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

fn wrong_credentials() -> ServiceError {
    ServiceError::Unauthenticated("The email address or the password is not right.".to_owned())
}

impl From<LimitError> for ServiceError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Limited(retry_after) => Self::RateLimited { retry_after },
            LimitError::Db(e) => e.into(),
        }
    }
}

/// Takes one attempt of `action` from the client's and the account's allowance.
async fn limited(
    action: Action,
    client: &ClientInfo,
    account: &str,
    backend: &Backend,
) -> Result<Taken, ServiceError> {
    Ok(backend
        .security
        .auth_limiter
        .take(action, client.ip, Some(account))
        .await?)
}

/// The key an account is limited under, even when the address does not parse.
fn account_key(raw_email: &str) -> String {
    raw_email.trim().to_lowercase().chars().take(300).collect()
}

pub(crate) fn parse_display_name(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_label("display_name", s, MAX_DISPLAY_NAME_CHARS).map(Some),
    }
}

fn email_field(e: crate::domain::EmailError) -> FieldError {
    FieldError::new("email", e.to_string())
}

/// What a person fills in to create an account.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignUp<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: Option<&'a str>,
    /// The token of an invitation link (needed with `SIGNUP=invite`).
    pub invitation: Option<&'a str>,
}

/// What a sign-up did.
#[derive(Debug)]
pub enum SignedUp {
    /// The account is made and may be used at once: the caller signs the person in.
    Active(model::User),
    /// `REQUIRE_EMAIL_VERIFICATION`: the mailbox's owner got the next step (a link to
    /// confirm a new account, or word that the address already has one). The answer is
    /// the same either way, so that nobody learns who has an account.
    CheckMail,
}

/// What the answer says when the mailbox decides.
pub const CHECK_MAIL: &str = "Check your inbox: we sent a message to that address with what \
                              to do next. Confirm the address before you sign in.";

/// Creates an account (and sends the verification mail), when `SIGNUP` allows it.
#[tracing::instrument(skip_all)]
pub async fn sign_up(
    backend: &Backend,
    client: &ClientInfo,
    form: SignUp<'_>,
) -> Result<SignedUp, ServiceError> {
    let _counted = limited(Action::SignUp, client, &account_key(form.email), backend).await?;
    let email = Email::parse(form.email).map_err(email_field)?;
    let password = NewPassword::parse(form.password)?;
    let display_name = parse_display_name(form.display_name)?;
    // Checked once the form is valid, so that a typo does not spend an invitation.
    let admitted = invitations::admit(backend, form.invitation).await?;
    let password_hash = backend.security.passwords.hash(&password).await?;
    let must_verify = backend.config.require_email_verification;
    if must_verify {
        if let Some(owner) = users::find_by_email(&backend.db, &email).await? {
            admitted.give_back(backend).await?;
            tell_owner_of_attempt(backend, &owner);
            return Ok(SignedUp::CheckMail);
        }
    }
    // The first account of an instance administers it.
    let first = users::count(&backend.db).await? == 0;
    let inserted = insert_account(
        backend,
        users::NewUser {
            email,
            display_name,
            password_hash: Some(password_hash),
            is_admin: first,
        },
        "An account with this email address already exists. Sign in, or reset the password \
         if you forgot it.",
    )
    .await;
    let user = match inserted {
        Ok(user) => user,
        Err(e) => {
            admitted.give_back(backend).await?;
            // Taken by a sign-up racing this one: the same answer as for any taken address.
            if must_verify && e.code() == "email_taken" {
                return Ok(SignedUp::CheckMail);
            }
            return Err(e);
        }
    };
    admitted.used_by(backend, &user.id).await?;
    tracing::info!(user_id = %user.id, "account created");
    let caller = Caller::from(user);
    send_verification(backend, &caller).await?;
    if must_verify {
        Ok(SignedUp::CheckMail)
    } else {
        Ok(SignedUp::Active(caller.to_model()))
    }
}

/// Someone tried to sign up with an address that has an account: its owner is told, in
/// the background (the answer must not take longer than for a new address).
fn tell_owner_of_attempt(backend: &Backend, owner: &UserRecord) {
    let mut url = backend.config.public_url.clone();
    url.set_path("/login");
    let mut reset = backend.config.public_url.clone();
    reset.set_path("/forgot-password");
    backend.external.mailer.send_in_background(Mail {
        to: owner.email.clone(),
        subject: "Someone tried to sign up to Avatar Studio with your address".to_owned(),
        text: format!(
            "Someone (perhaps you) tried to create an Avatar Studio account with this address, \
             which already has one.\r\n\r\nIf it was you, sign in at {url}\r\nForgot your \
             password? Choose a new one at {reset}\r\n\r\nIf it was not you, there is nothing \
             to do: no account was made.\r\n"
        ),
    });
}

/// Inserts an account; an address in use is a conflict saying `taken`.
pub(crate) async fn insert_account(
    backend: &Backend,
    new: users::NewUser,
    taken: &str,
) -> Result<UserRecord, ServiceError> {
    users::insert(&backend.db, new).await.map_err(|e| match e {
        users::UserRepoError::EmailTaken => ServiceError::Conflict {
            code: "email_taken",
            field: Some("email"),
            message: taken.to_owned(),
        },
        users::UserRepoError::Db(e) => e.into(),
    })
}

/// Checks an email address and password. Every attempt is taken from the limits before
/// it is tried (so parallel guesses cannot slip past them); a successful one is given
/// back, so that only failures count and a busy office is never locked out.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    backend: &Backend,
    client: &ClientInfo,
    email: &str,
    password: &str,
) -> Result<model::User, ServiceError> {
    let attempt = limited(Action::SignIn, client, &account_key(email), backend).await?;
    let user = check_credentials(backend, email, password).await?;
    backend.security.auth_limiter.give_back(attempt).await?;
    if backend.config.require_email_verification && !user.email_verified {
        return Err(ServiceError::Forbidden {
            code: "email_not_verified",
            message: "Confirm your email address first: open the link we sent you. Lost it? \
                      \"Forgot your password?\" sends a new link that confirms it too."
                .to_owned(),
        });
    }
    tracing::info!(user_id = %user.id, "signed in");
    Ok(user)
}

async fn check_credentials(
    backend: &Backend,
    email: &str,
    password: &str,
) -> Result<model::User, ServiceError> {
    let Ok(email) = Email::parse(email) else {
        // Same work and answer as for an unknown account.
        backend.security.passwords.verify(password, None).await?;
        return Err(wrong_credentials());
    };
    let user = users::find_by_email(&backend.db, &email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let ok = backend.security.passwords.verify(password, hash).await?;
    match user {
        Some(user) if ok && user.disabled_at.is_none() => Ok(user.to_model()),
        _ => Err(wrong_credentials()),
    }
}

fn link(backend: &Backend, path: &str, token: &str) -> String {
    let mut url = backend.config.public_url.clone();
    url.set_path(path);
    url.set_query(Some(&format!("token={token}")));
    url.to_string()
}

/// Sends a new verification link when the person asks for one, within the limits per
/// account and per client (each mail goes to a real mailbox: no mail bombs).
pub async fn resend_verification(
    backend: &Backend,
    client: &ClientInfo,
    user: &Caller,
) -> Result<(), ServiceError> {
    let _counted = limited(Action::ResendVerification, client, &user.id, backend).await?;
    send_verification(backend, user).await
}

/// Sends a new verification link (earlier ones stop working).
pub async fn send_verification(backend: &Backend, user: &Caller) -> Result<(), ServiceError> {
    if user.verified {
        return Ok(());
    }
    let token = crypto::random_token("");
    email_tokens::expire_unused(&backend.db, &user.id, Purpose::VerifyEmail).await?;
    email_tokens::insert(
        &backend.db,
        &user.id,
        Purpose::VerifyEmail,
        &crypto::token_hash(token.expose_secret()),
        now_ms() + millis(VERIFY_EMAIL_TTL),
    )
    .await?;
    let url = link(backend, "/verify-email", token.expose_secret());
    backend.external.mailer.send_in_background(Mail {
        to: user.email.clone(),
        subject: "Confirm your email address for Avatar Studio".to_owned(),
        text: format!(
            "Welcome to Avatar Studio.\r\n\r\nConfirm your email address by opening this \
             link:\r\n\r\n{url}\r\n\r\nThe link works for 48 hours. If you did not sign up, \
             you can ignore this message.\r\n"
        ),
    });
    Ok(())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Uses a single-use token from a mail link, or says exactly why it cannot be used.
async fn consume_token(
    backend: &Backend,
    purpose: Purpose,
    token: &str,
) -> Result<String, ServiceError> {
    let token = token.trim();
    let invalid = || ServiceError::BadToken {
        code: "token_invalid",
        message: "This link is not valid. Open the whole link from the email, or ask for a \
                  new one."
            .to_owned(),
    };
    if token.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    let hash = crypto::token_hash(token);
    if let Some(user_id) = email_tokens::consume(&backend.db, purpose, &hash).await? {
        return Ok(user_id);
    }
    let again = match purpose {
        Purpose::VerifyEmail => "Sign in and ask for a new verification email in Settings.",
        Purpose::ResetPassword => "Ask for a new one on the \"Forgot password\" page.",
    };
    match email_tokens::find(&backend.db, purpose, &hash).await? {
        Some(t) if t.used_at.is_some() => Err(ServiceError::BadToken {
            code: "token_used",
            message: format!("This link has already been used. {again}"),
        }),
        Some(_) => Err(ServiceError::BadToken {
            code: "token_expired",
            message: format!("This link has expired. {again}"),
        }),
        None => Err(invalid()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn verify_email(backend: &Backend, token: &str) -> Result<(), ServiceError> {
    let user_id = consume_token(backend, Purpose::VerifyEmail, token).await?;
    users::mark_email_verified(&backend.db, &user_id).await?;
    tracing::info!(%user_id, "email address verified");
    Ok(())
}

/// Mails a reset link when the account exists; answers the same either way, in the same
/// time: the lookup and the mail happen on a background task.
#[tracing::instrument(skip_all)]
pub async fn forgot_password(
    backend: &Backend,
    client: &ClientInfo,
    email: &str,
) -> Result<(), ServiceError> {
    let _counted = limited(Action::ForgotPassword, client, &account_key(email), backend).await?;
    let email = Email::parse(email).map_err(email_field)?;
    let backend = backend.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset_link(&backend, &email).await {
            tracing::error!(error = %e, "could not send a password reset link");
        }
    });
    Ok(())
}

async fn send_reset_link(backend: &Backend, email: &Email) -> Result<(), ServiceError> {
    let Some(user) = users::find_by_email(&backend.db, email).await? else {
        return Ok(());
    };
    if user.disabled_at.is_some() {
        return Ok(());
    }
    let token = crypto::random_token("");
    email_tokens::expire_unused(&backend.db, &user.id, Purpose::ResetPassword).await?;
    email_tokens::insert(
        &backend.db,
        &user.id,
        Purpose::ResetPassword,
        &crypto::token_hash(token.expose_secret()),
        now_ms() + millis(RESET_PASSWORD_TTL),
    )
    .await?;
    let url = link(backend, "/reset-password", token.expose_secret());
    backend.external.mailer.send_in_background(Mail {
        to: user.email.clone(),
        subject: "Reset your Avatar Studio password".to_owned(),
        text: format!(
            "Someone asked to reset the password of your Avatar Studio account.\r\n\r\n\
             Choose a new password here:\r\n\r\n{url}\r\n\r\nThe link works for one hour and \
             only once. If it was not you, ignore this message: your password stays as it \
             is.\r\n"
        ),
    });
    tracing::info!(user_id = %user.id, "password reset link sent");
    Ok(())
}

/// Sets a new password from a reset link and ends every session of the account (the
/// caller's own, if it has one, is kept).
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    backend: &Backend,
    token: &str,
    password: &str,
    keep_session_hash: Option<&str>,
) -> Result<(), ServiceError> {
    let password = NewPassword::parse(password)?;
    let user_id = consume_token(backend, Purpose::ResetPassword, token).await?;
    let was_verified = users::find_by_id(&backend.db, &user_id)
        .await?
        .is_some_and(|u| u.email_verified_at.is_some());
    let hash = backend.security.passwords.hash(&password).await?;
    users::set_password_hash(&backend.db, &user_id, &hash).await?;
    // Whoever opened the link controls the mailbox.
    users::mark_email_verified(&backend.db, &user_id).await?;
    // Someone who signed up with another person's address before it was verified must
    // keep nothing once its owner takes it over: their provider keys and the identities
    // they linked go too.
    end_other_access(backend, &user_id, keep_session_hash, !was_verified).await?;
    tracing::info!(%user_id, was_verified, "password reset");
    Ok(())
}

/// After a password reset or change: every session but `keep_session_hash` and every
/// access token end, open live connections close at once, and with `taken_over` (the
/// mailbox's owner took an unverified account over) the stored provider keys and the
/// linked identities are removed too.
async fn end_other_access(
    backend: &Backend,
    user_id: &str,
    keep_session_hash: Option<&str>,
    taken_over: bool,
) -> Result<(), ServiceError> {
    let sessions = sessions::delete_all_for_user(&backend.db, user_id, keep_session_hash).await?;
    let tokens = api_tokens::delete_all_for_user(&backend.db, user_id).await?;
    let (keys, identities) = if taken_over {
        (
            provider_keys::delete_all_for_user(&backend.db, user_id).await?,
            identities::delete_all_for_user(&backend.db, user_id).await?,
        )
    } else {
        (0, 0)
    };
    backend.runtime.hub.recheck(user_id);
    tracing::info!(%user_id, sessions, tokens, keys, identities, "other access ended");
    Ok(())
}

/// Changes the password of a signed-in person and ends their other sessions and every
/// access token.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn change_password(
    backend: &Backend,
    principal: &Principal,
    current: &str,
    new: &str,
) -> Result<(), ServiceError> {
    // An account made through an identity provider has no password: it sets its first,
    // from a browser that signed in moments ago (so a stolen session or an access token
    // cannot turn itself into a lasting password).
    let has_password = users::find_by_id(&backend.db, &principal.caller.id)
        .await?
        .is_some_and(|u| u.password_hash.is_some());
    if has_password {
        confirm_password(backend, principal, current, "current_password").await?;
    } else {
        confirm_recent_sign_in(backend, principal).await?;
    }
    let new = NewPassword::parse(new).map_err(|e| FieldError::new("new_password", e.message))?;
    let hash = backend.security.passwords.hash(&new).await?;
    users::set_password_hash(&backend.db, &principal.caller.id, &hash).await?;
    end_other_access(
        backend,
        &principal.caller.id,
        principal.session_hash(),
        false,
    )
    .await
}

/// How recent a browser's sign-in must be for it to set an account's first password.
pub const FIRST_PASSWORD_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The caller is a browser session opened within [`FIRST_PASSWORD_WINDOW`].
async fn confirm_recent_sign_in(
    backend: &Backend,
    principal: &Principal,
) -> Result<(), ServiceError> {
    let window = i64::try_from(FIRST_PASSWORD_WINDOW.as_millis()).unwrap_or(i64::MAX);
    let recent = match principal.session_hash() {
        Some(hash) => sessions::find_live(&backend.db, hash)
            .await?
            .is_some_and(|s| now_ms() - s.created_at <= window),
        None => false,
    };
    if recent {
        Ok(())
    } else {
        Err(ServiceError::Forbidden {
            code: "recent_sign_in_required",
            message: "To set a first password, sign out and sign in again with your identity \
                      provider, then set it within 10 minutes. (Or use \"Forgot your \
                      password?\", which mails you a link.)"
                .to_owned(),
        })
    }
}

async fn confirm_password(
    backend: &Backend,
    principal: &Principal,
    password: &str,
    field: &'static str,
) -> Result<(), ServiceError> {
    let _counted = backend
        .security
        .auth_limiter
        .take(Action::ConfirmPassword, None, Some(&principal.caller.id))
        .await?;
    // The hash is read for this check only: the caller never carries it.
    let hash = users::find_by_id(&backend.db, &principal.caller.id)
        .await?
        .and_then(|u| u.password_hash);
    let ok = backend
        .security
        .passwords
        .verify(password, hash.as_deref())
        .await?;
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(field, "That is not your current password.").into())
    }
}

pub async fn update_profile(
    backend: &Backend,
    principal: &Principal,
    display_name: Option<&str>,
) -> Result<model::User, ServiceError> {
    let display_name = parse_display_name(display_name)?;
    users::set_display_name(&backend.db, &principal.caller.id, display_name.as_deref())
        .await?
        .map(|u| u.to_model())
        .ok_or(ServiceError::NotFound)
}

/// The person's signed-in browsers, the current one marked.
pub async fn list_sessions(
    backend: &Backend,
    principal: &Principal,
) -> Result<Vec<model::SessionInfo>, ServiceError> {
    let rows = sessions::list_for_user(&backend.db, &principal.caller.id).await?;
    Ok(rows
        .into_iter()
        .map(|s| model::SessionInfo {
            current: principal.session_hash() == Some(s.token_hash.as_str()),
            id: s.id,
            created_at: to_time(s.created_at),
            last_seen_at: to_time(s.last_seen_at),
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

pub async fn revoke_session(
    backend: &Backend,
    principal: &Principal,
    session_id: &str,
) -> Result<(), ServiceError> {
    if sessions::delete_for_user(&backend.db, &principal.caller.id, session_id).await? {
        tracing::info!(user_id = %principal.caller.id, %session_id, "session revoked");
        backend.runtime.hub.recheck(&principal.caller.id);
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// "Sign out everywhere else": ends every session but the caller's.
pub async fn revoke_other_sessions(
    backend: &Backend,
    principal: &Principal,
) -> Result<u64, ServiceError> {
    let ended =
        sessions::delete_all_for_user(&backend.db, &principal.caller.id, principal.session_hash())
            .await?;
    backend.runtime.hub.recheck(&principal.caller.id);
    Ok(ended)
}

/// Deletes the account with every row and stored object of it. The password confirms it.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn delete_account(
    backend: &Backend,
    principal: &Principal,
    password: &str,
) -> Result<(), ServiceError> {
    confirm_password(backend, principal, password, "password").await?;
    let user_id = &principal.caller.id;
    // Rows first: once they are gone nothing refers to the objects, and an object that
    // cannot be deleted now is an orphan that the cleanup job removes later.
    // The variants live under the image ids, not the user's prefixes: note them first.
    let image_ids = crate::db::images::ids_of_user(&backend.db, user_id).await?;
    users::delete(&backend.db, user_id).await?;
    let mut objects = 0;
    for id in image_ids
        .iter()
        .filter_map(|id| crate::domain::Id::parse(id))
    {
        match backend
            .storage
            .delete_prefix(&crate::storage::variant_prefix(&id))
            .await
        {
            Ok(n) => objects += n,
            Err(e) => tracing::error!(error = %e, image_id = %id, "could not delete variants"),
        }
    }
    for prefix in Storage::user_prefixes(user_id) {
        match backend.storage.delete_prefix(&prefix).await {
            Ok(n) => objects += n,
            Err(e) => {
                tracing::error!(error = %e, %prefix, "could not delete a deleted account's objects")
            }
        }
    }
    backend.runtime.hub.recheck(user_id);
    tracing::info!(objects, "account deleted");
    Ok(())
}

pub use crate::to_time;
