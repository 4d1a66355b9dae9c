//! Who is calling: a signed-in browser (session) or a script (personal access token).
//! The transports find the credential; this module checks it against the database.

use model::TokenScope;

use super::ServiceError;
use crate::{
    crypto,
    db::{api_tokens, sessions, users, users::UserRecord, Db},
    Backend,
};

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The session cookie; `token_hash` identifies the session row.
    Session { token_hash: String },
    /// A personal access token (`Authorization: Bearer`), by its id, with what it may do
    /// and when it expires.
    Token {
        id: String,
        scopes: Vec<TokenScope>,
        expires_at: Option<i64>,
    },
}

/// The scopes a stored token holds (written by us: a word we do not know is dropped).
pub fn parse_scopes(stored: &str) -> Vec<TokenScope> {
    let mut scopes: Vec<TokenScope> = stored
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

/// The signed-in account, as far as a request needs it: who, and what they may do. Never
/// the password hash or anything else secret of the account row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    /// The address is verified.
    pub verified: bool,
    pub created_at: i64,
}

impl Caller {
    /// The public view of the account, as the API and the UI show it.
    pub fn to_model(&self) -> model::User {
        model::User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            email_verified: self.verified,
            is_admin: self.is_admin,
            created_at: crate::to_time(self.created_at),
        }
    }
}

impl From<UserRecord> for Caller {
    fn from(user: UserRecord) -> Self {
        Self {
            verified: user.email_verified_at.is_some(),
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            is_admin: user.is_admin,
            created_at: user.created_at,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub caller: Caller,
    pub credential: Credential,
}

impl Principal {
    pub fn user_id(&self) -> &str {
        &self.caller.id
    }

    /// Whether the credential may do what `scope` covers: a browser session may do
    /// everything its account may; a token what its scopes say.
    pub fn may(&self, scope: TokenScope) -> bool {
        match &self.credential {
            Credential::Session { .. } => true,
            Credential::Token { scopes, .. } => scopes.contains(&scope),
        }
    }

    /// Administrators pass; anyone else is told the resource does not exist (404), like
    /// another person's resource.
    pub fn require_admin(&self) -> Result<(), super::ServiceError> {
        if self.caller.is_admin {
            Ok(())
        } else {
            Err(super::ServiceError::NotFound)
        }
    }

    /// The session hash, when the caller is a browser session.
    pub fn session_hash(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { token_hash } => Some(token_hash),
            Credential::Token { .. } => None,
        }
    }
}

/// The prefix of every personal access token, so that leaked tokens are recognisable (and
/// secret scanners can find them).
pub const TOKEN_PREFIX: &str = "avs_";

/// The account behind a live session: `None` when the account is gone or disabled.
pub async fn session_user(
    backend: &Backend,
    user_id: &str,
) -> Result<Option<Caller>, ServiceError> {
    let must_verify = backend.config.require_email_verification;
    Ok(users::find_by_id(&backend.db, user_id)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .filter(|u| !must_verify || u.email_verified_at.is_some())
        .map(Caller::from))
}

/// Checks a bearer token; `Unauthenticated` when it is unknown, expired or revoked.
pub async fn authenticate_token(backend: &Backend, token: &str) -> Result<Principal, ServiceError> {
    let refused = || {
        ServiceError::Unauthenticated(
            "This access token is not valid: it is wrong, expired or revoked.".to_owned(),
        )
    };
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(refused());
    }
    let Some(record) = api_tokens::find_live(&backend.db, &crypto::token_hash(token)).await? else {
        return Err(refused());
    };
    let Some(user) = session_user(backend, &record.user_id).await? else {
        return Err(refused());
    };
    api_tokens::touch(&backend.db, &record.id).await?;
    Ok(Principal {
        caller: user,
        credential: Credential::Token {
            scopes: parse_scopes(&record.scopes),
            expires_at: record.expires_at,
            id: record.id,
        },
    })
}

/// Whether the credential a long-lived connection was opened with still holds: the
/// session or token exists and has not expired, and the account is not deleted or
/// disabled.
/// Takes the database only: a connection holding it stays small.
pub async fn still_valid(db: &Db, principal: &Principal) -> Result<bool, ServiceError> {
    let credential = match &principal.credential {
        Credential::Session { token_hash } => sessions::find_live(db, token_hash).await?.is_some(),
        Credential::Token { id, .. } => api_tokens::is_live(db, id).await?,
    };
    Ok(credential
        && users::find_by_id(db, &principal.caller.id)
            .await?
            .is_some_and(|u| u.disabled_at.is_none()))
}

/// Whether a session row still exists and is live (for callers that hold a cookie value).
pub async fn session_is_live(backend: &Backend, token_hash: &str) -> Result<bool, ServiceError> {
    Ok(sessions::find_live(&backend.db, token_hash)
        .await?
        .is_some())
}
