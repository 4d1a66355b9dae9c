//! One OpenID Connect provider: its discovery document and keys (cached for an hour, read
//! again at once when an ID token is signed with a key we do not have), the authorization
//! request with PKCE (S256), state and nonce, and the code exchange with the ID token's
//! checks — signature, issuer, audience, expiry, nonce and `at_hash` — by `openidconnect`.

use std::time::{Duration, Instant};

use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims},
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse,
};
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, RwLock};

use super::{Authorization, IdentityError, VerifiedIdentity};
use crate::config::OidcSettings;

/// How long a discovery document and its keys are used before they are read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

pub(super) struct OidcProvider {
    pub(super) settings: OidcSettings,
    cached: RwLock<Option<(CoreProviderMetadata, Instant)>>,
    /// One discovery at a time: the others wait for its result.
    refreshing: Mutex<()>,
}

impl OidcProvider {
    pub(super) fn new(settings: OidcSettings) -> Self {
        Self {
            settings,
            cached: RwLock::new(None),
            refreshing: Mutex::new(()),
        }
    }

    fn unavailable(&self, cause: impl std::fmt::Display) -> IdentityError {
        IdentityError::Unavailable {
            provider: self.settings.name.clone(),
            cause: cause.to_string(),
        }
    }

    fn bad_token(&self, cause: impl std::fmt::Display) -> IdentityError {
        IdentityError::BadToken {
            provider: self.settings.name.clone(),
            cause: cause.to_string(),
        }
    }

    /// The discovered authorization endpoint's origin, if discovered.
    pub(super) fn authorization_origin(&self) -> Option<String> {
        let cached = self.cached.try_read().ok()?;
        let (metadata, _) = cached.as_ref()?;
        Some(
            metadata
                .authorization_endpoint()
                .url()
                .origin()
                .ascii_serialization(),
        )
    }

    pub(super) fn is_discovered(&self) -> bool {
        self.cached.try_read().is_ok_and(|c| c.is_some())
    }

    /// Reads the discovery document and the keys now; says what was found.
    pub(super) async fn refresh(&self, http: &reqwest::Client) -> Result<String, IdentityError> {
        let _one = self.refreshing.lock().await;
        let issuer =
            IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| self.unavailable(e))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|e| self.unavailable(error_chain(&e)))?;
        let found = format!(
            "issuer {}, {} signing key(s), authorization at {}",
            metadata.issuer().as_str(),
            metadata.jwks().keys().len(),
            metadata.authorization_endpoint().as_str()
        );
        *self.cached.write().await = Some((metadata, Instant::now()));
        Ok(found)
    }

    /// The cached metadata, read again when it is old or missing (an old copy is used
    /// when the provider cannot be reached).
    async fn metadata(
        &self,
        http: &reqwest::Client,
    ) -> Result<CoreProviderMetadata, IdentityError> {
        if let Some((metadata, at)) = self.cached.read().await.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(metadata.clone());
            }
        }
        match self.refresh(http).await {
            Ok(_) => {}
            Err(e) => {
                if let Some((metadata, _)) = self.cached.read().await.as_ref() {
                    tracing::warn!(error = %e, "using the identity provider's older metadata");
                    return Ok(metadata.clone());
                }
                return Err(e);
            }
        }
        self.cached
            .read()
            .await
            .as_ref()
            .map(|(m, _)| m.clone())
            .ok_or_else(|| self.unavailable("no metadata after discovery"))
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
        redirect: &url::Url,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(RedirectUrl::from_url(redirect.clone()))
    }

    pub(super) async fn authorize(
        &self,
        http: &reqwest::Client,
        redirect: &url::Url,
    ) -> Result<Authorization, IdentityError> {
        let client = self.client(self.metadata(http).await?, redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    pub(super) async fn finish(
        &self,
        http: &reqwest::Client,
        code: String,
        redirect: &url::Url,
        nonce: String,
        pkce_verifier: String,
    ) -> Result<VerifiedIdentity, IdentityError> {
        let mut client = self.client(self.metadata(http).await?, redirect);
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| self.unavailable(e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => IdentityError::CodeRefused {
                    provider: self.settings.name.clone(),
                    cause: answer.error().to_string(),
                },
                other => self.unavailable(error_chain(&other)),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| self.bad_token("the token response has no ID token"))?;
        let nonce = Nonce::new(nonce);
        let unknown_key = matches!(
            id_token.claims(&client.id_token_verifier(), &nonce),
            Err(ClaimsVerificationError::SignatureVerification(_))
        );
        if unknown_key {
            // Perhaps the provider rotated its keys: read them again, once.
            self.refresh(http).await?;
            client = self.client(self.metadata(http).await?, redirect);
        }
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| self.bad_token(e))?;
        if let Some(expected) = claims.access_token_hash() {
            let actual = AccessTokenHash::from_token(
                response.access_token(),
                id_token.signing_alg().map_err(|e| self.bad_token(e))?,
                id_token
                    .signing_key(&verifier)
                    .map_err(|e| self.bad_token(e))?,
            )
            .map_err(|e| self.bad_token(e))?;
            if actual != *expected {
                return Err(self.bad_token("at_hash does not match the access token"));
            }
        }
        let mut identity = VerifiedIdentity {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        };
        // Many providers put the address only in the user info (code flow).
        if identity.email.is_none() {
            if let Ok(request) = client.user_info(
                response.access_token().clone(),
                Some(claims.subject().clone()),
            ) {
                let info: CoreUserInfoClaims = request
                    .request_async(http)
                    .await
                    .map_err(|e| self.unavailable(error_chain(&e)))?;
                identity.email = info.email().map(|e| e.as_str().to_owned());
                identity.email_verified = info.email_verified().unwrap_or(false);
                if identity.name.is_none() {
                    identity.name = info
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.as_str().to_owned());
                }
            }
        }
        Ok(identity)
    }
}

/// An error with its causes, for the log (the libraries' top-level messages are terse).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
