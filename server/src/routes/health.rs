//! `/healthz`, `/readyz` and `/metrics`.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    Json,
};
use model::Health;

use crate::state::AppState;

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
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let db = &state.backend.db;
    let (size, idle) = backend::with_pool!(db, |pool| (pool.size(), pool.num_idle()));
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("db_pool_connections", "state" => "idle")
        .set(f64::from(u32::try_from(idle).unwrap_or(u32::MAX)));
    metrics::gauge!("process_uptime_seconds").set(state.started.elapsed().as_secs_f64());
    // Jobs by state and provider, read at scrape time (one grouped query).
    if let Ok(counts) = backend::db::jobs::count_by_status(db).await {
        // Every combination, so that a state that emptied reads 0 rather than its last count.
        for provider in model::ProviderId::ALL {
            for status in model::ImageStatus::ALL {
                metrics::gauge!("avatar_jobs", "provider" => provider.as_str(), "status" => status.as_str())
                    .set(0.0);
            }
        }
        for (provider, status, n) in counts {
            metrics::gauge!("avatar_jobs", "provider" => provider, "status" => status)
                .set(n as f64);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
