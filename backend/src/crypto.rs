//! Secrets at rest and opaque tokens.
//!
//! Provider keys are encrypted with AES-256-GCM under a key derived from
//! `ENCRYPTION_SECRET` with HKDF-SHA256. A stored value is `version ‖ nonce ‖ ciphertext`
//! (the layout of crates.io's `crates_io_encryption`): the version byte names the key
//! derivation, so that the format and the secret can be rotated; the nonce is fresh and
//! random for every value; the associated data binds a value to its owner and provider,
//! so a ciphertext copied into another row does not decrypt.
//!
//! Tokens (sessions, access tokens, email links) are random, shown once, and stored as
//! their SHA-256: they carry 256 bits of entropy, so a fast hash is enough, and a stolen
//! database does not yield usable tokens.

use std::fmt;

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::Engine;
use hkdf::Hkdf;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The current format: AES-256-GCM, key = HKDF-SHA256(secret, info = [`KDF_INFO_V1`]).
pub const VERSION_1: u8 = 1;
const KDF_SALT: &[u8] = b"avatar-studio";
const KDF_INFO_V1: &[u8] = b"avatar-studio/provider-keys/v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "a stored secret cannot be decrypted: it was changed in the database, or \
         ENCRYPTION_SECRET is not the secret it was stored with"
    )]
    Undecryptable,
    #[error(
        "a stored secret has an unknown format (version {0}); is this server older than the data?"
    )]
    UnknownVersion(u8),
    #[error("a stored secret is truncated")]
    Truncated,
    #[error("a stored secret is not valid UTF-8 after decryption")]
    NotUtf8,
}

/// A 256-bit key for one purpose (`info`), derived from `ENCRYPTION_SECRET` with
/// HKDF-SHA256: each purpose gets an independent key from the one secret.
fn derive_key(secret: &SecretString, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let hk = Hkdf::<Sha256>::new(Some(KDF_SALT), secret.expose_secret().as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hk.expand(info, &mut key[..])
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

/// Encrypts and decrypts values under one `ENCRYPTION_SECRET`. Never printed.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    pub fn new(secret: &SecretString) -> Self {
        let key = derive_key(secret, KDF_INFO_V1);
        let aead = Aes256Gcm::new_from_slice(&key[..]).expect("the key is 32 bytes");
        Self { aead }
    }

    /// `version ‖ nonce ‖ ciphertext+tag`. `context` is authenticated, not stored: the
    /// same context must be given to [`Cipher::decrypt`].
    pub fn encrypt(&self, plaintext: &str, context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION_1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn decrypt(&self, stored: &[u8], context: &str) -> Result<SecretString, CryptoError> {
        let (&version, rest) = stored.split_first().ok_or(CryptoError::Truncated)?;
        if version != VERSION_1 {
            return Err(CryptoError::UnknownVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let plaintext = Zeroizing::new(
            self.aead
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: context.as_bytes(),
                    },
                )
                .map_err(|_| CryptoError::Undecryptable)?,
        );
        let text = std::str::from_utf8(&plaintext).map_err(|_| CryptoError::NotUtf8)?;
        Ok(SecretString::from(text.to_owned()))
    }
}

const KDF_INFO_LINKS_V1: &[u8] = b"avatar-studio/media-links/v1";

/// Signs and checks links that grant access without a sign-in (shared media), with
/// HMAC-SHA256 under a key derived from `ENCRYPTION_SECRET` (a different key from the one
/// that encrypts provider keys). Never printed.
#[derive(Clone)]
pub struct LinkSigner {
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

impl LinkSigner {
    pub fn new(secret: &SecretString) -> Self {
        Self {
            key: derive_key(secret, KDF_INFO_LINKS_V1),
        }
    }

    fn mac(&self, message: &str) -> hmac::Hmac<Sha256> {
        let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.key[..])
            .expect("HMAC takes any key size");
        hmac::Mac::update(&mut mac, message.as_bytes());
        mac
    }

    /// The signature of `message`, URL-safe base64.
    pub fn sign(&self, message: &str) -> String {
        use hmac::Mac;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.mac(message).finalize().into_bytes())
    }

    /// Whether `signature` is this signer's signature of `message` (constant time).
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        use hmac::Mac;
        let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(message).verify_slice(&raw).is_ok()
    }
}

/// A new random token: 32 bytes from the OS generator, base64url without padding
/// (43 characters), after `prefix`.
pub fn random_token(prefix: &str) -> SecretString {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(&mut bytes[..]);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..]);
    SecretString::from(format!("{prefix}{encoded}"))
}

/// The hex SHA-256 of a token: what the database stores and looks up.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_signatures_verify_only_for_the_same_message_and_secret() {
        let signer = LinkSigner::new(&SecretString::from("a".repeat(40)));
        let sig = signer.sign("media:i1:1700000000");
        assert!(signer.verify("media:i1:1700000000", &sig));
        assert!(!signer.verify("media:i1:1700000001", &sig));
        assert!(!signer.verify("media:i1:1700000000", "not-base64!"));
        let other = LinkSigner::new(&SecretString::from("b".repeat(40)));
        assert!(!other.verify("media:i1:1700000000", &sig));
    }

    fn cipher(secret: &str) -> Cipher {
        Cipher::new(&SecretString::from(secret.to_owned()))
    }

    #[test]
    fn round_trips_and_never_stores_the_plaintext() {
        let c = cipher("a-secret-that-is-long-enough-for-tests-0001");
        let stored = c.encrypt("sk-test-1234567890", "user-1/openai");
        assert_eq!(stored[0], VERSION_1);
        assert!(!stored.windows(b"sk-test".len()).any(|w| w == b"sk-test"));
        let back = c.decrypt(&stored, "user-1/openai").unwrap();
        assert_eq!(back.expose_secret(), "sk-test-1234567890");
    }

    #[test]
    fn every_value_has_a_fresh_nonce() {
        let c = cipher("a-secret-that-is-long-enough-for-tests-0001");
        assert_ne!(c.encrypt("same", "ctx"), c.encrypt("same", "ctx"));
    }

    #[test]
    fn tampering_wrong_secret_and_wrong_context_are_clear_errors() {
        let c = cipher("a-secret-that-is-long-enough-for-tests-0001");
        let mut stored = c.encrypt("sk-live-abc", "user-1/openai");
        let other = cipher("another-secret-that-is-long-enough-000002");
        assert_eq!(
            other.decrypt(&stored, "user-1/openai").unwrap_err(),
            CryptoError::Undecryptable
        );
        assert_eq!(
            c.decrypt(&stored, "user-2/openai").unwrap_err(),
            CryptoError::Undecryptable
        );
        let last = stored.len() - 1;
        stored[last] ^= 1;
        assert_eq!(
            c.decrypt(&stored, "user-1/openai").unwrap_err(),
            CryptoError::Undecryptable
        );
        stored[0] = 9;
        assert_eq!(
            c.decrypt(&stored, "user-1/openai").unwrap_err(),
            CryptoError::UnknownVersion(9)
        );
        assert_eq!(
            c.decrypt(&[1, 2, 3], "user-1/openai").unwrap_err(),
            CryptoError::Truncated
        );
        assert!(CryptoError::Undecryptable
            .to_string()
            .contains("ENCRYPTION_SECRET"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token("avs_");
        let b = random_token("avs_");
        assert!(a.expose_secret().starts_with("avs_"));
        assert_eq!(a.expose_secret().len(), 4 + 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
        let h = token_hash(a.expose_secret());
        assert_eq!(h.len(), 64);
        assert_eq!(h, token_hash(a.expose_secret()));
        assert_ne!(h, token_hash(b.expose_secret()));
    }
}
