//! A person's provider API keys: stored encrypted (see [`crate::crypto`]), shown only by
//! their last four characters, decrypted only in memory while a request to the provider
//! is made, and tested against the provider's cheapest authenticated endpoint.

use model::KeyProvider;
use secrecy::{ExposeSecret, SecretString};

use super::{accounts::to_time, auth::Principal, ServiceError};
use crate::{
    crypto::{Cipher, CryptoError},
    db::{provider_keys, provider_keys::ProviderKeyRecord, DbError},
    domain::FieldError,
    Backend,
};

/// The shortest and longest key we store; real keys are 39 (Gemini) to ~200 (OpenAI
/// project keys) characters.
const MIN_KEY_CHARS: usize = 8;
const MAX_KEY_CHARS: usize = 512;

/// What the ciphertext of a key is bound to: a row's value cannot be moved to another
/// person or provider.
fn context(user_id: &str, provider: KeyProvider) -> String {
    format!("provider-key:{user_id}:{}", provider.as_str())
}

fn info(r: &ProviderKeyRecord) -> model::ProviderKeyInfo {
    model::ProviderKeyInfo {
        provider: r.provider,
        last4: r.last4.clone(),
        created_at: to_time(r.created_at),
        updated_at: to_time(r.updated_at),
    }
}

fn parse_key(raw: &str) -> Result<SecretString, FieldError> {
    let key = raw.trim();
    let chars = key.chars().count();
    if chars < MIN_KEY_CHARS {
        return Err(FieldError::new(
            "api_key",
            "That is too short to be an API key. Paste the whole key.",
        ));
    }
    if chars > MAX_KEY_CHARS {
        return Err(FieldError::new(
            "api_key",
            format!("That is too long to be an API key (at most {MAX_KEY_CHARS} characters)."),
        ));
    }
    if !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(
            "api_key",
            "An API key has no spaces or special characters. Paste only the key.",
        ));
    }
    Ok(SecretString::from(key.to_owned()))
}

fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

pub async fn list(
    backend: &Backend,
    principal: &Principal,
) -> Result<Vec<model::ProviderKeyInfo>, ServiceError> {
    Ok(
        provider_keys::list_for_user(&backend.db, &principal.caller.id)
            .await?
            .iter()
            .map(info)
            .collect(),
    )
}

#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id, %provider))]
pub async fn put(
    backend: &Backend,
    principal: &Principal,
    provider: KeyProvider,
    api_key: &str,
) -> Result<model::ProviderKeyInfo, ServiceError> {
    let key = parse_key(api_key)?;
    let ciphertext = backend.security.cipher.encrypt(
        key.expose_secret(),
        &context(&principal.caller.id, provider),
    );
    let record = provider_keys::upsert(
        &backend.db,
        &principal.caller.id,
        provider.as_str(),
        &ciphertext,
        &last4(key.expose_secret()),
    )
    .await?;
    tracing::info!("provider key stored");
    Ok(info(&record))
}

pub async fn delete(
    backend: &Backend,
    principal: &Principal,
    provider: KeyProvider,
) -> Result<(), ServiceError> {
    if provider_keys::delete(&backend.db, &principal.caller.id, provider.as_str()).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The person's own key for a provider, decrypted. Keep the result only for the request
/// it is needed for.
pub async fn personal_key(
    backend: &Backend,
    user_id: &str,
    provider: KeyProvider,
) -> Result<Option<SecretString>, ServiceError> {
    Ok(personal_key_and_last4(backend, user_id, provider)
        .await?
        .map(|(key, _)| key))
}

/// The person's own key and its last four characters (what the spend ledger names it by).
async fn personal_key_and_last4(
    backend: &Backend,
    user_id: &str,
    provider: KeyProvider,
) -> Result<Option<(SecretString, String)>, ServiceError> {
    let Some(record) = provider_keys::find(&backend.db, user_id, provider.as_str()).await? else {
        return Ok(None);
    };
    let key = decrypt(&backend.security.cipher, &record).map_err(|e| {
        tracing::error!(%user_id, %provider, error = %e, "a stored provider key cannot be decrypted");
        ServiceError::Refused {
            code: "provider_key_unreadable",
            message: format!(
                "Your saved {} key cannot be read by this server (the server's \
                 ENCRYPTION_SECRET changed, or the data was altered). Enter the key again in \
                 Settings.",
                provider.label()
            ),
        }
    })?;
    Ok(Some((key, record.last4)))
}

/// The operator's key for a provider (`OPENAI_API_KEY`, `GEMINI_API_KEY`), if one is set
/// and `SERVER_KEYS_FOR` lets this account use it.
pub fn server_key(
    backend: &Backend,
    provider: KeyProvider,
    is_admin: bool,
    verified: bool,
) -> Option<SecretString> {
    if !backend.config.server_keys_for.allows(is_admin, verified) {
        return None;
    }
    match provider {
        KeyProvider::Openai => backend.config.openai_api_key.clone(),
        KeyProvider::Gemini => backend.config.gemini_api_key.clone(),
    }
}

/// A key a job runs with, and whose it is.
pub struct KeyUse {
    pub key: SecretString,
    pub source: model::KeySource,
    /// The last four characters of the person's own key.
    pub last4: Option<String>,
}

/// The key a job of `user_id` runs with: the person's own, else the server-wide one when
/// they may use it. `None` when there is neither.
pub async fn key_for(
    backend: &Backend,
    user_id: &str,
    provider: KeyProvider,
) -> Result<Option<KeyUse>, ServiceError> {
    if let Some((key, last4)) = personal_key_and_last4(backend, user_id, provider).await? {
        return Ok(Some(KeyUse {
            key,
            source: model::KeySource::Own,
            last4: Some(last4),
        }));
    }
    if server_key(backend, provider, true, true).is_none() {
        // No server-wide key at all (or nobody may use it): no need to read the account.
        return Ok(None);
    }
    let Some(user) = crate::db::users::find_by_id(&backend.db, user_id).await? else {
        return Ok(None);
    };
    Ok(server_key(
        backend,
        provider,
        user.is_admin,
        user.email_verified_at.is_some(),
    )
    .map(|key| KeyUse {
        key,
        source: model::KeySource::Server,
        last4: None,
    }))
}

pub fn decrypt(cipher: &Cipher, record: &ProviderKeyRecord) -> Result<SecretString, CryptoError> {
    cipher.decrypt(
        &record.ciphertext,
        &context(&record.user_id, record.provider),
    )
}

/// Calls the provider's cheapest authenticated endpoint with the stored key and says what
/// the provider answered, in words a person can act on.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id, %provider))]
pub async fn test(
    backend: &Backend,
    principal: &Principal,
    provider: KeyProvider,
) -> Result<(), ServiceError> {
    let key = personal_key(backend, &principal.caller.id, provider)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let request = match provider {
        KeyProvider::Openai => backend
            .external
            .http
            .get(format!(
                "{}/models",
                backend
                    .config
                    .openai_base_url
                    .as_str()
                    .trim_end_matches('/')
            ))
            .bearer_auth(key.expose_secret()),
        KeyProvider::Gemini => backend
            .external
            .http
            .get(format!(
                "{}/{}/models",
                backend
                    .config
                    .gemini_base_url
                    .as_str()
                    .trim_end_matches('/'),
                backend.config.gemini_api_version
            ))
            .header("x-goog-api-key", key.expose_secret()),
    };
    let response = request.send().await.map_err(|e| ServiceError::Refused {
        code: "provider_unreachable",
        message: format!(
            "{} could not be reached ({}). Check the server's network or {}_BASE_URL, then \
             try again.",
            provider.label(),
            describe_transport_error(&e),
            provider.as_str().to_uppercase()
        ),
    })?;
    let status = response.status();
    if status.is_success() {
        tracing::info!("provider accepted the key");
        return Ok(());
    }
    // The body is small and only read to explain the refusal; never more than 64 KiB.
    let body = read_limited(response, 64 * 1024).await;
    let explained = explain_refusal(provider, status.as_u16(), &body);
    tracing::info!(status = status.as_u16(), "provider refused the key");
    Err(ServiceError::Refused {
        code: explained.0,
        message: crate::providers::scrub_key(&explained.1, key.expose_secret()),
    })
}

fn describe_transport_error(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "it did not answer in time"
    } else if e.is_connect() {
        "the connection failed"
    } else {
        "the request failed"
    }
}

async fn read_limited(mut response: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The provider's error message, shortened, for quoting.
fn provider_message(body: &serde_json::Value) -> Option<String> {
    let m = body.pointer("/error/message")?.as_str()?;
    let short: String = m.chars().take(240).collect();
    Some(short)
}

/// `(code, sentence)` for a refusal, from the status and the provider's error body
/// (shared/reference/providers.md).
pub fn explain_refusal(provider: KeyProvider, status: u16, body: &str) -> (&'static str, String) {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let said = provider_message(&json)
        .map(|m| format!(" {} said: \"{m}\"", provider.label()))
        .unwrap_or_default();
    let code = json
        .pointer("/error/code")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    let gemini_reason = json
        .pointer("/error/details")
        .and_then(|d| d.as_array())
        .and_then(|details| {
            details
                .iter()
                .find_map(|d| d.get("reason").and_then(|r| r.as_str()))
        })
        .unwrap_or_default();
    let label = provider.label();
    match (provider, status) {
        (KeyProvider::Openai, 401) | (KeyProvider::Gemini, 401) => (
            "provider_key_rejected",
            format!(
                "{label} did not accept this key. Check that you pasted the whole key and that \
                 it has not been revoked, then save it again.{said}"
            ),
        ),
        (KeyProvider::Gemini, 400) if gemini_reason == "API_KEY_INVALID" => (
            "provider_key_rejected",
            format!(
                "{label} did not accept this key (API_KEY_INVALID). Create a key in Google AI \
                 Studio and paste it here.{said}"
            ),
        ),
        (_, 403) => (
            "provider_key_forbidden",
            format!(
                "{label} recognised the key but refused access: the key may be restricted, or \
                 the API is not enabled for its project.{said}"
            ),
        ),
        (KeyProvider::Openai, 429) if code == "insufficient_quota" => (
            "provider_quota_exhausted",
            format!(
                "The key is valid, but its {label} account has no quota left. Add credit in \
                 the billing settings, then try again.{said}"
            ),
        ),
        (_, 429) => (
            "provider_rate_limited",
            format!(
                "{label} is limiting requests for this key right now. Wait a minute and test \
                 again.{said}"
            ),
        ),
        (_, s) if s >= 500 => (
            "provider_unavailable",
            format!("{label} had a problem answering (HTTP {s}). Try again in a minute.{said}"),
        ),
        (_, s) => (
            "provider_key_refused",
            format!("{label} refused the request (HTTP {s}).{said}"),
        ),
    }
}

/// Re-encrypts every stored key from `old` to `new`, all or nothing. Fails, changing
/// nothing, when a key cannot be decrypted with `old`.
pub async fn reencrypt_all(
    db: &crate::Db,
    old: &Cipher,
    new: &Cipher,
) -> Result<usize, RotateError> {
    provider_keys::reencrypt_all(db, |row| {
        let plain = decrypt(old, row).map_err(|e| RotateError::Undecryptable {
            user_id: row.user_id.clone(),
            provider: row.provider,
            source: e,
        })?;
        Ok(new.encrypt(plain.expose_secret(), &context(&row.user_id, row.provider)))
    })
    .await?
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "the {provider} key of user {user_id} cannot be decrypted with the current secret \
         ({source}); nothing was changed"
    )]
    Undecryptable {
        user_id: String,
        provider: KeyProvider,
        #[source]
        source: CryptoError,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated_and_only_the_last_four_are_kept() {
        assert!(parse_key("short").is_err());
        assert!(parse_key("sk-with space-in-it").is_err());
        assert_eq!(
            parse_key("  sk-abcdefgh1234  ").unwrap().expose_secret(),
            "sk-abcdefgh1234"
        );
        assert_eq!(last4("sk-abcdefgh1234"), "1234");
    }

    #[test]
    fn refusals_are_explained_in_words_and_never_echo_the_key() {
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-live-SECRET.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let (code, msg) = explain_refusal(KeyProvider::Openai, 401, body);
        assert_eq!(code, "provider_key_rejected");
        assert!(msg.contains("did not accept this key"));
        assert!(!crate::providers::scrub_key(&msg, "sk-live-SECRET").contains("sk-live-SECRET"));

        let body = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
        let (code, msg) = explain_refusal(KeyProvider::Gemini, 400, body);
        assert_eq!(code, "provider_key_rejected");
        assert!(msg.contains("API_KEY_INVALID"));

        let body = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert_eq!(
            explain_refusal(KeyProvider::Openai, 429, body).0,
            "provider_quota_exhausted"
        );
        assert_eq!(
            explain_refusal(KeyProvider::Gemini, 503, "not json").0,
            "provider_unavailable"
        );
    }
}
