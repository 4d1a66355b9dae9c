//! GitHub's OAuth apps (not OpenID Connect): the authorization code flow with PKCE by the
//! `oauth2` crate, then who the person is from its REST API (`GET /user`) and which
//! its primary address is, and whether GitHub verified it (`GET /user/emails`).

use oauth2::{
    basic::BasicClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{oidc::error_chain, Authorization, IdentityError, VerifiedIdentity};
use crate::config::{GithubSettings, GITHUB};

fn unavailable(cause: impl std::fmt::Display) -> IdentityError {
    IdentityError::Unavailable {
        provider: GITHUB.to_owned(),
        cause: cause.to_string(),
    }
}

/// `base` joined with `path`, keeping the base's own path (GitHub Enterprise serves its
/// API under `/api/v3`).
fn endpoint(base: &url::Url, path: &str) -> url::Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path).expect("a relative path joins")
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(settings: &GithubSettings, redirect: &url::Url) -> Client {
    BasicClient::new(ClientId::new(settings.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            settings.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(AuthUrl::from_url(endpoint(
            &settings.web_url,
            "login/oauth/authorize",
        )))
        .set_token_uri(TokenUrl::from_url(endpoint(
            &settings.web_url,
            "login/oauth/access_token",
        )))
        // GitHub takes the client's credentials in the form, as its documentation shows.
        .set_auth_type(AuthType::RequestBody)
        .set_redirect_uri(RedirectUrl::from_url(redirect.clone()))
}

pub(super) fn authorize(
    settings: &GithubSettings,
    redirect: &url::Url,
) -> Result<Authorization, IdentityError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client(settings, redirect)
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read:user".to_owned()))
        .add_scope(Scope::new("user:email".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(Authorization {
        url,
        state: state.secret().clone(),
        // GitHub has no ID token: nothing to bind a nonce to.
        nonce: String::new(),
        pkce_verifier: verifier.secret().clone(),
    })
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct UserEmail {
    email: String,
    primary: bool,
    verified: bool,
}

async fn get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: url::Url,
    token: &str,
) -> Result<T, IdentityError> {
    let response = http
        .get(url.clone())
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(|e| unavailable(error_chain(&e)))?;
    if !response.status().is_success() {
        return Err(unavailable(format!(
            "GET {} answered {}",
            url.path(),
            response.status()
        )));
    }
    response
        .json()
        .await
        .map_err(|e| unavailable(format!("GET {}: {}", url.path(), error_chain(&e))))
}

pub(super) async fn finish(
    settings: &GithubSettings,
    http: &reqwest::Client,
    code: String,
    redirect: &url::Url,
    pkce_verifier: String,
) -> Result<VerifiedIdentity, IdentityError> {
    let token = client(settings, redirect)
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
        .request_async(http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(answer) => IdentityError::CodeRefused {
                provider: GITHUB.to_owned(),
                cause: answer.error().to_string(),
            },
            // GitHub answers a refused code with 200 and an error object, which is no
            // token: the same refusal.
            RequestTokenError::Parse(_, body)
                if serde_json::from_slice::<serde_json::Value>(&body)
                    .is_ok_and(|v| v.get("error").is_some()) =>
            {
                IdentityError::CodeRefused {
                    provider: GITHUB.to_owned(),
                    cause: "the code was refused".to_owned(),
                }
            }
            other => unavailable(error_chain(&other)),
        })?;
    let access = token.access_token().secret();
    let user: User = get(http, endpoint(&settings.api_url, "user"), access).await?;
    let emails: Vec<UserEmail> =
        get(http, endpoint(&settings.api_url, "user/emails"), access).await?;
    // The primary address, and whether GitHub verified it.
    let primary = emails.iter().find(|e| e.primary);
    Ok(VerifiedIdentity {
        subject: user.id.to_string(),
        email: primary.map(|e| e.email.clone()),
        email_verified: primary.is_some_and(|e| e.verified),
        name: user
            .name
            .filter(|n| !n.trim().is_empty())
            .or(Some(user.login)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enterprise_api_keeps_its_path() {
        let api = url::Url::parse("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(
            endpoint(&api, "user").as_str(),
            "https://ghe.example.com/api/v3/user"
        );
        let public = url::Url::parse("https://api.github.com").unwrap();
        assert_eq!(
            endpoint(&public, "user/emails").as_str(),
            "https://api.github.com/user/emails"
        );
    }
}
