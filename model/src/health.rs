use serde::{Deserialize, Serialize};

/// The body of `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when every check passed, `unavailable` otherwise.
    pub status: String,
    /// The individual checks (empty for `/healthz`, which only says the process is up).
    #[serde(default)]
    pub checks: Vec<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCheck {
    /// `database` or `storage`.
    pub name: String,
    pub ok: bool,
    /// How long the check took, in milliseconds.
    pub latency_ms: u64,
    /// Why the check failed, in words an operator can act on (never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Who may create an account (`SIGNUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SignupMode {
    /// Anyone.
    #[default]
    Open,
    /// Whoever holds an invitation an administrator made.
    Invite,
    /// Nobody: accounts are made with `avatar-studio user create`.
    Closed,
}

string_enum!(SignupMode, "a sign-up mode", {
    Open => "open",
    Invite => "invite",
    Closed => "closed",
});

/// Whose generations may use the server-wide provider keys (`SERVER_KEYS_FOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ServerKeysFor {
    /// Administrators only.
    #[default]
    Admins,
    /// Accounts whose email address is verified, and administrators.
    Verified,
    /// Every account.
    All,
    /// Nobody: everyone brings their own key.
    None,
}

string_enum!(ServerKeysFor, "a group of accounts", {
    Admins => "admins",
    Verified => "verified",
    All => "all",
    None => "none",
});

impl ServerKeysFor {
    /// Whether an account may use the server-wide keys.
    pub fn allows(self, is_admin: bool, verified: bool) -> bool {
        match self {
            Self::Admins => is_admin,
            Self::Verified => is_admin || verified,
            Self::All => true,
            Self::None => false,
        }
    }
}

/// What the home page and the sign-up page say about this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceInfo {
    pub version: String,
    /// Providers that anyone who signs up can use without a personal key: the built-in
    /// one always; OpenAI and Gemini when the operator configured a server-wide key and
    /// lets every account use it (`SERVER_KEYS_FOR=all`).
    pub ready_providers: Vec<String>,
    /// Who may sign up.
    #[serde(default)]
    pub signup: SignupMode,
    /// The identity providers people may sign in with (`/auth/{name}/start`), in order.
    #[serde(default)]
    pub identity_providers: Vec<crate::IdentityProvider>,
    /// The largest file an upload or import may be (`MAX_UPLOAD_BYTES`).
    #[serde(default)]
    pub max_upload_bytes: u64,
    /// How many files one upload request may carry (`MAX_UPLOAD_FILES`).
    #[serde(default)]
    pub max_upload_files: u32,
}
