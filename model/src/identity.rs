//! Sign-in through identity providers: the providers a page offers, the identities linked
//! to an account, and why a sign-in through a provider did not sign anyone in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A configured identity provider, as the sign-in page shows it.
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
pub struct IdentityProvider {
    /// In the paths `/auth/{name}/start` and `/auth/{name}/callback`.
    pub name: String,
    pub display_name: String,
}

/// An identity linked to the account (Settings → Sign-in methods).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    pub id: String,
    pub provider: String,
    pub display_name: String,
    /// The address the provider gave at the last sign-in.
    pub email: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::timestamp")]
    pub last_used_at: DateTime<Utc>,
}

/// The account's ways to sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SignInMethods {
    pub has_password: bool,
    pub identities: Vec<LinkedIdentity>,
    /// The configured providers not linked yet.
    pub available: Vec<IdentityProvider>,
}

/// Why a sign-in through a provider ended on the sign-in page instead of signed in. The
/// callback names it in the page's address (`/login?error=…`), so that the page can say
/// it in words and nobody can put their own words there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInProblem {
    /// The person cancelled at the provider, or it refused (`error=access_denied`).
    Denied,
    /// The callback matches no sign-in this browser started, or it is too old or used.
    Expired,
    /// The provider's answer did not pass our checks (code, ID token).
    Failed,
    /// The provider could not be reached.
    Unavailable,
    /// No account for this identity, and this instance makes none from this provider.
    SignupClosed,
    /// An account has the address, which the provider does not vouch for.
    AddressTaken,
    /// The identity is linked to another account.
    IdentityTaken,
    /// A new account needs an address, and the provider gave none.
    NoEmail,
    /// The account is disabled.
    Disabled,
    /// A new account was made; its address must be confirmed before it is used.
    CheckMail,
    /// The account's address is not confirmed yet (`REQUIRE_EMAIL_VERIFICATION`).
    Unconfirmed,
    /// Too many sign-ins started from this network in the last minute.
    TooMany,
}

string_enum!(SignInProblem, "a sign-in problem", {
    Denied => "denied",
    Expired => "expired",
    Failed => "failed",
    Unavailable => "unavailable",
    SignupClosed => "signup_closed",
    AddressTaken => "address_taken",
    IdentityTaken => "identity_taken",
    NoEmail => "no_email",
    Disabled => "disabled",
    CheckMail => "check_mail",
    Unconfirmed => "unconfirmed",
    TooMany => "too_many",
});

impl SignInProblem {
    /// What the page says.
    pub fn message(self) -> &'static str {
        match self {
            Self::Denied => {
                "The sign-in was cancelled at the identity provider, or it said no. Nothing \
                 was changed."
            }
            Self::Expired => {
                "That sign-in was already used, has expired, or was started in another \
                 browser. Please start again."
            }
            Self::Failed => {
                "The identity provider's answer did not pass our checks, so nobody was signed \
                 in. Please try again; if it keeps happening, tell your administrator."
            }
            Self::Unavailable => {
                "The identity provider cannot be reached right now. Please try again in a \
                 moment."
            }
            Self::SignupClosed => {
                "There is no account for this identity, and new accounts cannot be made here \
                 without an invitation. Ask an administrator, or sign in to your account and \
                 link the provider in Settings."
            }
            Self::AddressTaken => {
                "An account with this email address already exists, and the identity \
                 provider has not verified the address, so it was not linked. Sign in with \
                 your password, then link the provider in Settings → Sign-in methods."
            }
            Self::IdentityTaken => {
                "This identity is already linked to another account. Sign in with it there, \
                 or unlink it from that account first."
            }
            Self::NoEmail => {
                "The identity provider did not give us an email address, which a new account \
                 needs. Allow access to your address at the provider, or sign up with a \
                 password."
            }
            Self::Disabled => "This account is disabled. Ask an administrator.",
            Self::Unconfirmed => {
                "Confirm your email address first: open the link we sent you. Lost it? \
                 \"Forgot your password?\" sends a new link that confirms it too."
            }
            Self::TooMany => {
                "Too many sign-ins were started from your network in the last minute. Please \
                 wait a moment and try again."
            }
            Self::CheckMail => {
                "Your account is made. Check your inbox and confirm your address, then sign \
                 in again."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_reads_back_from_its_code_and_says_something() {
        for problem in SignInProblem::ALL {
            assert_eq!(problem.as_str().parse::<SignInProblem>(), Ok(*problem));
            assert!(problem.message().ends_with('.'), "{problem}");
        }
        assert!("<script>".parse::<SignInProblem>().is_err());
    }
}
