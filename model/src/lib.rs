//! Types shared by every crate, including the wasm build: they carry data only
//! (serde), never behaviour that needs the server.

pub mod account;
pub mod error;
pub mod health;
pub mod library;
pub mod user;

pub use account::*;
pub use error::{ApiError, ApiErrorBody};
pub use health::{Health, HealthCheck, InstanceInfo};
pub use library::*;
pub use user::User;

/// The product's name, as shown in the UI and in the server-rendered HTML.
pub const PRODUCT_NAME: &str = "Avatar Studio";
