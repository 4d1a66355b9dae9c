//! Who is calling, and may they: one middleware in front of the API, the server functions
//! and the pages.
//!
//! - `Authorization: Bearer <token>`: a personal access token (401 when it is not valid;
//!   403 `insufficient_scope` when the request needs a scope it lacks, see
//!   [`required_scope`]).
//! - otherwise the session cookie (tower-sessions): the signed-in account, if any.
//! - Cross-site protection: a state-changing request that is not bearer-authenticated must
//!   come from the site's own origin (`Origin`, else `Referer`); a foreign origin, or a
//!   cookie-carrying request with neither header, is refused with 403.
//! - Private pages: an anonymous visitor is sent to sign-in, and back afterwards.
//!
//! The resolved [`Principal`] is put in the request's extensions, where the API handlers
//! (the [`Authenticated`] extractor) and the server functions (`app::ssr::principal`) find
//! it.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use backend::services::{
    auth::{self, Credential, Principal},
    ServiceError,
};
use model::TokenScope;
use tower_sessions::Session;
use url::Url;

use crate::{error::ApiErrorResponse, session_store, state::AppState};

/// The pages only a signed-in person may see (and everything under them).
pub const PRIVATE_PAGES: &[&str] = &[
    "/studio",
    "/characters",
    "/gallery",
    "/collections",
    "/settings",
    "/admin",
];

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let backend = &state.backend;
    let bearer = bearer_token(request.headers());

    let principal = if let Some(token) = bearer {
        match auth::authenticate_token(backend, token).await {
            Ok(p) => {
                let needed = required_scope(request.method(), request.uri().path());
                // (To anyone but an administrator the administrators' endpoints do not
                // exist: their handlers answer 404, whatever the token.)
                let applies = needed != TokenScope::Admin || p.caller.is_admin;
                if applies && !p.may(needed) {
                    return ApiErrorResponse::new(
                        StatusCode::FORBIDDEN,
                        "insufficient_scope",
                        format!(
                            "This access token does not have the {needed} scope this request \
                             needs. Make a token with it in Settings → Access tokens."
                        ),
                    )
                    .into_response();
                }
                Some(p)
            }
            Err(e) => return ApiErrorResponse::from(e).into_response(),
        }
    } else {
        match session_principal(&state, request.extensions().get::<Session>()).await {
            Ok(p) => p,
            Err(e) => return ApiErrorResponse::from(e).into_response(),
        }
    };

    if bearer.is_none() && !is_safe(request.method()) {
        let has_session = request
            .extensions()
            .get::<Session>()
            .is_some_and(|s| s.id().is_some());
        if let Err(why) = check_origin(request.headers(), &backend.config.public_url, has_session) {
            tracing::warn!(reason = why, "refused a cross-site request");
            return ApiErrorResponse::new(
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "This request did not come from this site's own pages, so it was refused. \
                 Scripts should authenticate with an access token (Authorization: Bearer).",
            )
            .into_response();
        }
    }

    if principal.is_none() && is_private_page(request.method(), request.uri().path()) {
        let next_path = request
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        return Redirect::to(&format!("/login?next={}", urlencode(&next_path))).into_response();
    }

    if let Some(p) = principal {
        request.extensions_mut().insert(p);
    }
    next.run(request).await
}

async fn session_principal(
    state: &AppState,
    session: Option<&Session>,
) -> Result<Option<Principal>, ServiceError> {
    let Some(session) = session else {
        return Ok(None);
    };
    let Some(id) = session.id() else {
        return Ok(None);
    };
    let user_id = session
        .get::<String>(session_store::USER_ID_KEY)
        .await
        .map_err(ServiceError::internal)?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    match auth::session_user(&state.backend, &user_id).await? {
        Some(caller) => Ok(Some(Principal {
            caller,
            credential: Credential::Session {
                token_hash: session_store::session_hash(&id),
            },
        })),
        None => {
            // The account is gone or disabled: end the session.
            session.flush().await.map_err(ServiceError::internal)?;
            Ok(None)
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The scope a token needs for a request: `admin` for the administrators' endpoints,
/// `read` to read, `generate` to start, regenerate, edit or cancel generations, `write` for any
/// other change (server functions included).
pub fn required_scope(method: &Method, path: &str) -> TokenScope {
    if path == "/api/v1/admin" || path.starts_with("/api/v1/admin/") {
        return TokenScope::Admin;
    }
    if is_safe(method) {
        return TokenScope::Read;
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let generates = *method == Method::POST
        && matches!(
            segments.as_slice(),
            ["", "api", "v1", "generations"]
                | ["", "api", "v1", "generations", _, "cancel"]
                | ["", "api", "v1", "images", _, "regenerate"]
                | ["", "api", "v1", "images", _, "edit"]
                | ["", "api", "v1", "characters", _, "avatar"]
                | ["", "api", "v1", "characters", _, "variations"]
        );
    if generates {
        TokenScope::Generate
    } else {
        TokenScope::Write
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn is_private_page(method: &Method, path: &str) -> bool {
    (*method == Method::GET || *method == Method::HEAD)
        && PRIVATE_PAGES.iter().any(|p| {
            path == *p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// `Ok` when the request comes from this site: its `Origin` (or, without one, its
/// `Referer`) is `PUBLIC_URL`'s origin or the host the request was sent to. A request
/// with neither header is accepted only when it carries no session (a script signing in).
/// `Origin: null` (a sandboxed frame, a data: page) is foreign, with or without a cookie:
/// otherwise such a page could sign a visitor into an attacker's account.
pub fn check_origin(
    headers: &HeaderMap,
    public_url: &Url,
    has_session: bool,
) -> Result<(), &'static str> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| o.trim().eq_ignore_ascii_case("null")) {
        return Err("an opaque (null) Origin");
    }
    let claimed = origin.or_else(|| headers.get(header::REFERER).and_then(|v| v.to_str().ok()));
    let Some(claimed) = claimed else {
        return if has_session {
            Err("a cookie-authenticated request without Origin or Referer")
        } else {
            Ok(())
        };
    };
    let Ok(claimed) = Url::parse(claimed) else {
        return Err("an unparseable Origin or Referer");
    };
    if claimed.origin() == public_url.origin() {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let claimed_host = match (claimed.host_str(), claimed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => return Err("an Origin without a host"),
    };
    if host.is_some_and(|h| h.eq_ignore_ascii_case(&claimed_host)) {
        Ok(())
    } else {
        Err("a foreign Origin or Referer")
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The signed-in caller of an API handler; 401 when there is none.
pub struct Authenticated(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiErrorResponse;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Self)
            .ok_or_else(|| {
                ApiErrorResponse::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Sign in, or send a personal access token as Authorization: Bearer <token>.",
                )
            })
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Authenticated {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Principal>().cloned().map(Self))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn same_origin_requests_pass_and_foreign_ones_do_not() {
        let public = Url::parse("http://127.0.0.1:3000").unwrap();
        let own = headers(&[(header::ORIGIN, "http://127.0.0.1:3000")]);
        assert!(check_origin(&own, &public, true).is_ok());
        let by_host = headers(&[
            (header::ORIGIN, "http://localhost:3000"),
            (header::HOST, "localhost:3000"),
        ]);
        assert!(check_origin(&by_host, &public, true).is_ok());
        let foreign = headers(&[
            (header::ORIGIN, "https://evil.example"),
            (header::HOST, "127.0.0.1:3000"),
        ]);
        assert!(check_origin(&foreign, &public, true).is_err());
        assert!(check_origin(&foreign, &public, false).is_err());
        let referer = headers(&[(header::REFERER, "http://127.0.0.1:3000/settings")]);
        assert!(check_origin(&referer, &public, true).is_ok());
        let foreign_referer = headers(&[(header::REFERER, "http://127.0.0.1:3001/x")]);
        assert!(check_origin(&foreign_referer, &public, true).is_err());
        assert!(check_origin(&HeaderMap::new(), &public, true).is_err());
        assert!(check_origin(&HeaderMap::new(), &public, false).is_ok());
        // A sandboxed frame or a data: page says `null`: foreign, even without a cookie,
        // and even with a Referer of ours.
        let opaque = headers(&[
            (header::ORIGIN, "null"),
            (header::REFERER, "http://127.0.0.1:3000/login"),
        ]);
        assert!(check_origin(&opaque, &public, false).is_err());
        assert!(check_origin(&opaque, &public, true).is_err());
    }

    #[test]
    fn every_kind_of_request_needs_its_scope() {
        use TokenScope::{Admin, Generate, Read, Write};
        let cases = [
            (Method::GET, "/api/v1/images", Read),
            (Method::GET, "/ws", Read),
            (Method::GET, "/api/v1/admin/operations", Admin),
            (Method::POST, "/api/v1/admin/invitations", Admin),
            (Method::POST, "/api/v1/generations", Generate),
            (Method::POST, "/api/v1/generations/abc/cancel", Generate),
            (Method::POST, "/api/v1/images/abc/regenerate", Generate),
            (Method::POST, "/api/v1/images/abc/edit", Generate),
            (Method::POST, "/api/v1/characters/abc/variations", Generate),
            (Method::POST, "/api/v1/characters/abc/avatar", Generate),
            (Method::PUT, "/api/v1/characters/abc/avatar", Write),
            (Method::POST, "/api/v1/uploads", Write),
            (Method::DELETE, "/api/v1/images/abc", Write),
            (Method::POST, "/api/v1/tokens", Write),
            (Method::POST, "/api/start_generation", Write),
        ];
        for (method, path, scope) in cases {
            assert_eq!(required_scope(&method, path), scope, "{method} {path}");
        }
    }

    #[test]
    fn private_pages_are_matched_by_segment() {
        assert!(is_private_page(&Method::GET, "/settings"));
        assert!(is_private_page(&Method::GET, "/characters/abc"));
        assert!(!is_private_page(&Method::GET, "/settingsx"));
        assert!(!is_private_page(&Method::GET, "/login"));
        assert!(!is_private_page(&Method::POST, "/settings"));
    }
}
