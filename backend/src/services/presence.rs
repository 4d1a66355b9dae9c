//! Which server processes use the database, so that `rotate-secret` never runs beside
//! one: a server re-encrypting nothing would go on saving provider keys under the old
//! secret while the command moves every key to the new one, and those keys would become
//! unreadable. Each running server holds a lease `server:{id}` (renewed every
//! [`RENEW`], lapsing [`TTL`] after a crash); the rotation holds `rotate-secret` while it
//! runs. Each side takes its own lease first and then looks for the other's, so that a
//! server starting during a rotation and a rotation starting beside a server cannot both
//! go ahead.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ServiceError;
use crate::{db::maintenance, now_ms, Db};

/// How often a running server renews its lease.
pub const RENEW: Duration = Duration::from_secs(15);
/// How long a lease outlives its last renewal (a crashed server's is gone after this).
pub const TTL: Duration = Duration::from_secs(45);
/// The longest a rotation may take before its lease lapses.
const ROTATION_TTL: Duration = Duration::from_secs(600);

const SERVER: &str = "server:";
const ROTATION: &str = "rotate-secret";

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// This server process's presence in the database.
#[derive(Debug, Clone)]
pub struct Presence {
    db: Db,
    name: String,
    /// Who holds it, as the operator reads it: the host and process id.
    owner: String,
}

impl Presence {
    /// Announces a server starting, unless a secret rotation is running (then it must
    /// not start: it would read the old secret).
    pub async fn announce(db: &Db) -> Result<Self, ServiceError> {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "this host".to_owned());
        let presence = Self {
            db: db.clone(),
            name: format!("{SERVER}{}", crate::new_id()),
            owner: format!("process {} on {host}", std::process::id()),
        };
        presence.renew().await?;
        if let Some(rotation) = maintenance::live_leases(db, ROTATION, now_ms())
            .await?
            .first()
        {
            presence.leave().await;
            return Err(ServiceError::Conflict {
                code: "rotation_running",
                field: None,
                message: format!(
                    "a secret rotation ({}) is running on this database: start the server \
                     once it has finished",
                    rotation.owner
                ),
            });
        }
        Ok(presence)
    }

    async fn renew(&self) -> Result<(), ServiceError> {
        let now = now_ms();
        maintenance::take_lease(&self.db, &self.name, &self.owner, now, now + ms(TTL)).await?;
        Ok(())
    }

    /// Renews the lease every [`RENEW`] until `shutdown`, then gives it up. A failed
    /// renewal is logged and tried again at the next turn.
    pub async fn keep(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(RENEW) => {
                    if let Err(e) = self.renew().await {
                        tracing::warn!(error = %e, "cannot renew this server's presence lease");
                    }
                }
            }
        }
        self.leave().await;
    }

    /// Gives the lease up (a server stopping).
    pub async fn leave(&self) {
        if let Err(e) = maintenance::give_up_lease(&self.db, &self.name, &self.owner).await {
            tracing::warn!(error = %e, "cannot give up this server's presence lease");
        }
    }
}

/// A secret rotation in progress: no server starts until it is [`Rotation::finish`]ed.
#[derive(Debug)]
pub struct Rotation {
    db: Db,
    owner: String,
}

impl Rotation {
    /// Begins a rotation: refused while a server uses the database (or another rotation
    /// runs), with the servers named.
    pub async fn begin(db: &Db) -> Result<Self, ServiceError> {
        let owner = format!("process {}", std::process::id());
        let now = now_ms();
        if !maintenance::take_lease(db, ROTATION, &owner, now, now + ms(ROTATION_TTL)).await? {
            return Err(ServiceError::Conflict {
                code: "rotation_running",
                field: None,
                message: "another secret rotation is running on this database".to_owned(),
            });
        }
        let rotation = Self {
            db: db.clone(),
            owner,
        };
        let servers = maintenance::live_leases(db, SERVER, now_ms()).await?;
        if !servers.is_empty() {
            rotation.finish().await;
            let who: Vec<_> = servers.iter().map(|s| s.owner.as_str()).collect();
            return Err(ServiceError::Conflict {
                code: "server_running",
                field: None,
                message: format!(
                    "{} server process(es) use this database ({}): stop every server first, \
                     then rotate, then start them again (a server that was killed rather \
                     than stopped counts for {} s after it was last seen)",
                    servers.len(),
                    who.join(", "),
                    TTL.as_secs()
                ),
            });
        }
        Ok(rotation)
    }

    /// Ends the rotation (done or failed).
    pub async fn finish(self) {
        if let Err(e) = maintenance::give_up_lease(&self.db, ROTATION, &self.owner).await {
            tracing::warn!(error = %e, "cannot end the rotation's lease");
        }
    }
}
