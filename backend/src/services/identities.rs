//! Sign-in through identity providers: what a sign-in with an identity does to accounts.
//! The transport (server) owns the browser's cookie and the redirects; `identity` speaks
//! to the providers; this module keeps the rules:
//! - an identity (provider, subject) is linked to one account;
//! - a first sign-in whose verified address matches an account is linked only once the
//!   same browser signs in to that account with its password (or, signed in already, it
//!   links from Settings), never silently — or whoever controls a provider could take over
//!   accounts;
//! - otherwise a new account is made, when `SIGNUP` (or the provider's `ALLOW_SIGNUP`)
//!   allows it;
//! - the last way to sign in is never unlinked.

use std::time::Duration;

use model::{LinkedIdentity, SignInMethods, SignInProblem};

use super::{accounts, auth::Caller, ServiceError};
use crate::{
    crypto,
    db::{identities, identity_flows, users},
    domain::Email,
    identity::{IdentityError, VerifiedIdentity},
    now_ms,
    ratelimit::{Action, LimitError},
    to_time, Backend,
};

/// How long a sign-in at a provider may take, from start to callback.
pub const FLOW_TTL: Duration = Duration::from_secs(15 * 60);
/// How long an identity waits for its account's password to be linked.
pub const OFFER_TTL: Duration = Duration::from_secs(15 * 60);
/// The longest `next` kept with a sign-in (a longer one goes to the default page).
pub const MAX_NEXT_LEN: usize = 2048;

/// Where the provider sends the browser back to.
pub fn callback_url(backend: &Backend, provider: &str) -> url::Url {
    let mut url = backend.config.public_url.clone();
    url.set_path(&format!("/auth/{provider}/callback"));
    url.set_query(None);
    url
}

fn ttl_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Starts a sign-in (or, for a signed-in `linking` account, a link) with `provider`:
/// remembers the flow for the browser whose cookie hashes to `browser`, and answers where
/// to send it. `next` must already be a local path.
#[tracing::instrument(skip_all, fields(provider))]
pub async fn start(
    backend: &Backend,
    client: &accounts::ClientInfo,
    provider: &str,
    browser: &str,
    next: Option<&str>,
    linking: Option<&Caller>,
) -> Result<url::Url, SignInProblem> {
    // Each start keeps a row for a while: anyone may start, but not endlessly. (Taken
    // for good: a start is not given back.)
    let _counted = backend
        .security
        .auth_limiter
        .take(Action::IdentityStart, client.ip, None)
        .await
        .map_err(|e| match e {
            LimitError::Limited(_) => SignInProblem::TooMany,
            LimitError::Db(e) => internal(&e),
        })?;
    // A local path of reasonable length, or the default.
    let next = next.filter(|n| n.len() <= MAX_NEXT_LEN);
    let authorization = within_request(
        backend,
        backend
            .external
            .identities
            .authorize(provider, &callback_url(backend, provider)),
    )
    .await?
    .map_err(|e| problem(&e))?;
    identity_flows::insert_flow(
        &backend.db,
        &identity_flows::FlowRecord {
            state_hash: crypto::token_hash(&authorization.state),
            browser_hash: crypto::token_hash(browser),
            provider: provider.to_owned(),
            nonce: authorization.nonce,
            pkce_verifier: authorization.pkce_verifier,
            next: next.map(str::to_owned),
            link_user_id: linking.map(|c| c.id.clone()),
            expires_at: now_ms() + ttl_ms(FLOW_TTL),
        },
    )
    .await
    .map_err(|e| internal(&e))?;
    Ok(authorization.url)
}

/// Runs the provider's calls (discovery, code exchange, user info: each within the
/// outbound time limit) so that together they end before the request's own limit, and the
/// browser gets the sign-in page's sentence rather than the 503 of a request cut off.
async fn within_request<T>(
    backend: &Backend,
    calls: impl std::future::Future<Output = T>,
) -> Result<T, SignInProblem> {
    let limit = backend
        .config
        .request_timeout
        .saturating_sub(Duration::from_secs(5))
        .max(Duration::from_secs(1));
    tokio::time::timeout(limit, calls).await.map_err(|_| {
        tracing::warn!(
            limit_s = limit.as_secs(),
            "the identity provider took too long"
        );
        SignInProblem::Unavailable
    })
}

fn problem(e: &IdentityError) -> SignInProblem {
    match e {
        IdentityError::Unknown(_) => SignInProblem::Expired,
        IdentityError::Unavailable { .. } => {
            tracing::warn!(error = %e, "identity provider unavailable");
            SignInProblem::Unavailable
        }
        IdentityError::CodeRefused { .. } | IdentityError::BadToken { .. } => {
            tracing::warn!(error = %e, "sign-in through an identity provider refused");
            SignInProblem::Failed
        }
    }
}

fn internal(e: &dyn std::fmt::Display) -> SignInProblem {
    tracing::error!(error = %e, "sign-in through an identity provider failed on our side");
    SignInProblem::Unavailable
}

/// What the provider's redirect carried back.
#[derive(Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's `error` (e.g. `access_denied`).
    pub error: Option<String>,
    /// The issuer that answered (RFC 9207), when the provider names it.
    pub iss: Option<String>,
}

/// What a finished sign-in with a provider did.
#[derive(Debug, PartialEq, Eq)]
pub enum Finished {
    /// Sign this account in (a new session), then go to `next`.
    SignIn {
        user_id: String,
        next: Option<String>,
    },
    /// The identity is now linked to the signed-in account.
    Linked { provider: String },
    /// An account has the identity's verified address: the browser must sign in to it
    /// with its password, which links the identity.
    ConfirmWithPassword {
        provider: String,
        next: Option<String>,
    },
}

/// Why a callback failed, and whether it was a link from Settings (the answer then goes
/// back there).
#[derive(Debug, PartialEq, Eq)]
pub struct Failed {
    pub problem: SignInProblem,
    pub linking: bool,
}

/// Finishes a sign-in at the provider's callback, for the browser whose cookie is
/// `browser` (`None` when it sent none), signed in to `signed_in` (an account's id) if at
/// all.
#[tracing::instrument(skip_all, fields(provider))]
pub async fn finish(
    backend: &Backend,
    provider: &str,
    callback: Callback,
    browser: Option<&str>,
    signed_in: Option<&str>,
) -> Result<Finished, Failed> {
    let fail = |problem| Failed {
        problem,
        linking: false,
    };
    let Some(state) = callback.state.filter(|s| !s.is_empty() && s.len() <= 512) else {
        return Err(fail(SignInProblem::Expired));
    };
    // Taken once, whatever follows: a replayed callback finds nothing.
    let flow = identity_flows::take_flow(&backend.db, &crypto::token_hash(&state))
        .await
        .map_err(|e| fail(internal(&e)))?;
    let Some(flow) = flow else {
        return Err(fail(SignInProblem::Expired));
    };
    let browser_ok = browser.is_some_and(|b| crypto::token_hash(b) == flow.browser_hash);
    if !browser_ok || flow.provider != provider || flow.expires_at <= now_ms() {
        return Err(fail(SignInProblem::Expired));
    }
    let linking = flow.link_user_id.is_some();
    let fail = |problem| Failed { problem, linking };
    // A link goes only to the account that asked for it, still signed in here.
    if linking && flow.link_user_id.as_deref() != signed_in {
        return Err(fail(SignInProblem::Expired));
    }
    // An answer from another provider than the one this sign-in went to (mix-up).
    if let Some(iss) = callback.iss.as_deref() {
        if !backend.external.identities.is_issuer(provider, iss) {
            tracing::warn!("a callback named another issuer than the provider's");
            return Err(fail(SignInProblem::Failed));
        }
    }
    if let Some(error) = callback.error {
        tracing::info!(error = %error.chars().take(64).collect::<String>(), "the identity provider returned an error");
        return Err(fail(SignInProblem::Denied));
    }
    let Some(code) = callback.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return Err(fail(SignInProblem::Failed));
    };
    let identity = within_request(
        backend,
        backend.external.identities.finish(
            provider,
            code,
            &callback_url(backend, provider),
            flow.nonce,
            flow.pkce_verifier,
        ),
    )
    .await
    .map_err(fail)?
    .map_err(|e| fail(problem(&e)))?;
    let browser_hash = flow.browser_hash;
    match flow.link_user_id {
        Some(user_id) => link(backend, &user_id, provider, &identity)
            .await
            .map_err(fail)
            .map(|()| Finished::Linked {
                provider: provider.to_owned(),
            }),
        None => sign_in(backend, provider, &identity, &browser_hash, flow.next)
            .await
            .map_err(fail),
    }
}

/// Links the identity to the signed-in account that asked for it.
async fn link(
    backend: &Backend,
    user_id: &str,
    provider: &str,
    identity: &VerifiedIdentity,
) -> Result<(), SignInProblem> {
    let email = identity.email.as_deref();
    if identities::insert(&backend.db, user_id, provider, &identity.subject, email)
        .await
        .map_err(|e| internal(&e))?
    {
        tracing::info!(%user_id, provider, "identity linked");
        return Ok(());
    }
    match identities::find(&backend.db, provider, &identity.subject)
        .await
        .map_err(|e| internal(&e))?
    {
        Some(existing) if existing.user_id == user_id => Ok(()),
        _ => Err(SignInProblem::IdentityTaken),
    }
}

async fn sign_in(
    backend: &Backend,
    provider: &str,
    identity: &VerifiedIdentity,
    browser_hash: &str,
    next: Option<String>,
) -> Result<Finished, SignInProblem> {
    let db = &backend.db;
    // A returning identity.
    if let Some(known) = identities::find(db, provider, &identity.subject)
        .await
        .map_err(|e| internal(&e))?
    {
        let user = users::find_by_id(db, &known.user_id)
            .await
            .map_err(|e| internal(&e))?
            .ok_or(SignInProblem::Expired)?;
        if user.disabled_at.is_some() {
            return Err(SignInProblem::Disabled);
        }
        if backend.config.require_email_verification && user.email_verified_at.is_none() {
            return Err(SignInProblem::Unconfirmed);
        }
        identities::touch(db, &known.id, identity.email.as_deref())
            .await
            .map_err(|e| internal(&e))?;
        tracing::info!(user_id = %user.id, provider, "signed in with an identity");
        return Ok(Finished::SignIn {
            user_id: user.id,
            next,
        });
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or(SignInProblem::NoEmail)?;
    if let Some(owner) = users::find_by_email(db, &email)
        .await
        .map_err(|e| internal(&e))?
    {
        if !identity.email_verified {
            return Err(SignInProblem::AddressTaken);
        }
        if owner.disabled_at.is_some() {
            return Err(SignInProblem::Disabled);
        }
        identity_flows::put_offer(
            db,
            &identity_flows::OfferRecord {
                browser_hash: browser_hash.to_owned(),
                user_id: owner.id,
                provider: provider.to_owned(),
                subject: identity.subject.clone(),
                email: identity.email.clone(),
                next: next.clone(),
                expires_at: now_ms() + ttl_ms(OFFER_TTL),
            },
        )
        .await
        .map_err(|e| internal(&e))?;
        return Ok(Finished::ConfirmWithPassword {
            provider: provider.to_owned(),
            next,
        });
    }
    let user = new_account(backend, provider, identity, email).await?;
    Ok(Finished::SignIn {
        user_id: user,
        next,
    })
}

/// Makes an account for a new identity, when this instance takes one from `provider`.
async fn new_account(
    backend: &Backend,
    provider: &str,
    identity: &VerifiedIdentity,
    email: Email,
) -> Result<String, SignInProblem> {
    let open = backend.config.signup == model::SignupMode::Open
        || backend.external.identities.allows_signup(provider);
    if !open {
        return Err(SignInProblem::SignupClosed);
    }
    let db = &backend.db;
    let first = users::count(db).await.map_err(|e| internal(&e))? == 0;
    let display_name = identity
        .name
        .as_deref()
        .and_then(|n| accounts::parse_display_name(Some(n)).ok().flatten());
    let user = accounts::insert_account(
        backend,
        users::NewUser {
            email,
            display_name,
            password_hash: None,
            is_admin: first,
        },
        "taken",
    )
    .await
    .map_err(|e| match e {
        // Made by a sign-up racing this one.
        ServiceError::Conflict { .. } => SignInProblem::AddressTaken,
        other => internal(&other),
    })?;
    if !identities::insert(
        db,
        &user.id,
        provider,
        &identity.subject,
        identity.email.as_deref(),
    )
    .await
    .map_err(|e| internal(&e))?
    {
        // The same identity signed up twice at once: the other one won.
        users::delete(db, &user.id)
            .await
            .map_err(|e| internal(&e))?;
        return Err(SignInProblem::Expired);
    }
    tracing::info!(user_id = %user.id, provider, "account created with an identity");
    if identity.email_verified {
        users::mark_email_verified(db, &user.id)
            .await
            .map_err(|e| internal(&e))?;
    } else {
        let caller = Caller::from(user.clone());
        accounts::send_verification(backend, &caller)
            .await
            .map_err(|e| internal(&e))?;
        if backend.config.require_email_verification {
            return Err(SignInProblem::CheckMail);
        }
    }
    Ok(user.id)
}

/// After this browser signed in to `user_id` with its password: links the identity that
/// waited for that account, if any. Answers the provider linked.
pub async fn claim_offer(
    backend: &Backend,
    browser: &str,
    user_id: &str,
) -> Result<Option<String>, ServiceError> {
    let db = &backend.db;
    let Some(offer) =
        identity_flows::take_offer_for(db, &crypto::token_hash(browser), user_id).await?
    else {
        return Ok(None);
    };
    if !identities::insert(
        db,
        user_id,
        &offer.provider,
        &offer.subject,
        offer.email.as_deref(),
    )
    .await?
    {
        // Linked meanwhile (to this account or, through another browser, elsewhere).
        return Ok(None);
    }
    tracing::info!(%user_id, provider = %offer.provider, "identity linked after the password");
    Ok(Some(offer.provider))
}

/// The account's password state, identities and the providers it could still link.
pub async fn methods(backend: &Backend, caller: &Caller) -> Result<SignInMethods, ServiceError> {
    let db = &backend.db;
    let has_password = users::find_by_id(db, &caller.id)
        .await?
        .is_some_and(|u| u.password_hash.is_some());
    let linked = identities::list_for_user(db, &caller.id).await?;
    let configured = backend.external.identities.list();
    let identities = linked
        .into_iter()
        .map(|i| LinkedIdentity {
            display_name: configured
                .iter()
                .find(|p| p.name == i.provider)
                .map_or_else(|| i.provider.clone(), |p| p.display_name.clone()),
            id: i.id,
            provider: i.provider,
            email: i.email,
            created_at: to_time(i.created_at),
            last_used_at: to_time(i.last_used_at),
        })
        .collect::<Vec<_>>();
    let available = configured
        .into_iter()
        .filter(|p| !identities.iter().any(|i| i.provider == p.name))
        .collect();
    Ok(SignInMethods {
        has_password,
        identities,
        available,
    })
}

/// Unlinks one of the caller's identities; never the last way to sign in.
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn unlink(backend: &Backend, caller: &Caller, id: &str) -> Result<(), ServiceError> {
    let db = &backend.db;
    if identities::delete_unless_last(db, &caller.id, id).await? {
        tracing::info!("identity unlinked");
        return Ok(());
    }
    let mine = identities::list_for_user(db, &caller.id)
        .await?
        .into_iter()
        .any(|i| i.id == id);
    if mine {
        Err(ServiceError::Refused {
            code: "last_sign_in_method",
            message: "This is the only way to sign in to your account. Set a password or \
                      link another provider first."
                .to_owned(),
        })
    } else {
        Err(ServiceError::NotFound)
    }
}
