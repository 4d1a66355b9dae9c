//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, one
//! lane — OWASP's recommended minimum). Hashing is deliberately slow and memory-hungry, so
//! it runs on blocking threads, at most [`MAX_CONCURRENT`] at a time: a burst of sign-ins
//! can neither stall the async runtime nor use unbounded memory.

use std::sync::Arc;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use tokio::sync::{OnceCell, Semaphore};

use crate::domain::NewPassword;

/// Hashes computed at the same time, at most (each needs about 19 MiB).
pub const MAX_CONCURRENT: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password hashing task did not finish: {0}")]
    Task(String),
}

#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an account does not exist, so
    /// that a sign-in takes as long whether or not the address is registered.
    decoy: Arc<OnceCell<String>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT)),
            decoy: Arc::new(OnceCell::new()),
        }
    }
}

impl Passwords {
    pub async fn hash(&self, password: &NewPassword) -> Result<String, PasswordError> {
        let password = password.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hash(e.to_string()))
        })
        .await?
    }

    /// Whether `password` matches `hash`. With no hash (no such account, or an account
    /// without a password) a decoy is checked instead and the answer is `false`.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, PasswordError> {
        let (hash, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.decoy().await?, false),
        };
        let password = secrecy::SecretString::from(password.to_owned());
        let matches = self
            .blocking(move || {
                let Ok(parsed) = PasswordHash::new(&hash) else {
                    return false;
                };
                Argon2::default()
                    .verify_password(
                        secrecy::ExposeSecret::expose_secret(&password).as_bytes(),
                        &parsed,
                    )
                    .is_ok()
            })
            .await?;
        Ok(real && matches)
    }

    async fn decoy(&self) -> Result<String, PasswordError> {
        self.decoy
            .get_or_try_init(|| async {
                let random = crate::crypto::random_token("");
                let password = NewPassword::parse(secrecy::ExposeSecret::expose_secret(&random))
                    .map_err(|e| PasswordError::Hash(e.to_string()))?;
                self.hash(&password).await
            })
            .await
            .cloned()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let p = Passwords::default();
        let pw = NewPassword::parse("correct horse battery").unwrap();
        let hash = p.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(p
            .verify("correct horse battery", Some(&hash))
            .await
            .unwrap());
        assert!(!p
            .verify("correct horse battery!", Some(&hash))
            .await
            .unwrap());
        // No account: always false, even for the decoy's own input.
        assert!(!p.verify("correct horse battery", None).await.unwrap());
        assert!(!p.verify("anything", Some("not a hash")).await.unwrap());
    }
}
