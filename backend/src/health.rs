//! Readiness: can this process reach its database and its object store?

use std::{future::Future, time::Duration};

use model::{Health, HealthCheck};

use crate::{Db, Storage};

/// A check that takes longer than this counts as failed, so `/readyz` answers promptly.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

async fn timed<E: std::fmt::Display>(
    name: &str,
    check: impl Future<Output = Result<(), E>>,
) -> HealthCheck {
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, check).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    };
    if let Some(error) = &error {
        tracing::warn!(check = name, %error, "readiness check failed");
    }
    HealthCheck {
        name: name.to_owned(),
        ok: error.is_none(),
        latency_ms,
        error,
    }
}

/// Runs the database and storage checks concurrently.
pub async fn readiness(db: &Db, storage: &Storage) -> Health {
    let (database, storage) = tokio::join!(
        timed("database", db.ping()),
        timed("storage", storage.check())
    );
    let checks = vec![database, storage];
    let status = if checks.iter().all(|c| c.ok) {
        "ok"
    } else {
        "unavailable"
    };
    Health {
        status: status.to_owned(),
        checks,
    }
}

/// The answer of `/healthz`: the process is up.
pub fn liveness() -> Health {
    Health {
        status: "ok".to_owned(),
        checks: Vec::new(),
    }
}
