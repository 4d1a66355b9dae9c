//! `/healthz`, `/readyz` and `/metrics`.

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use model::Health;

use crate::{error::ApiErrorResponse, state::AppState};

/// The process is up and answering.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(backend::health::liveness())
}

/// The database and the object store are reachable: the instance can serve requests.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Every dependency answered", body = Health),
        (status = 503, description = "A dependency did not answer; `checks` says which", body = Health)
    )
)]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let health = backend::health::readiness(&state.backend.db, &state.backend.storage).await;
    let status = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "METRICS_TOKEN is set and the request does not carry it", body = model::ApiError)
    )
)]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.backend.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compared as digests, so that the time taken says nothing about the token.
        let ok = backend::crypto::token_hash(given)
            == backend::crypto::token_hash(secrecy::ExposeSecret::expose_secret(expected));
        if !ok {
            return ApiErrorResponse::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "The metrics need the token set in METRICS_TOKEN: send `Authorization: Bearer <token>`.",
            )
            .into_response();
        }
    }
    let db = &state.backend.db;
    let (size, idle) = backend::with_pool!(db, |pool| (pool.size(), pool.num_idle()));
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("db_pool_connections", "state" => "idle")
        .set(f64::from(u32::try_from(idle).unwrap_or(u32::MAX)));
    metrics::gauge!("process_uptime_seconds").set(state.started.elapsed().as_secs_f64());
    // The operations page's numbers, read at scrape time (four queries).
    match backend::services::operations::snapshot(&state.backend).await {
        Ok(ops) => export(&ops),
        Err(e) => tracing::warn!(error = %e, "cannot read the operations numbers for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Sets the gauges of the operations overview.
fn export(ops: &model::Operations) {
    use std::{collections::HashSet, sync::Mutex};
    // Every combination, so that a state that emptied reads 0 rather than its last count.
    for provider in model::ProviderId::ALL {
        for status in model::ImageStatus::ALL {
            metrics::gauge!("avatar_jobs", "provider" => provider.as_str(), "status" => status.as_str())
                .set(0.0);
        }
    }
    for j in &ops.jobs {
        metrics::gauge!("avatar_jobs", "provider" => j.provider.as_str(), "status" => j.status.as_str())
            .set(j.count as f64);
    }
    // A reason that left the window reads 0 (the series seen before are remembered).
    static SEEN: Mutex<Option<HashSet<(String, String)>>> = Mutex::new(None);
    {
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        let seen = seen.get_or_insert_with(HashSet::new);
        for (provider, reason) in seen.iter() {
            metrics::gauge!("avatar_job_failures_recent", "provider" => provider.clone(), "reason" => reason.clone())
                .set(0.0);
        }
        for f in &ops.failures {
            metrics::gauge!("avatar_job_failures_recent", "provider" => f.provider.as_str(), "reason" => f.reason.clone())
                .set(f.count as f64);
            seen.insert((f.provider.as_str().to_owned(), f.reason.clone()));
        }
    }
    let s = &ops.storage;
    for (kind, objects, bytes) in [
        ("image", s.images, s.image_bytes),
        ("trash", s.trash, s.trash_bytes),
        ("variant", s.variants, s.variant_bytes),
    ] {
        metrics::gauge!("avatar_storage_objects", "kind" => kind).set(objects as f64);
        metrics::gauge!("avatar_storage_bytes", "kind" => kind).set(bytes as f64);
    }
    metrics::gauge!("avatar_variant_cache_limit_bytes").set(s.variant_limit_bytes as f64);
    metrics::gauge!("avatar_images_missing").set(s.missing as f64);
    metrics::gauge!("avatar_accounts", "state" => "active")
        .set(ops.accounts.saturating_sub(ops.disabled_accounts) as f64);
    metrics::gauge!("avatar_accounts", "state" => "disabled").set(ops.disabled_accounts as f64);
    if let Some(run) = ops.cleanup_runs.iter().find(|r| !r.dry_run) {
        metrics::gauge!("avatar_cleanup_last_run_timestamp_seconds")
            .set(run.finished_at.timestamp_millis() as f64 / 1000.0);
        metrics::gauge!("avatar_cleanup_last_run_duration_seconds")
            .set((run.finished_at - run.started_at).num_milliseconds() as f64 / 1000.0);
        metrics::gauge!("avatar_cleanup_last_run_failed").set(if run.error.is_some() {
            1.0
        } else {
            0.0
        });
    }
}
