//! The database layer: SQLite or PostgreSQL, chosen by the scheme of `DATABASE_URL`.
//!
//! Conventions (DESIGN.md): ids are TEXT, times are INTEGER milliseconds, JSON is TEXT,
//! placeholders are `$1` (both drivers accept them). Repository modules are grouped by
//! aggregate (`users`, …) and write portable SQL; where the dialects differ, the query is
//! chosen with [`Db::dialect`] in one clearly marked `match` in that module.
//!
//! [`with_pool!`] runs the same sqlx code against whichever pool is configured: the code
//! is compiled once per driver, so both are type-checked.

pub mod api_tokens;
pub mod characters;
pub mod collections;
pub mod email_tokens;
mod enums;
pub mod identities;
pub mod identity_flows;
pub mod images;
pub mod invitations;
pub mod jobs;
pub mod maintenance;
pub mod notify;
pub mod provider_files;
pub mod provider_keys;
pub mod quotas;
pub mod rate_limits;
pub mod sessions;
pub mod share_links;
pub mod spend;
pub mod users;

pub use enums::{Enumerated, StatusSet, FINAL, RUNNING};

use std::{str::FromStr, time::Duration};

use sqlx::{
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgPool, Postgres, SqlitePool,
};

use crate::config::DatabaseUrl;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A connection pool to one of the two supported databases.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// Runs `$body` with `$pool` bound to the configured pool, whichever driver it is.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// A value for a query whose shape is built at run time (filters, `IN` lists).
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
}

/// `$from, $from+1, …`: `count` placeholders for an `IN (…)` list.
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds a list of [`Arg`]s to a query, in order.
#[macro_export]
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::db::Arg::Text(v) => query.bind(v.clone()),
                $crate::db::Arg::OptText(v) => query.bind(v.clone()),
                $crate::db::Arg::Int(v) => query.bind(*v),
                $crate::db::Arg::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// The rows of `table` owned by `user_id` whose ids are `ids` (one query), in the order of
/// `ids`; unknown ids are left out. `table` and `columns` are our constants, never input.
pub(crate) async fn owned_in_order<R>(
    db: &Db,
    table: &str,
    columns: &str,
    user_id: &str,
    ids: &[String],
    id_of: impl Fn(&R) -> &str,
) -> Result<Vec<R>, DbError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE user_id = $1 AND id IN ({})",
        placeholders(2, ids.len())
    );
    let mut args = vec![Arg::Text(user_id.to_owned())];
    args.extend(ids.iter().cloned().map(Arg::Text));
    let mut rows: Vec<R> = with_pool!(db, |pool| bind_args!(sqlx::query_as::<_, R>(&sql), &args)
        .fetch_all(pool)
        .await)?;
    rows.sort_by_key(|r| ids.iter().position(|id| id == id_of(r)));
    Ok(rows)
}

impl Db {
    /// Connects (creating the SQLite file or the Postgres database when it does not exist
    /// yet), without migrating.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self, DbError> {
        let connect_err = |source| DbError::Connect {
            url: url.to_string(),
            source,
        };
        if url.is_postgres() {
            let options = PgConnectOptions::from_str(url.expose()).map_err(connect_err)?;
            // Zero-config for new deployments: create the database when it is missing.
            if !Postgres::database_exists(url.expose())
                .await
                .map_err(connect_err)?
            {
                tracing::info!(database = %url, "creating the database");
                if let Err(e) = Postgres::create_database(url.expose()).await {
                    // Another process may have created it at the same moment.
                    if !Postgres::database_exists(url.expose())
                        .await
                        .unwrap_or(false)
                    {
                        return Err(connect_err(e));
                    }
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(connect_err)?;
            Ok(Self::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(url.expose())
                .map_err(connect_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // A connection to a local file does not go stale as a network one can:
                // no ping (a round trip to the connection's thread) before every query.
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(connect_err)?;
            Ok(Self::Sqlite(pool))
        }
    }

    /// Connects and applies every pending migration.
    pub async fn connect_and_migrate(
        url: &DatabaseUrl,
        max_connections: u32,
    ) -> Result<Self, DbError> {
        let db = Self::connect(url, max_connections).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend; returns how many were new.
    pub async fn migrate(&self) -> Result<usize, DbError> {
        let migrator = self.migrator();
        let before = self.applied_migrations().await.unwrap_or(0);
        with_pool!(self, |pool| migrator.run(pool).await)?;
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    /// The number of migrations embedded in this build for this backend.
    pub fn known_migrations(&self) -> usize {
        self.migrator().iter().count()
    }

    fn migrator(&self) -> &'static Migrator {
        match self.dialect() {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// How many migrations this database has recorded as applied.
    pub async fn applied_migrations(&self) -> Result<usize, DbError> {
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let count: i64 = with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await)?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// A round trip to the database, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        let one: i32 = with_pool!(self, |pool| sqlx::query_scalar("SELECT 1")
            .fetch_one(pool)
            .await)?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    /// Closes every connection; pending queries finish first.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await);
    }
}

/// Whether an error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Whether an error is a foreign-key violation, on either backend: a row refers to one
/// that does not exist (any more: another request deleted it after it was checked).
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}
