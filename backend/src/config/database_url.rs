//! `DATABASE_URL`: parsed, with its password kept secret and hidden whenever it is shown.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::*;

/// A database URL. It may hold a password, so it is only ever displayed redacted.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let scheme = raw.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => {
                let path = sqlite_path(raw);
                if path.is_empty() {
                    return Err(ConfigError::new(
                        "DATABASE_URL",
                        "a sqlite:// URL needs a file path, e.g. sqlite://./data/avatar-studio.db",
                    ));
                }
            }
            "postgres" | "postgresql" => {
                let url = Url::parse(raw).map_err(|e| {
                    ConfigError::new("DATABASE_URL", format!("not a valid postgres:// URL ({e})"))
                })?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(ConfigError::new(
                        "DATABASE_URL",
                        "a postgres:// URL needs a host, e.g. postgres://postgres@127.0.0.1:5432/avatar_studio",
                    ));
                }
            }
            _ => {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    format!(
                        "unsupported scheme '{}': use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE",
                        redact_url(scheme)
                    ),
                ))
            }
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn is_postgres(&self) -> bool {
        self.0.expose_secret().starts_with("postgres")
    }

    /// The full URL, password included: only for handing to the database driver.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.0.expose_secret()))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The path part of a `sqlite:` URL (`sqlite://path`, `sqlite:path`), without options.
pub(super) fn sqlite_path(raw: &str) -> &str {
    let rest = raw
        .strip_prefix("sqlite://")
        .or_else(|| raw.strip_prefix("sqlite:"))
        .unwrap_or_default();
    rest.split('?').next().unwrap_or_default()
}

/// A URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}
