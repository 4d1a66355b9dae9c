//! Test support (feature `testing`): a fresh, migrated database per test, on SQLite and on
//! PostgreSQL, dropped afterwards — and [`db_test!`](crate::db_test) to run one test body
//! against both.
//!
//! PostgreSQL is reached at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432`). A missing server fails the test; a developer
//! without one may set `AVATAR_TEST_SKIP_POSTGRES=1` to skip those tests, which is refused
//! when `CI` is set.

use std::{future::Future, panic::AssertUnwindSafe};

use futures::FutureExt;
use sqlx::{Connection, PgConnection};

use crate::{
    config::DatabaseUrl,
    db::{Db, Dialect},
};

/// Databases created by the test suite are named `avatar_test_{unix seconds}_{random}`;
/// ones older than this (left by a killed run) are dropped by the next run.
const STALE_AFTER_SECS: i64 = 3600;

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Whether Postgres tests are skipped on this developer machine (never in CI).
pub fn skip_postgres() -> bool {
    let requested = std::env::var("AVATAR_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !(requested && ci),
        "AVATAR_TEST_SKIP_POSTGRES is not allowed in CI: the Postgres tests must run"
    );
    requested
}

/// A name for a test database that does not exist yet: `avatar_test_{unix secs}_{random}`.
pub fn unique_database_name() -> String {
    format!(
        "avatar_test_{}_{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The URL of the Postgres test database `name` (which need not exist).
pub fn postgres_url(name: &str) -> String {
    format!("{}/{name}", postgres_admin_url().trim_end_matches('/'))
}

/// Drops the Postgres test database `name`, if it exists, ending its connections.
pub async fn drop_postgres_database(name: &str) {
    let mut admin = PgConnection::connect(&postgres_admin_url())
        .await
        .expect("connect to the Postgres test server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop the test database");
    let _ = admin.close().await;
}

/// A database that exists for one test.
pub struct TestDb {
    pub db: Db,
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { name: String },
}

impl TestDb {
    pub async fn new(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Sqlite => Self::sqlite().await,
            Dialect::Postgres => Self::postgres().await,
        }
    }

    /// A migrated SQLite database in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("test.db").display()
        ))
        .expect("valid sqlite url");
        let db = Db::connect_and_migrate(&url, 5)
            .await
            .expect("sqlite test database");
        Self {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new, migrated Postgres database on the test server.
    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin_url} ({e}). The backend tests run \
                 against it; start it, point TEST_POSTGRES_URL at one, or (outside CI) set \
                 AVATAR_TEST_SKIP_POSTGRES=1"
            )
        });
        drop_stale_databases(&mut admin).await;
        let name = unique_database_name();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = DatabaseUrl::parse(&postgres_url(&name)).expect("valid postgres url");
        let db = Db::connect_and_migrate(&url, 5)
            .await
            .expect("postgres test database");
        Self {
            db,
            url,
            cleanup: Cleanup::Postgres { name },
        }
    }

    /// Closes the pool and drops the database.
    pub async fn destroy(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => drop(dir),
            Cleanup::Postgres { name } => {
                if let Ok(mut admin) = PgConnection::connect(&postgres_admin_url()).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

async fn drop_stale_databases(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'avatar\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    for name in names {
        let created = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(now);
        if now - created > STALE_AFTER_SECS {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// Runs `test` with a fresh database of `dialect`, and drops the database afterwards even
/// when the test panics (the panic is then resumed).
pub async fn run_on<F, Fut>(dialect: Dialect, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    if dialect == Dialect::Postgres && skip_postgres() {
        eprintln!("skipped: AVATAR_TEST_SKIP_POSTGRES=1");
        return;
    }
    let test_db = TestDb::new(dialect).await;
    let outcome = AssertUnwindSafe(test(test_db.db.clone()))
        .catch_unwind()
        .await;
    test_db.destroy().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Defines a test that runs once on SQLite and once on PostgreSQL, each with a fresh
/// migrated database: `db_test!(name, |db| { ... })` makes `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::testing::run_on($crate::db::Dialect::Sqlite, |$db| async move $body)
                    .await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::testing::run_on($crate::db::Dialect::Postgres, |$db| async move $body)
                    .await;
            }
        }
    };
}

/// The services over `db` as the server builds them, with objects in memory and the
/// built-in generator: for testing a service where it lives, without HTTP.
pub fn backend(db: Db) -> crate::Backend {
    let data_dir = std::env::temp_dir().join("avatar-studio-service-tests");
    let config = crate::Config::load(|key| match key {
        "DATA_DIR" => Some(data_dir.display().to_string()),
        "ENCRYPTION_SECRET" => Some("a secret for the service tests only, 32+ chars".into()),
        "STORAGE_URL" => Some("memory://".into()),
        _ => None,
    })
    .expect("the service tests' configuration");
    let storage =
        crate::Storage::open(&config.storage_url, &config.s3_options).expect("storage in memory");
    crate::Backend::new(config, db, storage).expect("the services")
}

/// A new account, and the caller it is when it uses a personal access token.
pub async fn principal(backend: &crate::Backend, email: &str) -> crate::services::auth::Principal {
    let user = crate::db::users::insert(
        &backend.db,
        crate::db::users::NewUser {
            email: crate::domain::Email::parse(email).expect("a valid address"),
            display_name: None,
            password_hash: None,
            is_admin: false,
        },
    )
    .await
    .expect("a new account");
    crate::services::auth::Principal {
        caller: user.into(),
        credential: crate::services::auth::Credential::Token {
            id: crate::new_id(),
            scopes: model::TokenScope::DEFAULT.to_vec(),
            expires_at: None,
        },
    }
}
