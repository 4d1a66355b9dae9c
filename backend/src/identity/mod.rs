//! The identity providers people sign in with: OpenID Connect providers (discovery, the
//! authorization request, the code exchange and the ID token's checks, all by the
//! `openidconnect` crate) and GitHub's OAuth apps (`oauth2`, then its user API). This
//! module speaks to the providers; `services::identities` decides what a sign-in does.
//!
//! The providers are configured by the operator, so their URLs are trusted like the image
//! providers' base URLs; the HTTP client follows no redirects (the libraries' advice
//! against SSRF) and has the outbound time limit.

mod github;
mod oidc;

use std::{sync::Arc, time::Duration};

use crate::config::{IdentitySettings, GITHUB};

/// What the browser is sent to the provider with, and what the callback needs to finish.
/// The nonce and the PKCE verifier never leave the server.
#[derive(Debug)]
pub struct Authorization {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The person the provider vouched for, once every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable id of the person (`sub`; GitHub's numeric id).
    pub subject: String,
    pub email: Option<String>,
    /// The provider says the address is the person's (`email_verified`; GitHub's
    /// verified primary address).
    pub email_verified: bool,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("no identity provider is called '{0}'")]
    Unknown(String),
    /// The provider could not be reached, or answered something that is not its protocol.
    #[error("{provider} is unavailable: {cause}")]
    Unavailable { provider: String, cause: String },
    /// The provider refused the code (expired, used, or not ours).
    #[error("{provider} refused the authorization code: {cause}")]
    CodeRefused { provider: String, cause: String },
    /// The ID token failed a check (signature, issuer, audience, expiry, nonce).
    #[error("{provider}'s ID token failed a check: {cause}")]
    BadToken { provider: String, cause: String },
}

/// Every configured provider, with the OIDC providers' discovered metadata cached.
#[derive(Clone)]
pub struct IdentityProviders {
    inner: Arc<Inner>,
}

struct Inner {
    settings: IdentitySettings,
    http: reqwest::Client,
    oidc: Vec<oidc::OidcProvider>,
}

impl std::fmt::Debug for IdentityProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProviders")
            .field("providers", &self.list())
            .finish_non_exhaustive()
    }
}

impl IdentityProviders {
    pub fn new(settings: IdentitySettings, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer send us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("avatar-studio/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let oidc = settings
            .oidc
            .iter()
            .cloned()
            .map(oidc::OidcProvider::new)
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                http,
                oidc,
            }),
        })
    }

    /// The configured providers, in order.
    pub fn list(&self) -> Vec<model::IdentityProvider> {
        self.inner.settings.providers()
    }

    /// The provider's display name, if it is configured.
    pub fn display_name(&self, name: &str) -> Option<String> {
        self.inner
            .settings
            .names()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d.to_owned())
    }

    /// Where a sign-in sends the browser: each issuer's origin, each discovered
    /// authorization endpoint's (it may be another host), and GitHub's — for the pages'
    /// Content-Security-Policy (`form-action`).
    pub fn form_origins(&self) -> Vec<String> {
        let mut origins = self.inner.settings.origins();
        for provider in &self.inner.oidc {
            if let Some(origin) = provider.authorization_origin() {
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        origins
    }

    /// Whether `iss` (a callback's RFC 9207 parameter) names the provider's issuer (GitHub
    /// has no issuer to compare).
    pub fn is_issuer(&self, name: &str, iss: &str) -> bool {
        self.oidc(name).map_or(true, |p| {
            p.settings.issuer.trim_end_matches('/') == iss.trim_end_matches('/')
        })
    }

    /// Whether the provider may create accounts when `SIGNUP` is not `open`.
    pub fn allows_signup(&self, name: &str) -> bool {
        if name == GITHUB {
            return self
                .inner
                .settings
                .github
                .as_ref()
                .is_some_and(|g| g.allow_signup);
        }
        self.oidc(name).is_ok_and(|p| p.settings.allow_signup)
    }

    fn oidc(&self, name: &str) -> Result<&oidc::OidcProvider, IdentityError> {
        self.inner
            .oidc
            .iter()
            .find(|p| p.settings.name == name)
            .ok_or_else(|| IdentityError::Unknown(name.to_owned()))
    }

    fn github(&self) -> Result<&crate::config::GithubSettings, IdentityError> {
        self.inner
            .settings
            .github
            .as_ref()
            .ok_or_else(|| IdentityError::Unknown(GITHUB.to_owned()))
    }

    /// Where to send the browser to sign in with `provider`, returning to `redirect`.
    pub async fn authorize(
        &self,
        provider: &str,
        redirect: &url::Url,
    ) -> Result<Authorization, IdentityError> {
        if provider == GITHUB {
            return github::authorize(self.github()?, redirect);
        }
        self.oidc(provider)?
            .authorize(&self.inner.http, redirect)
            .await
    }

    /// Exchanges the callback's code and checks what the provider says of the person.
    pub async fn finish(
        &self,
        provider: &str,
        code: String,
        redirect: &url::Url,
        nonce: String,
        pkce_verifier: String,
    ) -> Result<VerifiedIdentity, IdentityError> {
        if provider == GITHUB {
            return github::finish(
                self.github()?,
                &self.inner.http,
                code,
                redirect,
                pkce_verifier,
            )
            .await;
        }
        self.oidc(provider)?
            .finish(&self.inner.http, code, redirect, nonce, pkce_verifier)
            .await
    }

    /// Reads every OIDC provider's discovery document and keys, for `avatar-studio check`
    /// and at start-up: one line per provider saying what was found, or the error.
    pub async fn check(&self) -> Vec<(String, Result<String, IdentityError>)> {
        let mut out = Vec::new();
        for provider in &self.inner.oidc {
            let result = provider.refresh(&self.inner.http).await;
            out.push((provider.settings.name.clone(), result));
        }
        if let Some(github) = &self.inner.settings.github {
            out.push((
                GITHUB.to_owned(),
                Ok(format!(
                    "OAuth app at {} (API {}); nothing to discover",
                    github.web_url, github.api_url
                )),
            ));
        }
        out
    }

    /// Discovers every OIDC provider that is not discovered yet, again and again (with a
    /// growing pause, up to 5 minutes) until all are: a provider that is down at start-up
    /// is logged and tried again, and sign-ins with it also try on their own.
    pub async fn warm_up(&self) {
        let mut pause = Duration::from_secs(5);
        loop {
            let mut missing = 0;
            for provider in &self.inner.oidc {
                if provider.is_discovered() {
                    continue;
                }
                match provider.refresh(&self.inner.http).await {
                    Ok(found) => {
                        tracing::info!(provider = %provider.settings.name, %found, "identity provider discovered");
                    }
                    Err(e) => {
                        missing += 1;
                        tracing::warn!(error = %e, retry_in_secs = pause.as_secs(), "identity provider not reachable; sign-ins with it fail until it is");
                    }
                }
            }
            if missing == 0 {
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(300));
        }
    }
}
