use std::{ops::Deref, sync::Arc, time::Instant};

use axum::extract::FromRef;
use backend::Backend;
use leptos::prelude::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

/// Everything the HTTP layer needs, built once in `main` (or a test) and shared. Behind one
/// `Arc`: every layer and handler that takes the state clones it for each request (some
/// forty times for a page), and a clone is then one reference count, not a copy of the
/// backend's handles.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; read through it (`state.backend`).
pub struct Shared {
    pub backend: Backend,
    pub leptos_options: LeptosOptions,
    pub metrics: PrometheusHandle,
    /// Cancelled when the server starts shutting down; long-running work watches it.
    pub shutdown: CancellationToken,
    pub started: Instant,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
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
