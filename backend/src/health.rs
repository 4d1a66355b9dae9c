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

/// Writes a probe object, reads it back and deletes it: the object store takes writes,
/// not only reads (`avatar-studio check`).
pub async fn storage_round_trip(storage: &Storage) -> Result<(), String> {
    let key = object_store::path::Path::from(format!(".check-{}", uuid::Uuid::new_v4().simple()));
    let probe = bytes::Bytes::from_static(b"avatar-studio check");
    let result = async {
        storage
            .write(&key, probe.clone())
            .await
            .map_err(|e| format!("cannot write: {e}"))?;
        match storage
            .read(&key)
            .await
            .map_err(|e| format!("cannot read: {e}"))?
        {
            Some(back) if back == probe => Ok(()),
            Some(_) => Err("read back something other than what was written".to_owned()),
            None => Err("a written object was not found".to_owned()),
        }
    }
    .await;
    let deleted = storage
        .delete(&key)
        .await
        .map_err(|e| format!("cannot delete: {e}"));
    result.and(deleted)
}

/// Whether `url` answers at all (any HTTP status counts: a provider refusing a request
/// without a key is reachable); answers the status.
pub async fn reachable(url: &url::Url) -> Result<u16, String> {
    let http = reqwest::Client::builder()
        .connect_timeout(CHECK_TIMEOUT)
        .user_agent(concat!("avatar-studio/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    match tokio::time::timeout(CHECK_TIMEOUT, http.get(url.clone()).send()).await {
        Ok(Ok(resp)) => Ok(resp.status().as_u16()),
        Ok(Err(e)) => Err(format!("unreachable: {e}")),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}
