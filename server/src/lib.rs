//! The `avatar-studio` server: wiring and transport around the `backend` services and the
//! Leptos `app`. `main.rs` parses the command line; this library builds and runs the
//! server, so that the tests can start the very same thing on port 0.

pub mod auth;
pub mod cli;
pub mod client;
pub mod error;
pub mod routes;
pub mod session_store;
pub mod shutdown;
pub mod state;
pub mod telemetry;

use std::net::SocketAddr;

use anyhow::Context as _;
use backend::{config::SecretSource, Backend, Config, Db, Storage};
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use state::AppState;

/// mimalloc instead of glibc's malloc, for everything that links the server (the binary,
/// its tests, the SSR benchmark's hand-written page alike). A page render allocates and
/// frees tens of thousands of small objects, many on another thread than the one that
/// made them (sqlx's SQLite worker makes the rows, tokio's worker drops them): under
/// glibc, `malloc`, `free` and `malloc_consolidate` were a third of the server's time on
/// the gallery page (perf, `scripts/bench-ssr.sh`, README "Server-side rendering").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connects to the database (applying migrations) and the object store: everything the
/// server needs before it can answer. Each failure names the variable to fix.
pub async fn connect(config: Config) -> anyhow::Result<Backend> {
    let (db, storage) = open(&config).await?;
    build(config, db, storage)
}

/// Opens and checks the database (applying migrations) and the object store. The server
/// does this before it binds its address, so that a configuration or dependency error is
/// reported as such even when the address is taken.
async fn open(config: &Config) -> anyhow::Result<(Db, Storage)> {
    if config.encryption_secret_source == SecretSource::Generated {
        tracing::warn!(
            path = %config.data_dir.join(backend::config::SECRET_FILE).display(),
            "ENCRYPTION_SECRET is not set: generated a new one into the data directory. Back \
             this file up (or set ENCRYPTION_SECRET): without it stored provider keys cannot \
             be decrypted"
        );
    }
    let db = Db::connect(&config.database_url, config.database_max_connections)
        .await
        .context("DATABASE_URL")?;
    let applied = db.migrate().await.context("DATABASE_URL")?;
    tracing::info!(
        database = %config.database_url,
        dialect = db.dialect().as_str(),
        applied,
        "database ready"
    );
    let storage = Storage::open(&config.storage_url, &config.s3_options)?;
    storage.check().await.context("STORAGE_URL")?;
    tracing::info!(kind = storage.kind().as_str(), url = %config.storage_url, "object storage ready");
    Ok((db, storage))
}

/// The service handles over an opened database and store.
fn build(config: Config, db: Db, storage: Storage) -> anyhow::Result<Backend> {
    let backend = Backend::new(config, db, storage)?;
    match backend.external.mailer.outbox() {
        Some(dir) => tracing::info!(
            outbox = %dir.display(),
            "SMTP_URL is not set: mail goes to the log and the outbox directory"
        ),
        None => tracing::info!("mail goes out through SMTP_URL"),
    }
    Ok(backend)
}

/// Leptos' options: where the built site is (`LEPTOS_SITE_ROOT`, default `target/site`,
/// as `cargo leptos` builds it) and the address from our configuration.
pub fn leptos_options(site_addr: SocketAddr) -> LeptosOptions {
    let env = |key: &str, default: &str| {
        std::env::var(key)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let leptos_env = if env("LEPTOS_ENV", "DEV").eq_ignore_ascii_case("prod") {
        leptos::config::Env::PROD
    } else {
        leptos::config::Env::DEV
    };
    LeptosOptions::builder()
        .output_name("avatar-studio")
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .env(leptos_env)
        .site_addr(site_addr)
        .reload_port(env("LEPTOS_RELOAD_PORT", "3001").parse().unwrap_or(3001))
        .build()
}

/// A server that is connected and bound, ready to run.
pub struct Server {
    pub state: AppState,
    pub listener: TcpListener,
    /// This process's lease in the database while it runs (`services::presence`).
    presence: backend::services::presence::Presence,
}

impl Server {
    /// Opens the database and the object store, then binds `config.site_addr` (port 0
    /// picks a free port) and builds the state. In that order: a bad `DATABASE_URL` or
    /// `STORAGE_URL` is the problem to report even when the address is also taken.
    pub async fn bind(mut config: Config) -> anyhow::Result<Self> {
        let (db, storage) = open(&config).await?;
        let site_addr = config.site_addr;
        let listener = TcpListener::bind(site_addr)
            .await
            .with_context(|| format!("LEPTOS_SITE_ADDR: cannot listen on {site_addr}"))?;
        let local = listener.local_addr()?;
        // With port 0 the address is only known now: links in mail and shared links must
        // carry the real one.
        if !config.public_url_explicit {
            config.public_url = url::Url::parse(&format!("http://{local}"))
                .context("the listen address gives no valid public URL")?;
        }
        // Announced before anything is served: a secret rotation running now must end first.
        let presence = backend::services::presence::Presence::announce(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let backend = build(config, db, storage)?;
        let state = AppState::new(state::Shared {
            backend,
            leptos_options: leptos_options(local),
            metrics: telemetry::prometheus(),
            shutdown: CancellationToken::new(),
            started: std::time::Instant::now(),
        });
        Ok(Self {
            state,
            listener,
            presence,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `state.shutdown` is cancelled, then stops accepting connections, lets
    /// in-flight requests finish (for at most `SHUTDOWN_TIMEOUT_SECONDS`) and closes the
    /// database.
    pub async fn run(self) -> anyhow::Result<()> {
        let Self {
            state,
            listener,
            presence,
        } = self;
        let shutdown = state.shutdown.clone();
        // Renewed while the server runs, given up when it stops.
        let presence = tokio::spawn(presence.keep(shutdown.clone()));
        let timeout = state.backend.config.shutdown_timeout;
        let db = state.backend.db.clone();
        // The generation workers run beside the HTTP server, under the same shutdown.
        let mut workers = tokio::spawn(backend::jobs::run(state.backend.clone(), shutdown.clone()));
        // Tasks that live as long as the server: the cleanup on its schedule (one run at a
        // time across processes) and, with PostgreSQL, the relay that carries events to and
        // from the other server processes. The first to end unasked is named.
        let cleanup = tokio::spawn(backend::services::maintenance::schedule(
            state.backend.clone(),
            shutdown.clone(),
        ));
        let relay = tokio::spawn(backend::events::relay(
            state.backend.runtime.hub.clone(),
            state.backend.db.clone(),
            shutdown.clone(),
        ));
        let mut background = tokio::spawn(async move {
            tokio::select! {
                joined = cleanup => ("the cleanup schedule", joined),
                joined = relay => ("the event relay", joined),
            }
        });
        // The identity providers' discovery: one that is down now is tried again until it
        // answers (a task that ends once all have, or at shutdown).
        tokio::spawn({
            let identities = state.backend.external.identities.clone();
            let shutdown = shutdown.clone();
            async move {
                tokio::select! {
                    () = identities.warm_up() => {}
                    () = shutdown.cancelled() => {}
                }
            }
        });
        let app = routes::router(state);
        tracing::info!(addr = %listener.local_addr()?, "listening on http://{}", listener.local_addr()?);

        let graceful = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let shutdown = shutdown.clone();
            async move { shutdown.cancelled().await }
        });
        let mut server = tokio::spawn(async move { graceful.await });
        tokio::select! {
            // First: once shutdown is asked for, the server and the workers end too, and
            // that is no failure.
            biased;
            () = shutdown.cancelled() => {}
            // The server stopped without being asked to: never silently gone.
            joined = &mut server => {
                shutdown.cancel();
                db.close().await;
                joined.context("server task")?.context("server")?;
                anyhow::bail!("the HTTP server stopped unexpectedly");
            }
            // Nor are the workers: without them no job would ever finish.
            joined = &mut workers => {
                shutdown.cancel();
                let _ = tokio::time::timeout(timeout, server).await;
                db.close().await;
                joined.context("generation workers")?;
                anyhow::bail!("the generation workers stopped unexpectedly");
            }
            // Nor are the background tasks.
            joined = &mut background => {
                shutdown.cancel();
                let _ = tokio::time::timeout(timeout, server).await;
                db.close().await;
                let (name, joined) = joined.context("background tasks")?;
                joined.context(name)?;
                anyhow::bail!("{name} stopped unexpectedly");
            }
        }
        tracing::info!(
            timeout_s = timeout.as_secs(),
            "shutting down: finishing in-flight requests"
        );
        match tokio::time::timeout(timeout, server).await {
            Ok(joined) => joined.context("server task")?.context("server")?,
            Err(_) => tracing::warn!("in-flight requests did not finish in time; stopping anyway"),
        }
        // The workers have their own grace period for the jobs they run.
        if let Err(e) = workers.await {
            tracing::error!(error = %e, "the generation workers failed while stopping");
        }
        if let Err(e) = presence.await {
            tracing::error!(error = %e, "the presence lease task failed while stopping");
        }
        db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
