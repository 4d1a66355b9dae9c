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
/// Each variant named once for both serde and miniserde (which reads `rename` only).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    miniserde::Serialize,
    miniserde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignupMode {
    /// Anyone.
    #[default]
    #[serde(rename = "open")]
    Open,
    /// Whoever holds an invitation an administrator made.
    #[serde(rename = "invite")]
    Invite,
    /// Nobody: accounts are made with `avatar-studio user create`.
    #[serde(rename = "closed")]
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

/// What the home page and the sign-up page say about this instance. Every page carries it
/// in miniserde's JSON (`app::instance`), whose derive reads no `default`: every field is
/// always there.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    miniserde::Serialize,
    miniserde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceInfo {
    pub version: String,
    /// Providers that anyone who signs up can use without a personal key: the built-in
    /// one always; OpenAI and Gemini when the operator configured a server-wide key and
    /// lets every account use it (`SERVER_KEYS_FOR=all`).
    pub ready_providers: Vec<String>,
    /// Who may sign up.
    pub signup: SignupMode,
    /// The identity providers people may sign in with (`/auth/{name}/start`), in order.
    pub identity_providers: Vec<crate::IdentityProvider>,
    /// The largest file an upload or import may be (`MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: u64,
    /// How many files one upload request may carry (`MAX_UPLOAD_FILES`).
    pub max_upload_files: u32,
}

/// The values every page's first chunk decodes with miniserde (`app::instance`, the header's
/// signed-in person) are written by serde elsewhere (the server functions, the API): the
/// two must read each other's JSON.
#[cfg(test)]
mod miniserde_agrees_with_serde {
    use super::*;
    use crate::{IdentityProvider, Viewer};
    use std::fmt::Debug;

    fn both_ways<T>(value: &T)
    where
        T: Serialize
            + for<'de> Deserialize<'de>
            + miniserde::Serialize
            + miniserde::Deserialize
            + PartialEq
            + Debug,
    {
        let by_serde = serde_json::to_string(value).unwrap();
        let read: T = miniserde::json::from_str(&by_serde)
            .unwrap_or_else(|e| panic!("miniserde cannot read {by_serde}: {e:?}"));
        assert_eq!(&read, value, "{by_serde}");
        let by_miniserde = miniserde::json::to_string(value);
        let read: T = serde_json::from_str(&by_miniserde)
            .unwrap_or_else(|e| panic!("serde cannot read {by_miniserde}: {e}"));
        assert_eq!(&read, value, "{by_miniserde}");
    }

    #[test]
    fn on_the_instance_details_in_every_sign_up_mode() {
        for signup in [SignupMode::Open, SignupMode::Invite, SignupMode::Closed] {
            let info = InstanceInfo {
                version: "1.2.3".into(),
                ready_providers: vec!["builtin".into(), "openai".into()],
                signup,
                identity_providers: vec![IdentityProvider {
                    name: "corp".into(),
                    display_name: "Corp \"SSO\" — é".into(),
                }],
                max_upload_bytes: 20 * 1024 * 1024 * 1024,
                max_upload_files: 20,
            };
            both_ways(&info);
            both_ways(&Some(info));
        }
        both_ways(&None::<InstanceInfo>);
        // The mode's words are the API's (`SIGNUP`), whichever side writes them.
        assert_eq!(
            miniserde::json::to_string(&SignupMode::Invite),
            "\"invite\""
        );
    }

    #[test]
    fn on_the_signed_in_person_or_nobody() {
        let viewer = Viewer {
            id: "u1".into(),
            email: "ada@example.com".into(),
            display_name: Some("Ada\n<Lovelace>".into()),
            email_verified: true,
            is_admin: false,
        };
        both_ways(&Some(viewer.clone()));
        both_ways(&Some(Viewer {
            display_name: None,
            ..viewer
        }));
        both_ways(&None::<Viewer>);
    }
}
