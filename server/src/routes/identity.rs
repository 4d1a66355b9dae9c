//! Sign-in through identity providers (issue 18), as browser navigations:
//! - `GET /auth/{provider}/start?next=…`: to the provider, to sign in (or sign up);
//! - `POST /auth/{provider}/link`: from Settings, to link another identity to the
//!   signed-in account (a form post, so that another site cannot start it);
//! - `GET /auth/{provider}/callback`: back from the provider; signs in, links, or ends on
//!   the sign-in page (or Settings) with a sentence saying why not — never an error page.
//!
//! A sign-in is bound to the browser that started it by a random cookie; the flow itself
//! (state, nonce, PKCE verifier) stays in the database (`services::identities`).

use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Router,
};
use backend::{
    crypto,
    services::{
        accounts::ClientInfo,
        auth::Principal,
        identities::{self, Callback, Finished, FLOW_TTL},
    },
    Backend,
};
use model::SignInProblem;
use serde::Deserialize;
use tower_sessions::{
    cookie::{Cookie, SameSite},
    Session,
};

use super::account::Client;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/{provider}/start", get(start))
        .route("/auth/{provider}/link", post(link))
        .route("/auth/{provider}/callback", get(callback))
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// The browser's sign-in cookie (made now if it has none), and the header that sets it
/// again for another `FLOW_TTL`.
fn browser_cookie(backend: &Backend, headers: &HeaderMap) -> (String, HeaderValue) {
    let secure = backend.config.is_https();
    let token = app::session::signin_browser(headers, secure).unwrap_or_else(|| {
        secrecy::ExposeSecret::expose_secret(&crypto::random_token("")).to_owned()
    });
    let cookie = Cookie::build((app::session::signin_cookie_name(secure), token.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        // Lax: the provider's redirect back is a top-level navigation from another site.
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(
            i64::try_from(FLOW_TTL.as_secs()).unwrap_or(900),
        ))
        .build();
    let value = HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a header value");
    (token, value)
}

fn to_login(problem: SignInProblem, linking: bool) -> Response {
    let page = if linking { "/settings" } else { "/login" };
    Redirect::to(&format!("{page}?error={problem}")).into_response()
}

fn unknown_provider(backend: &Backend, provider: &str) -> bool {
    backend.external.identities.display_name(provider).is_none()
}

async fn begin(
    backend: &Backend,
    client: &ClientInfo,
    headers: &HeaderMap,
    provider: &str,
    next: Option<&str>,
    linking: Option<&Principal>,
) -> Response {
    if unknown_provider(backend, provider) {
        return to_login(SignInProblem::Expired, linking.is_some());
    }
    let (browser, cookie) = browser_cookie(backend, headers);
    let caller = linking.map(|p| &p.caller);
    match identities::start(backend, client, provider, &browser, next, caller).await {
        Ok(url) => ([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response(),
        Err(problem) => to_login(problem, linking.is_some()),
    }
}

pub async fn start(
    State(backend): State<Backend>,
    Path(provider): Path<String>,
    query: Result<Query<StartQuery>, QueryRejection>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    // A query that does not parse (a repeated parameter) just loses its `next`.
    let next = query
        .ok()
        .and_then(|Query(q)| q.next)
        .map(|n| app::safe_next(Some(&n)));
    begin(
        &backend,
        &client,
        &headers,
        &provider,
        next.as_deref(),
        None,
    )
    .await
}

pub async fn link(
    State(backend): State<Backend>,
    Path(provider): Path<String>,
    principal: Option<Extension<Principal>>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    let Some(Extension(principal)) = principal else {
        return Redirect::to("/login?next=%2Fsettings").into_response();
    };
    // Only a browser's own session links: a script's token has no browser to come back to.
    if principal.session_hash().is_none() {
        return to_login(SignInProblem::Expired, true);
    }
    begin(
        &backend,
        &client,
        &headers,
        &provider,
        None,
        Some(&principal),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

pub async fn callback(
    State(backend): State<Backend>,
    Path(provider): Path<String>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
    principal: Option<Extension<Principal>>,
    Client(client): Client,
    session: Session,
    headers: HeaderMap,
) -> Response {
    // A query that does not parse (a repeated `state`, say) is no sign-in of ours.
    let Ok(Query(query)) = query else {
        return to_login(SignInProblem::Expired, false);
    };
    let browser = app::session::signin_browser(&headers, backend.config.is_https());
    let signed_in = principal
        .as_ref()
        .filter(|Extension(p)| p.session_hash().is_some())
        .map(|Extension(p)| p.caller.id.as_str());
    let finished = identities::finish(
        &backend,
        &provider,
        Callback {
            code: query.code,
            state: query.state,
            error: query.error,
            iss: query.iss,
        },
        browser.as_deref(),
        signed_in,
    )
    .await;
    match finished {
        Ok(Finished::SignIn { user_id, next }) => {
            if let Err(e) = app::session::establish(&session, &user_id, &client).await {
                tracing::error!(error = %e, "could not open the session after a provider sign-in");
                return to_login(SignInProblem::Unavailable, false);
            }
            Redirect::to(&app::safe_next(next.as_deref())).into_response()
        }
        Ok(Finished::Linked { provider }) => {
            Redirect::to(&format!("/settings?linked={provider}#sign-in-methods")).into_response()
        }
        Ok(Finished::ConfirmWithPassword { provider, next }) => {
            let next = app::safe_next(next.as_deref());
            // The cookie must last as long as the waiting link does.
            let (_, cookie) = browser_cookie(&backend, &headers);
            (
                [(header::SET_COOKIE, cookie)],
                Redirect::to(&format!(
                    "/login?link={provider}&next={}",
                    crate::auth::urlencode(&next)
                )),
            )
                .into_response()
        }
        Err(failed) => to_login(failed.problem, failed.linking),
    }
}
