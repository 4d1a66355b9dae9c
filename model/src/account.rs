//! Accounts, sessions, access tokens and provider keys (API.md, "Accounts" and "Provider
//! keys"). Types that carry a password, a token or an API key print it as `***`.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Prints `***` for a secret field in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    #[cfg_attr(feature = "openapi", schema(format = Email, max_length = 254))]
    pub email: String,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 1024))]
    pub password: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 80))]
    pub display_name: Option<String>,
    /// The token of an invitation link (`/signup?invite=…`), needed when the instance
    /// takes new accounts by invitation only.
    #[serde(default)]
    pub invitation: Option<String>,
}

impl fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupRequest")
            .field("email", &self.email)
            .field("password", &Redacted)
            .field("display_name", &self.display_name)
            .field("invitation", &self.invitation.as_ref().map(|_| Redacted))
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &Redacted)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotPasswordRequest {
    #[cfg_attr(feature = "openapi", schema(format = Email, max_length = 254))]
    pub email: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetPasswordRequest {
    /// The token from the link in the reset email.
    pub token: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 1024))]
    pub password: String,
}

impl fmt::Debug for ResetPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetPasswordRequest")
            .field("token", &Redacted)
            .field("password", &Redacted)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyEmailRequest {
    /// The token from the link in the verification email.
    pub token: String,
}

impl fmt::Debug for VerifyEmailRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyEmailRequest")
            .field("token", &Redacted)
            .finish()
    }
}

/// `DELETE /api/v1/me`: the password confirms it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteAccountRequest {
    pub password: String,
}

impl fmt::Debug for DeleteAccountRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteAccountRequest")
            .field("password", &Redacted)
            .finish()
    }
}

/// `PATCH /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    /// Empty or absent clears it.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `POST /api/v1/me/password`: every other session ends.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 1024))]
    pub new_password: String,
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("current_password", &Redacted)
            .field("new_password", &Redacted)
            .finish()
    }
}

/// One signed-in browser (`GET /api/v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub last_seen_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    /// The address it signed in from (behind a trusted proxy, the client's).
    #[serde(default)]
    pub ip: Option<String>,
    /// The session that made this request.
    pub current: bool,
}

/// A personal access token, without the token (`GET /api/v1/tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    /// What the token may do.
    #[serde(default)]
    pub scopes: Vec<TokenScope>,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(default, with = "crate::timestamp::option")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::timestamp::option")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    pub name: String,
    /// 1 to 3650; absent: the token does not expire.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3650))]
    pub expires_in_days: Option<u32>,
    /// What it may do; absent: `read`, `generate` and `write`.
    #[serde(default)]
    pub scopes: Option<Vec<TokenScope>>,
}

/// What a personal access token may do. Every endpoint needs one: reading needs `read`;
/// starting, regenerating and canceling generations `generate`; any other change
/// `write`; the administrators' endpoints `admin` (and an administrator's account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Read,
    Generate,
    Write,
    Admin,
}

string_enum!(TokenScope, "a token scope", {
    Read => "read",
    Generate => "generate",
    Write => "write",
    Admin => "admin",
});

impl TokenScope {
    /// What a token may do when its maker does not say.
    pub const DEFAULT: [TokenScope; 3] =
        [TokenScope::Read, TokenScope::Generate, TokenScope::Write];
}

/// `POST /api/v1/tokens`: the only time the token itself is shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// Use as `Authorization: Bearer <token>`. Shown once; store it now.
    pub token: String,
}

impl fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedToken")
            .field("info", &self.info)
            .field("token", &Redacted)
            .finish()
    }
}

/// The providers that take a personal API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyProvider {
    Openai,
    Gemini,
}

impl KeyProvider {
    pub const ALL: [Self; 2] = [Self::Openai, Self::Gemini];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Gemini => "gemini",
        }
    }

    /// The name people know it by.
    pub fn label(self) -> &'static str {
        match self {
            Self::Openai => "OpenAI",
            Self::Gemini => "Google Gemini",
        }
    }
}

impl fmt::Display for KeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyProvider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openai" => Ok(Self::Openai),
            "gemini" => Ok(Self::Gemini),
            other => Err(format!(
                "'{}' is not a provider that takes a key: use openai or gemini",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

impl TryFrom<String> for KeyProvider {
    type Error = crate::UnknownValue;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse().map_err(crate::UnknownValue)
    }
}

/// A stored provider key, as far as anyone may see it (`GET /api/v1/provider-keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderKeyInfo {
    pub provider: KeyProvider,
    /// The last four characters of the key: all that is ever shown of it.
    pub last4: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PutProviderKeyRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 512))]
    pub api_key: String,
}

impl fmt::Debug for PutProviderKeyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutProviderKeyRequest")
            .field("api_key", &Redacted)
            .finish()
    }
}

/// `POST /api/v1/provider-keys/{provider}/test` when the provider accepted the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyTestResult {
    pub ok: bool,
}

/// `{"items": [...], "next_cursor": null | "..."}` (API.md, "Lists").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_in_debug_output() {
        let req = SignupRequest {
            email: "ann@example.com".into(),
            password: "hunter2hunter2".into(),
            display_name: None,
            invitation: Some("invite-token-secret".into()),
        };
        assert!(!format!("{req:?}").contains("hunter2"));
        assert!(!format!("{req:?}").contains("invite-token-secret"));
        let key = PutProviderKeyRequest {
            api_key: "sk-secret-value".into(),
        };
        assert!(!format!("{key:?}").contains("sk-secret"));
    }

    #[test]
    fn providers_parse_and_serialise_lowercase() {
        assert_eq!("gemini".parse::<KeyProvider>(), Ok(KeyProvider::Gemini));
        assert!("builtin".parse::<KeyProvider>().is_err());
        assert_eq!(
            serde_json::to_value(KeyProvider::Openai).unwrap(),
            serde_json::json!("openai")
        );
    }
}

/// `POST /api/v1/auth/signup` with `REQUIRE_EMAIL_VERIFICATION=true`: the same answer
/// whether the address was new or taken (202); the mailbox's owner gets the next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupAccepted {
    pub message: String,
}

/// A sign-up invitation (administrators: `/api/v1/admin/invitations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: String,
    /// What the administrator noted about whom it is for.
    pub note: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub expires_at: DateTime<Utc>,
    /// The link to hand out: only in the answer that created it (it is not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `POST /api/v1/admin/invitations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateInvitationRequest {
    /// Whom it is for (at most 200 characters), shown in the list.
    #[serde(default)]
    pub note: Option<String>,
    /// Days until it expires: 1 to 90, default 7.
    #[serde(default)]
    pub days: Option<u32>,
}

/// What an account may use (`0`: no limit). The instance's defaults
/// (`QUOTA_IMAGES_PER_DAY`, `QUOTA_ACTIVE_JOBS`, `QUOTA_STORAGE_BYTES`), or an
/// administrator's settings for that account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quota {
    /// Images generated in any 24 hours.
    pub images_per_day: u32,
    /// Jobs queued or running at once.
    pub active_jobs: u32,
    /// Bytes of stored images (uploads, imports, generated images, the trash).
    pub storage_bytes: u64,
}

/// An account's use of its quota (`GET /api/v1/me/usage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// Images generated in the last 24 hours.
    pub images_today: u64,
    pub active_jobs: u64,
    pub storage_bytes: u64,
    /// The limits that apply.
    pub quota: Quota,
    /// Whether an administrator set this account's limits (else the instance's defaults).
    pub custom: bool,
}

/// `PUT /api/v1/admin/accounts/{id}/quota`: an account's own limits; a field left out
/// (or null) follows the instance's default. `0` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaSettings {
    #[serde(default)]
    pub images_per_day: Option<u32>,
    #[serde(default)]
    pub active_jobs: Option<u32>,
    #[serde(default)]
    pub storage_bytes: Option<u64>,
}

/// One account as administrators see it: who, and how much it uses
/// (`GET /api/v1/admin/accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountUsage {
    pub id: String,
    pub email: String,
    pub is_admin: bool,
    pub usage: Usage,
    /// The account's own limits, where set.
    pub settings: QuotaSettings,
}
