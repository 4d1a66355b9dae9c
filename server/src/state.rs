use std::sync::Arc;

use axum::extract::FromRef;
use backend::Backend;
use leptos::prelude::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

/// Everything the HTTP layer needs, built once in `main` (or a test) and shared.
#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub leptos_options: LeptosOptions,
    pub metrics: PrometheusHandle,
    /// Cancelled when the server starts shutting down; long-running work watches it.
    pub shutdown: CancellationToken,
    pub started: Arc<std::time::Instant>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Backend {
    fn from_ref(state: &AppState) -> Self {
        state.backend.clone()
    }
}
