//! Abuse limits for sign-in, sign-up and password reset: `AUTH_RATE_LIMIT_PER_MINUTE`
//! attempts per client IP and per account, with the generic cell rate algorithm of the
//! `governor` crate (a burst of N, refilled evenly over a minute).

use std::{num::NonZeroU32, time::Duration};

use governor::{clock::Clock, clock::DefaultClock, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Above this many tracked keys, keys whose limit has fully recovered are dropped, so that
/// memory stays bounded whatever addresses and accounts are tried.
const MAX_TRACKED_KEYS: usize = 50_000;

pub struct AuthLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for AuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimiter")
            .field("tracked", &self.limiter.len())
            .finish()
    }
}

/// What is being attempted: each action has its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    SignUp,
    ForgotPassword,
    /// Password checks of a signed-in person (deleting the account).
    ConfirmPassword,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignUp => "sign_up",
            Self::ForgotPassword => "forgot_password",
            Self::ConfirmPassword => "confirm_password",
        }
    }
}

impl AuthLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt of `action` from `ip` on `account` (either may be absent).
    /// `Err(wait)` when either is over its limit: refuse, and say when to try again.
    pub fn check(
        &self,
        action: Action,
        ip: Option<&str>,
        account: Option<&str>,
    ) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED_KEYS {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let keys = [
            ip.map(|ip| format!("{}:ip:{ip}", action.as_str())),
            account.map(|a| format!("{}:account:{a}", action.as_str())),
        ];
        let mut wait = None::<Duration>;
        for key in keys.into_iter().flatten() {
            if let Err(not_until) = self.limiter.check_key(&key) {
                let w = not_until.wait_time_from(self.clock.now());
                wait = Some(wait.map_or(w, |prev| prev.max(w)));
            }
        }
        match wait {
            Some(w) => Err(w.max(Duration::from_secs(1))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_in_a_minute_is_refused_per_ip_and_per_account() {
        let limiter = AuthLimiter::new(10);
        for i in 0..10 {
            assert!(
                limiter
                    .check(Action::SignIn, Some("10.0.0.1"), Some("ann@example.com"))
                    .is_ok(),
                "attempt {i}"
            );
        }
        let wait = limiter
            .check(Action::SignIn, Some("10.0.0.1"), Some("ann@example.com"))
            .unwrap_err();
        assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(60));
        // The same account from another address: still limited (per account).
        assert!(limiter
            .check(Action::SignIn, Some("10.0.0.2"), Some("ann@example.com"))
            .is_err());
        // Another account from the first address: still limited (per IP).
        assert!(limiter
            .check(Action::SignIn, Some("10.0.0.1"), Some("bob@example.com"))
            .is_err());
        // Another account from another address, and another action: free.
        assert!(limiter
            .check(Action::SignIn, Some("10.0.0.3"), Some("cy@example.com"))
            .is_ok());
        assert!(limiter
            .check(
                Action::ForgotPassword,
                Some("10.0.0.1"),
                Some("ann@example.com")
            )
            .is_ok());
    }
}
