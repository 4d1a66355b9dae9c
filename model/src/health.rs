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

/// What the home page says about this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceInfo {
    pub version: String,
    /// Providers that can be used without a personal key (the built-in one always,
    /// OpenAI and Gemini when the operator configured a server-wide key).
    pub ready_providers: Vec<String>,
}
