//! The command line: `avatar-studio [serve]` and the operator subcommands.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "avatar-studio",
    version,
    about = "Avatar Studio: a self-hosted AI avatar studio",
    long_about = "Avatar Studio: a self-hosted AI avatar studio.\n\nWith no subcommand the web \
                  server starts. Configuration comes from the environment and a .env file in \
                  the working directory; every variable has a default (see the README)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run the web server (the default): applies pending migrations, then serves
    /// LEPTOS_SITE_ADDR until SIGINT or SIGTERM.
    Serve,
    /// Apply pending database migrations to DATABASE_URL and exit.
    Migrate,
    /// Re-encrypt every stored provider key under a new ENCRYPTION_SECRET, all or nothing.
    ///
    /// The new secret is NEW_ENCRYPTION_SECRET. When ENCRYPTION_SECRET is not set (the
    /// secret lives in $DATA_DIR/encryption.secret) and NEW_ENCRYPTION_SECRET is unset, a
    /// new secret is generated and replaces that file. When ENCRYPTION_SECRET is set, set
    /// it to the new value before the next start.
    RotateSecret,
    /// Import every character avatar that still points outside our storage (for example an
    /// expiring provider URL), with the same address and content checks as an import from
    /// the API; each success and failure is reported. Exits non-zero if any failed.
    ImportUrls,
    /// Reconcile the database with the object store and remove what is dead: objects no
    /// row refers to (older than CLEANUP_ORPHAN_GRACE_SECONDS), images whose object is
    /// missing (reported and marked, never dropped), jobs left running by a worker that is
    /// gone with no attempt left (ended as error), and expired sessions, access tokens,
    /// mailed links and idempotency keys. Prints what it did and a summary.
    Cleanup {
        /// Print what would be done, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the configuration, the database, the object store and whether the providers
    /// answer, as a readable report. Exits non-zero when the database or the object store
    /// fails; a provider that does not answer is a warning.
    Check,
    /// Manage accounts: create (optionally an administrator), list, disable, enable.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage sign-up invitations (SIGNUP=invite): create a single-use link, list the
    /// ones that still work, withdraw one.
    Invite {
        #[command(subcommand)]
        action: InviteCommand,
    },
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum InviteCommand {
    /// Make a single-use invitation and print its link (shown once).
    Create {
        /// Days until it expires (1 to 90).
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Whom it is for, shown in the list.
        #[arg(long)]
        note: Option<String>,
    },
    /// List the invitations that still work.
    List,
    /// Withdraw an unused invitation by its id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum UserCommand {
    /// Create an account. Its password is read from standard input with
    /// --password-stdin, or generated and printed once. The address counts as verified.
    Create {
        /// The account's email address.
        email: String,
        /// Make it an administrator (the first account of an instance is one anyway).
        #[arg(long)]
        admin: bool,
        /// The name shown in the app.
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account: id, email, administrator or not, disabled or not, created.
    List,
    /// Disable an account: its sessions end at once, its tokens stop working, its open
    /// live connections close (at once with PostgreSQL, within REALTIME_RECHECK_SECONDS
    /// with SQLite).
    Disable { email: String },
    /// Enable a disabled account again.
    Enable { email: String },
    /// Show or set one account's limits. Without options, prints its usage and limits; a
    /// limit given sets it (0: no limit); --default goes back to the instance's limits.
    Quota {
        email: String,
        /// Images generated in any 24 hours.
        #[arg(long)]
        images_per_day: Option<u32>,
        /// Jobs queued or running at once.
        #[arg(long)]
        active_jobs: Option<u32>,
        /// Bytes of stored images.
        #[arg(long)]
        storage_bytes: Option<u64>,
        /// Follow the instance's defaults again (QUOTA_*).
        #[arg(long, conflicts_with_all = ["images_per_day", "active_jobs", "storage_bytes"])]
        default: bool,
    },
}

/// What `rotate-secret` did.
#[derive(Debug)]
pub struct Rotated {
    pub keys: usize,
    /// Where the new secret was written, when it lives in the data directory.
    pub secret_file: Option<std::path::PathBuf>,
}

/// `avatar-studio rotate-secret`: see [`Command::RotateSecret`]. `new_secret` is the
/// value of NEW_ENCRYPTION_SECRET, if set.
pub async fn rotate_secret(
    config: &backend::Config,
    new_secret: Option<String>,
) -> anyhow::Result<Rotated> {
    use anyhow::{bail, Context as _};
    use backend::{
        config::{SecretSource, MIN_SECRET_LEN, SECRET_FILE},
        crypto::Cipher,
        services::{presence::Rotation, provider_keys},
    };
    use secrecy::{ExposeSecret, SecretString};

    let file_based = config.encryption_secret_source != SecretSource::Environment;
    let new_secret = match new_secret
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
    {
        Some(s) if s.len() < MIN_SECRET_LEN => bail!(
            "NEW_ENCRYPTION_SECRET must be at least {MIN_SECRET_LEN} characters long; \
             generate one with `openssl rand -base64 48`"
        ),
        Some(s) => SecretString::from(s),
        None if file_based => backend::config::generate_secret(),
        None => bail!(
            "NEW_ENCRYPTION_SECRET is not set: ENCRYPTION_SECRET comes from the environment, \
             so give the new secret in NEW_ENCRYPTION_SECRET"
        ),
    };
    if new_secret.expose_secret() == config.encryption_secret.expose_secret() {
        bail!("NEW_ENCRYPTION_SECRET is the current secret: nothing to rotate");
    }

    // No server may run beside a rotation: it would keep saving keys under the old
    // secret. The rotation holds its lease until the keys and the secret file are done.
    let db = backend::Db::connect_and_migrate(&config.database_url, 1)
        .await
        .context("DATABASE_URL")?;
    let rotation = match Rotation::begin(&db).await {
        Ok(r) => r,
        Err(e) => {
            db.close().await;
            bail!("{e}; nothing was changed");
        }
    };

    // The new secret reaches the disk before any key is encrypted with it, so a crash
    // after the database commit cannot lose it.
    let secret_path = config.data_dir.join(SECRET_FILE);
    let pending_path = config.data_dir.join(format!("{SECRET_FILE}.new"));
    let result = async {
        if file_based {
            backend::config::write_secret_file(&pending_path, &new_secret)
                .with_context(|| format!("cannot write {}", pending_path.display()))?;
        }
        let old = Cipher::new(&config.encryption_secret);
        let new = Cipher::new(&new_secret);
        Ok::<_, anyhow::Error>(provider_keys::reencrypt_all(&db, &old, &new).await?)
    }
    .await;
    let keys = match result {
        Ok(keys) => keys,
        Err(e) => {
            if file_based {
                let _ = std::fs::remove_file(&pending_path);
            }
            rotation.finish().await;
            db.close().await;
            return Err(e);
        }
    };
    let moved = if file_based {
        std::fs::rename(&pending_path, &secret_path)
            .with_context(|| {
                format!(
                    "the keys are re-encrypted, but {} could not replace {}: move it there by hand",
                    pending_path.display(),
                    secret_path.display()
                )
            })
            .map(|()| Some(secret_path))
    } else {
        Ok(None)
    };
    rotation.finish().await;
    db.close().await;
    let secret_file = moved?;
    tracing::info!(keys, "provider keys re-encrypted under the new secret");
    Ok(Rotated { keys, secret_file })
}
