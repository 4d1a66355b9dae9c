//! The database layer, on SQLite and on PostgreSQL alike.

use backend::{
    db::{self, users, Dialect},
    db_test,
    domain::Email,
};

fn new_user(email: &str) -> users::NewUser {
    users::NewUser {
        email: Email::parse(email).unwrap(),
        display_name: Some("Ann".to_owned()),
        password_hash: None,
        is_admin: false,
    }
}

db_test!(migrations_are_applied_once, |db| {
    assert!(db.known_migrations() >= 1);
    assert_eq!(
        db.applied_migrations().await.unwrap(),
        db.known_migrations()
    );
    // Running them again (a second server start) applies nothing and breaks nothing.
    assert_eq!(db.migrate().await.unwrap(), 0);
    db.ping().await.unwrap();
});

db_test!(a_user_round_trips, |db| {
    let created = users::insert(&db, new_user("Ann.Lee@Example.com"))
        .await
        .unwrap();
    assert_eq!(created.email, "Ann.Lee@Example.com");
    assert_eq!(created.email_normalized, "ann.lee@example.com");
    assert_eq!(created.display_name.as_deref(), Some("Ann"));
    assert!(!created.is_admin);
    assert!(
        created.created_at > 1_700_000_000_000,
        "times are milliseconds"
    );

    let by_id = users::find_by_id(&db, &created.id).await.unwrap().unwrap();
    assert_eq!(by_id, created);
    let by_email = users::find_by_email(&db, &Email::parse("ANN.LEE@example.COM").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, created.id);
    assert!(users::find_by_id(&db, "no-such-id")
        .await
        .unwrap()
        .is_none());

    let public = created.to_model();
    assert_eq!(public.id, created.id);
    assert!(!public.email_verified);
    assert_eq!(public.created_at.timestamp_millis(), created.created_at);
});

db_test!(emails_are_unique_case_insensitively, |db| {
    users::insert(&db, new_user("ann@example.com"))
        .await
        .unwrap();
    let err = users::insert(&db, new_user("ANN@EXAMPLE.COM"))
        .await
        .unwrap_err();
    assert!(matches!(err, users::UserRepoError::EmailTaken), "{err:?}");
    assert_eq!(users::count(&db).await.unwrap(), 1);
});

db_test!(users_are_listed_page_by_page, |db| {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            users::insert(&db, new_user(&format!("u{i}@example.com")))
                .await
                .unwrap()
                .id,
        );
    }
    let first = users::list(&db, None, 2).await.unwrap();
    let second = users::list(&db, Some(&first[1].id), 2).await.unwrap();
    let third = users::list(&db, Some(&second[1].id), 2).await.unwrap();
    let seen: Vec<String> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(
        seen, ids,
        "ids are time-ordered, so pages follow creation order"
    );
    assert_eq!(third.len(), 1);
});

#[tokio::test]
async fn sqlite_is_configured_for_concurrent_use() {
    let test_db = backend::testing::TestDb::sqlite().await;
    let db::Db::Sqlite(pool) = &test_db.db else {
        panic!("sqlite expected")
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(timeout >= 5000, "busy timeout {timeout} ms");
    assert_eq!(test_db.db.dialect(), Dialect::Sqlite);
    test_db.destroy().await;
}

#[tokio::test]
async fn a_missing_postgres_database_is_created_on_connect() {
    if backend::testing::skip_postgres() {
        return;
    }
    let name = backend::testing::unique_database_name();
    let url = backend::config::DatabaseUrl::parse(&backend::testing::postgres_url(&name)).unwrap();
    let db = db::Db::connect_and_migrate(&url, 2).await.unwrap();
    assert_eq!(db.dialect(), Dialect::Postgres);
    assert_eq!(users::count(&db).await.unwrap(), 0);
    db.close().await;
    backend::testing::drop_postgres_database(&name).await;
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let url =
        backend::config::DatabaseUrl::parse("postgres://postgres:pw@127.0.0.1:1/nothing").unwrap();
    let err = db::Db::connect(&url, 1).await.unwrap_err().to_string();
    assert!(
        err.contains(
            "cannot connect to the database at postgres://postgres:***@127.0.0.1:1/nothing"
        ),
        "{err}"
    );
    assert!(
        !err.contains("pw@"),
        "the password must not be shown: {err}"
    );
}
