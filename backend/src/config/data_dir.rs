//! `DATA_DIR` and the generated `ENCRYPTION_SECRET` kept in it.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use super::*;

pub(super) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Creates `DATA_DIR` and proves that it is writable, so that a bad one stops the process
/// at start rather than at the first upload.
pub(super) fn prepare_data_dir(dir: &Path) -> Result<(), ConfigError> {
    let fail = |what: &str, e: std::io::Error| {
        ConfigError::new("DATA_DIR", format!("'{}' {what}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("cannot be created", e))?;
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(|e| fail("is not writable", e))?;
    std::fs::remove_file(&probe).map_err(|e| fail("is not writable", e))?;
    Ok(())
}

/// Reads `$DATA_DIR/encryption.secret`, or creates it with 48 random bytes. Creation is
/// exclusive, so two processes starting at once agree on one secret.
/// A new random secret: 48 bytes from the OS generator, base64url.
pub fn generate_secret() -> SecretString {
    let mut bytes = zeroize::Zeroizing::new([0u8; 48]);
    rand::rng().fill_bytes(&mut bytes[..]);
    SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..]))
}

/// Writes a secret to `path` (replacing it), readable by the owner only, synced to disk.
pub fn write_secret_file(path: &Path, secret: &SecretString) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.expose_secret().as_bytes())?;
    file.sync_all()
}

pub(super) fn load_or_generate_secret(
    data_dir: &Path,
) -> Result<(SecretString, SecretSource), ConfigError> {
    let path = data_dir.join(SECRET_FILE);
    let read = |path: &Path| -> Result<SecretString, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                "ENCRYPTION_SECRET",
                format!("unset, and '{}' cannot be read: {e}", path.display()),
            )
        })?;
        let text = text.trim();
        if text.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                "ENCRYPTION_SECRET",
                format!(
                    "unset, and '{}' holds fewer than {MIN_SECRET_LEN} characters",
                    path.display()
                ),
            ));
        }
        Ok(SecretString::from(text.to_owned()))
    };
    if path.exists() {
        return Ok((read(&path)?, SecretSource::DataDir));
    }
    let secret = generate_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.expose_secret().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| {
                    ConfigError::new(
                        "ENCRYPTION_SECRET",
                        format!("unset, and '{}' cannot be written: {e}", path.display()),
                    )
                })?;
            Ok((secret, SecretSource::Generated))
        }
        // Another process won the race: use its secret.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok((read(&path)?, SecretSource::DataDir))
        }
        Err(e) => Err(ConfigError::new(
            "ENCRYPTION_SECRET",
            format!("unset, and '{}' cannot be created: {e}", path.display()),
        )),
    }
}
