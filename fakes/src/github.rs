//! A fake GitHub for sign-in with a GitHub OAuth app: the web flow
//! (`/login/oauth/authorize`, `/login/oauth/access_token`, with PKCE S256) and the REST
//! API's `/user` and `/user/emails`, served under `/api/v3` as GitHub Enterprise Server
//! does. The person who "approves" at the authorize page is the one the test chose with
//! [`FakeGithub::approve_as`]; with nobody chosen the page answers `access_denied`, as
//! GitHub does when someone cancels.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::lock;

/// A GitHub account.
#[derive(Debug, Clone)]
pub struct GithubUser {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
    /// (address, primary, verified)
    pub emails: Vec<(String, bool, bool)>,
}

struct Grant {
    login: String,
    redirect_uri: String,
    challenge: Option<String>,
}

#[derive(Default)]
struct GithubState {
    client_id: String,
    client_secret: String,
    users: Vec<GithubUser>,
    approve_as: Option<String>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, String>,
    counter: u64,
}

type Shared = Arc<Mutex<GithubState>>;

/// A running fake GitHub; stops when dropped.
pub struct FakeGithub {
    pub addr: SocketAddr,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGithub {
    /// Starts it with one OAuth app, `client_id` / `client_secret`.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let state: Shared = Arc::new(Mutex::new(GithubState {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            ..GithubState::default()
        }));
        let router = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/api/v3/user", get(user))
            .route("/api/v3/user/emails", get(emails))
            .with_state(state.clone());
        let (addr, task) = crate::listen(router).await;
        Self { addr, state, task }
    }

    /// For `GITHUB_URL`.
    pub fn web_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// For `GITHUB_API_URL`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    pub fn add_user(&self, user: GithubUser) {
        lock(&self.state).users.push(user);
    }

    /// Who approves the next authorizations (`None`: they are cancelled).
    pub fn approve_as(&self, login: Option<&str>) {
        lock(&self.state).approve_as = login.map(str::to_owned);
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

async fn authorize(State(state): State<Shared>, Query(q): Query<AuthorizeQuery>) -> Response {
    let mut s = lock(&state);
    if q.client_id != s.client_id {
        return (StatusCode::NOT_FOUND, "no such application").into_response();
    }
    let mut back = url::Url::parse(&q.redirect_uri).expect("a redirect URI");
    match s.approve_as.clone() {
        None => {
            back.query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("state", &q.state);
        }
        Some(login) => {
            s.counter += 1;
            let code = format!("code-{}", s.counter);
            let challenge = match q.code_challenge_method.as_deref() {
                Some("S256") => q.code_challenge.clone(),
                _ => None,
            };
            s.codes.insert(
                code.clone(),
                Grant {
                    login,
                    redirect_uri: q.redirect_uri.clone(),
                    challenge,
                },
            );
            back.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &q.state);
        }
    }
    Redirect::to(back.as_str()).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    client_id: String,
    client_secret: String,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// GitHub answers a refused code with 200 and an error object.
fn refused(error: &str) -> Response {
    Json(json!({"error": error, "error_description": "refused by the fake GitHub"})).into_response()
}

async fn access_token(State(state): State<Shared>, Form(f): Form<TokenForm>) -> Response {
    let mut s = lock(&state);
    if f.client_id != s.client_id || f.client_secret != s.client_secret {
        return refused("incorrect_client_credentials");
    }
    // Used once, whatever follows.
    let Some(grant) = s.codes.remove(&f.code) else {
        return refused("bad_verification_code");
    };
    if f.redirect_uri
        .as_deref()
        .is_some_and(|r| r != grant.redirect_uri)
    {
        return refused("redirect_uri_mismatch");
    }
    if let Some(challenge) = grant.challenge {
        let verifier = f.code_verifier.unwrap_or_default();
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        if computed != challenge {
            return refused("bad_verification_code");
        }
    }
    s.counter += 1;
    let token = format!("gho_fake{}", s.counter);
    s.tokens.insert(token.clone(), grant.login);
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
        .into_response()
}

fn caller(state: &Shared, headers: &HeaderMap) -> Option<GithubUser> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("token "))?;
    let s = lock(state);
    let login = s.tokens.get(token)?;
    s.users.iter().find(|u| &u.login == login).cloned()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Bad credentials"})),
    )
        .into_response()
}

async fn user(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Some(u) = caller(&state, &headers) else {
        return unauthorized();
    };
    let public_email = u.emails.iter().find(|e| e.1).map(|e| e.0.clone());
    Json(json!({"id": u.id, "login": u.login, "name": u.name, "email": public_email}))
        .into_response()
}

async fn emails(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Some(u) = caller(&state, &headers) else {
        return unauthorized();
    };
    let list: Vec<_> = u
        .emails
        .iter()
        .map(|(email, primary, verified)| {
            json!({"email": email, "primary": primary, "verified": verified, "visibility": null})
        })
        .collect();
    Json(list).into_response()
}
