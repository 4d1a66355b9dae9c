//! Avatar Studio's domain and infrastructure. Nothing here knows about HTTP or Leptos:
//! the `server` crate is transport, the `app` crate is UI, and both call into this one.

pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod events;
pub mod health;
pub mod identity;
pub mod imaging;
pub mod jobs;
pub mod mail;
pub mod outbound;
pub mod passwords;
pub mod providers;
pub mod ratelimit;
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

/// A time stored as milliseconds since the Unix epoch (the epoch itself if out of range).
pub fn to_time(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A new id: a UUIDv7 (time-ordered, so that ids sort roughly by creation) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The handles every service needs, built once by the server at start and shared (cheap
/// to clone). The UI's server functions receive it as Leptos context, the HTTP handlers as
/// axum state. Besides the configuration, the database and the object store, which nearly
/// every service uses, the handles come in three groups, so that a service's code says
/// which kind it reaches for.
#[derive(Debug, Clone)]
pub struct Backend {
    pub config: std::sync::Arc<Config>,
    pub db: Db,
    pub storage: Storage,
    pub security: Security,
    pub external: External,
    pub runtime: Runtime,
}

/// Secrets and who may do what: encryption of provider keys, signed links, password
/// hashing and the sign-in limits.
#[derive(Debug, Clone)]
pub struct Security {
    /// Encrypts provider keys under `ENCRYPTION_SECRET`.
    pub cipher: crypto::Cipher,
    /// Signs shared media links.
    pub links: crypto::LinkSigner,
    pub passwords: passwords::Passwords,
    pub auth_limiter: std::sync::Arc<ratelimit::Limiter>,
}

/// What reaches outside this process: mail, HTTP clients and the image generators.
#[derive(Debug, Clone)]
pub struct External {
    pub mailer: mail::Mailer,
    /// For short calls to the providers' configured base URLs (trusted by configuration),
    /// such as checking a key; generation calls use the providers' own client, with the
    /// per-call timeout of the queue.
    pub http: reqwest::Client,
    /// For user-supplied URLs: SSRF-safe.
    pub outbound: outbound::Outbound,
    /// The image generators.
    pub providers: providers::Providers,
    /// The identity providers people sign in with (OIDC, GitHub).
    pub identities: identity::IdentityProviders,
}

/// This process's moving parts: the job queue, live events and bounded image work.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Wakes the generation workers and reaches running jobs.
    pub queue: jobs::Queue,
    /// Delivers events to each user's realtime connections.
    pub hub: events::Hub,
    /// Bounds the CPU work on images.
    pub image_workers: imaging::ImageWorkers,
    /// Bounds the memory received files take while they are read and stored.
    pub intake: imaging::Intake,
    /// Renders each variant once.
    pub variants: std::sync::Arc<services::media::VariantCache>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    /// A configuration that was loaded but not prepared (`Config::prepare`): the
    /// encryption secret is not known yet.
    #[error("ENCRYPTION_SECRET: not read yet (the configuration was not prepared)")]
    Unprepared,
}

impl Backend {
    pub fn new(config: Config, db: Db, storage: Storage) -> Result<Self, BackendError> {
        if config.encryption_secret_source == config::SecretSource::Pending {
            return Err(BackendError::Unprepared);
        }
        let mailer = mail::Mailer::new(&config)?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("avatar-studio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackendError::Http(e.to_string()))?;
        let outbound =
            outbound::Outbound::new(config.outbound_allow_private, config.outbound_timeout)
                .map_err(|e| BackendError::Http(e.to_string()))?;
        let image_workers = imaging::ImageWorkers::new(config.image_workers);
        // Provider calls get the per-call timeout of the queue, not the short default.
        let provider_http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(config.jobs.call_timeout)
            .user_agent(concat!("avatar-studio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackendError::Http(e.to_string()))?;
        Ok(Self {
            security: Security {
                cipher: crypto::Cipher::new(&config.encryption_secret),
                links: crypto::LinkSigner::new(&config.encryption_secret),
                passwords: passwords::Passwords::default(),
                auth_limiter: std::sync::Arc::new(ratelimit::Limiter::for_database(
                    config.auth_rate_limit_per_minute,
                    &db,
                )),
            },
            external: External {
                identities: identity::IdentityProviders::new(
                    config.identity.clone(),
                    config.outbound_timeout,
                )
                .map_err(|e| BackendError::Http(e.to_string()))?,
                providers: providers::Providers::new(&config, provider_http, image_workers.clone()),
                mailer,
                http,
                outbound,
            },
            runtime: Runtime {
                hub: events::Hub::new(db.dialect() == db::Dialect::Postgres),
                queue: jobs::Queue::default(),
                image_workers,
                intake: imaging::Intake::new(config.upload_memory_bytes),
                variants: std::sync::Arc::default(),
            },
            config: std::sync::Arc::new(config),
            db,
            storage,
        })
    }
}
