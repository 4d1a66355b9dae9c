//! Avatar Studio's domain and infrastructure. Nothing here knows about HTTP or Leptos:
//! the `server` crate is transport, the `app` crate is UI, and both call into this one.

pub mod config;
pub mod db;
pub mod domain;
pub mod health;
pub mod services;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::Config;
pub use db::Db;
pub use storage::Storage;

/// Milliseconds since the Unix epoch: the representation of every time in the database.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new id: a UUIDv7 (time-ordered, so that ids sort roughly by creation) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The handles every service needs, built once by the server at start and shared (cheap
/// to clone). The UI's server functions receive it as Leptos context, the HTTP handlers as
/// axum state.
#[derive(Debug, Clone)]
pub struct Backend {
    pub config: std::sync::Arc<Config>,
    pub db: Db,
    pub storage: Storage,
}
