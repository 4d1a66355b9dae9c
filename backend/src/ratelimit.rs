//! Abuse limits for signing in, signing up, password resets and verification mails:
//! `AUTH_RATE_LIMIT_PER_MINUTE` attempts per client and per account, refilled evenly over
//! a minute (the generic cell rate algorithm, GCRA: a burst of N, then one every 60/N s).
//!
//! - A client is its address, or for IPv6 its /64: one household or server holds a whole
//!   /64, so counting single addresses would let it try 2^64 times.
//! - An attempt is taken before it is tried, so that a burst of parallel attempts cannot
//!   slip past the limit; one that turns out not to count (a successful sign-in) is
//!   given back, so that a busy office signing in all morning is never locked out while a
//!   guesser is.
//! - With SQLite (one process) the allowance lives in memory; with PostgreSQL it lives in
//!   the database (`db::rate_limits`), one atomic statement per key, so that every
//!   server process draws on the same allowance instead of multiplying it.
//!
//! (The `governor` crate, used before, can neither give a cell back nor share its state
//! between processes; GCRA itself is a few lines, the same in memory and in SQL.)

use std::{collections::HashMap, net::IpAddr, sync::Mutex, time::Duration};

use crate::{
    db::{self, Db, DbError},
    now_ms,
};

/// Above this many keys in memory, keys that have fully recovered are dropped, so that
/// memory stays bounded whatever addresses and accounts are tried.
const MAX_TRACKED_KEYS: usize = 50_000;

/// What is being attempted: each action has its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    SignUp,
    ForgotPassword,
    ResendVerification,
    /// Password checks of a signed-in person (deleting the account).
    ConfirmPassword,
    /// Sign-ins started with an identity provider (each keeps a row for 15 minutes).
    IdentityStart,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignUp => "sign_up",
            Self::ForgotPassword => "forgot_password",
            Self::ResendVerification => "resend_verification",
            Self::ConfirmPassword => "confirm_password",
            Self::IdentityStart => "identity_start",
        }
    }
}

/// The part of a client's address it is limited under (see the module's note).
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, 64)
            .map_or_else(|_| v6.to_string(), |net| net.trunc().to_string()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Over the limit: try again after this long.
    #[error("too many attempts; try again in {0:?}")]
    Limited(Duration),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Attempts taken from the allowance, to give back if they turn out not to count.
#[derive(Debug)]
#[must_use = "give the attempts back when they do not count, or drop them"]
pub struct Taken(Vec<String>);

enum Store {
    Memory(Mutex<HashMap<String, i64>>),
    Shared(Db),
}

pub struct Limiter {
    /// What one attempt costs, in ms.
    interval: i64,
    /// The most outstanding at once: `interval × burst`.
    capacity: i64,
    store: Store,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = match &self.store {
            Store::Memory(keys) => format!("memory ({} keys)", keys.lock().map_or(0, |k| k.len())),
            Store::Shared(_) => "database".to_owned(),
        };
        f.debug_struct("Limiter")
            .field("interval_ms", &self.interval)
            .field("store", &store)
            .finish()
    }
}

impl Limiter {
    fn with_store(per_minute: u32, store: Store) -> Self {
        let burst = i64::from(per_minute.max(1));
        let interval = (60_000 + burst - 1) / burst;
        Self {
            interval,
            capacity: interval * burst,
            store,
        }
    }

    /// Limits kept in this process's memory.
    pub fn in_memory(per_minute: u32) -> Self {
        Self::with_store(per_minute, Store::Memory(Mutex::new(HashMap::new())))
    }

    /// Limits kept in the database, shared by every process using it.
    pub fn shared(per_minute: u32, db: Db) -> Self {
        Self::with_store(per_minute, Store::Shared(db))
    }

    /// The store the server uses with `db`: shared with PostgreSQL (several processes may
    /// serve one database), in memory with SQLite (one process).
    pub fn for_database(per_minute: u32, db: &Db) -> Self {
        if db.dialect() == db::Dialect::Postgres {
            Self::shared(per_minute, db.clone())
        } else {
            Self::in_memory(per_minute)
        }
    }

    /// Takes one attempt of `action` from the client's and from the account's allowance
    /// (either may be absent). When either is spent nothing is taken, and the error says
    /// how long to wait.
    pub async fn take(
        &self,
        action: Action,
        client: Option<IpAddr>,
        account: Option<&str>,
    ) -> Result<Taken, LimitError> {
        let keys = [
            client.map(|ip| format!("{}:client:{}", action.as_str(), client_key(ip))),
            account.map(|a| format!("{}:account:{a}", action.as_str())),
        ];
        let mut taken = Vec::new();
        for key in keys.into_iter().flatten() {
            match self.take_key(&key).await {
                Ok(None) => taken.push(key),
                Ok(Some(wait)) => {
                    self.give_back(Taken(taken)).await?;
                    return Err(LimitError::Limited(wait.max(Duration::from_secs(1))));
                }
                Err(e) => {
                    self.give_back(Taken(taken)).await?;
                    return Err(e.into());
                }
            }
        }
        Ok(Taken(taken))
    }

    /// Gives attempts back: they did not count.
    pub async fn give_back(&self, taken: Taken) -> Result<(), DbError> {
        for key in taken.0 {
            match &self.store {
                Store::Memory(keys) => {
                    if let Some(tat) = lock(keys).get_mut(&key) {
                        *tat -= self.interval;
                    }
                }
                Store::Shared(db) => db::rate_limits::give_back(db, &key, self.interval).await?,
            }
        }
        Ok(())
    }

    /// `None` when taken, else how long until it would be.
    async fn take_key(&self, key: &str) -> Result<Option<Duration>, DbError> {
        let now = now_ms();
        let refused_until = match &self.store {
            Store::Memory(keys) => {
                let mut keys = lock(keys);
                if keys.len() > MAX_TRACKED_KEYS {
                    keys.retain(|_, tat| *tat > now);
                }
                let tat = keys.get(key).copied().unwrap_or(now).max(now) + self.interval;
                if tat - now <= self.capacity {
                    keys.insert(key.to_owned(), tat);
                    None
                } else {
                    Some(tat)
                }
            }
            Store::Shared(db) => db::rate_limits::take(db, key, now, self.interval, self.capacity)
                .await?
                .map(|tat| tat.max(now) + self.interval),
        };
        Ok(refused_until.map(|tat| {
            let wait = tat - now - self.capacity;
            Duration::from_millis(u64::try_from(wait).unwrap_or(0))
        }))
    }
}

fn lock(keys: &Mutex<HashMap<String, i64>>) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
    // The map holds plain numbers: one left mid-update by a panic is still valid.
    keys.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn the_eleventh_attempt_in_a_minute_is_refused_per_client_and_per_account() {
        let limiter = Limiter::in_memory(10);
        for i in 0..10 {
            let taken = limiter
                .take(Action::SignIn, ip("10.0.0.1"), Some("ann@example.com"))
                .await;
            assert!(taken.is_ok(), "attempt {i}");
        }
        let Err(LimitError::Limited(wait)) = limiter
            .take(Action::SignIn, ip("10.0.0.1"), Some("ann@example.com"))
            .await
        else {
            panic!("the eleventh attempt must be refused");
        };
        assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(60));
        // The same account from another address: still limited (per account).
        assert!(limiter
            .take(Action::SignIn, ip("10.0.0.2"), Some("ann@example.com"))
            .await
            .is_err());
        // Another account from the first address: still limited (per client).
        assert!(limiter
            .take(Action::SignIn, ip("10.0.0.1"), Some("bob@example.com"))
            .await
            .is_err());
        // Another account from another address, and another action: free.
        assert!(limiter
            .take(Action::SignIn, ip("10.0.0.3"), Some("cy@example.com"))
            .await
            .is_ok());
        assert!(limiter
            .take(
                Action::ForgotPassword,
                ip("10.0.0.1"),
                Some("ann@example.com")
            )
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn attempts_given_back_do_not_count() {
        let limiter = Limiter::in_memory(3);
        for _ in 0..20 {
            let taken = limiter
                .take(Action::SignIn, ip("192.0.2.1"), Some("office@example.com"))
                .await
                .expect("successful sign-ins never run out");
            limiter.give_back(taken).await.unwrap();
        }
        // A refusal by the account takes nothing from the client.
        for _ in 0..3 {
            let _ = limiter
                .take(Action::SignIn, ip("192.0.2.2"), Some("x@example.com"))
                .await
                .unwrap();
        }
        assert!(limiter
            .take(Action::SignIn, ip("192.0.2.3"), Some("x@example.com"))
            .await
            .is_err());
        for _ in 0..3 {
            let _ = limiter
                .take(Action::SignIn, ip("192.0.2.3"), Some("y@example.com"))
                .await
                .expect("the refused attempt above took nothing from this client");
        }
    }

    #[tokio::test]
    async fn ipv6_clients_share_the_allowance_of_their_64() {
        let limiter = Limiter::in_memory(2);
        let _ = limiter
            .take(Action::SignUp, ip("2001:db8:1:2::a"), None)
            .await
            .unwrap();
        let _ = limiter
            .take(Action::SignUp, ip("2001:db8:1:2:ffff::b"), None)
            .await
            .unwrap();
        assert!(limiter
            .take(Action::SignUp, ip("2001:db8:1:2::c"), None)
            .await
            .is_err());
        assert!(limiter
            .take(Action::SignUp, ip("2001:db8:1:3::a"), None)
            .await
            .is_ok());
        assert_eq!(
            client_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(client_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
