//! The two migration sets describe one schema: the same tables, columns (nullability and
//! type family), keys, foreign keys, indexes and CHECK constraints, read from the live
//! schemas of a fresh SQLite and a fresh PostgreSQL database. The enumerated columns'
//! checks hold exactly the values of the enums the code reads them into, and the database
//! itself refuses any other value.

use std::collections::{BTreeMap, BTreeSet};

use backend::{
    db::{self, images, users, Db},
    db_test,
    testing::{skip_postgres, TestDb},
};
use model::{ImageKind, ImageStatus, KeyProvider, ProviderId};

/// One table as both databases can describe it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// name → (type family, NOT NULL)
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    unique: BTreeSet<Vec<String>>,
    /// (column, referenced table, referenced column, ON DELETE)
    foreign_keys: BTreeSet<(String, String, String, String)>,
    /// column → the values `CHECK (column IN (…))` allows
    checks: BTreeMap<String, BTreeSet<String>>,
    /// name → columns
    indexes: BTreeMap<String, Vec<String>>,
}

type Schema = BTreeMap<String, Table>;

/// A PostgreSQL constraint: name, table, kind, columns, referenced table and column (for a
/// foreign key), definition.
type Constraint = (
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    String,
);

/// The type family of a column: the dialects spell integers, bytes and booleans apart.
fn family(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int8" | "int4" => "integer".to_owned(),
        "text" => "text".to_owned(),
        "blob" | "bytea" => "bytes".to_owned(),
        "boolean" | "bool" => "boolean".to_owned(),
        other => other.to_owned(),
    }
}

/// The quoted values of a CHECK's text, in either dialect's spelling.
fn quoted_values(check: &str) -> BTreeSet<String> {
    check
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

async fn sqlite_schema(pool: &sqlx::SqlitePool) -> Schema {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (name, sql) in tables {
        let mut table = Table::default();
        let columns: Vec<(String, String, bool, i64)> =
            sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (column, declared, not_null, pk_pos) in columns {
            if pk_pos > 0 {
                pk.push((pk_pos, column.clone()));
            }
            table
                .columns
                .insert(column, (family(&declared), not_null || pk_pos > 0));
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        let fks: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list($1)",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        table.foreign_keys = fks.into_iter().collect();
        let indexes: Vec<(String, String)> =
            sqlx::query_as("SELECT name, origin FROM pragma_index_list($1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, origin) in indexes {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            match origin.as_str() {
                "u" => {
                    table.unique.insert(columns);
                }
                "c" => {
                    table.indexes.insert(index, columns);
                }
                _ => {} // the primary key's own index
            }
        }
        // `CHECK (column IN ('a', 'b'))`, as the migrations write them.
        for part in sql.split("CHECK (").skip(1) {
            let column = part.split_whitespace().next().unwrap().to_owned();
            let list = &part[..part.find("))").unwrap()];
            table.checks.insert(column, quoted_values(list));
        }
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(pool: &sqlx::PgPool) -> Schema {
    let mut schema = Schema::new();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, column, declared, nullable) in columns {
        schema
            .entry(table)
            .or_default()
            .columns
            .insert(column, (family(&declared), nullable == "NO"));
    }
    // Every constraint with its columns in key order (and, for a foreign key, what it
    // refers to).
    let constraints: Vec<Constraint> = sqlx::query_as(
        "SELECT c.conname::text, c.conrelid::regclass::text, c.contype::text, \
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n \
                     ORDER BY k.i), \
               CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text END, \
               (SELECT a.attname::text FROM pg_attribute a \
                WHERE a.attrelid = c.confrelid AND a.attnum = c.confkey[1]), \
               pg_get_constraintdef(c.oid) \
             FROM pg_constraint c \
             WHERE c.connamespace = current_schema()::regnamespace \
               AND c.conrelid::regclass::text <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut backing = BTreeSet::new();
    for (name, table, kind, columns, referenced, referenced_column, definition) in constraints {
        let entry = schema.entry(table).or_default();
        match kind.as_str() {
            "p" => entry.primary_key = columns,
            "u" => {
                entry.unique.insert(columns);
            }
            "f" => {
                let on_delete = definition
                    .split("ON DELETE ")
                    .nth(1)
                    .unwrap_or("NO ACTION")
                    .to_owned();
                entry.foreign_keys.insert((
                    columns[0].clone(),
                    referenced.unwrap(),
                    referenced_column.unwrap(),
                    on_delete,
                ));
            }
            "c" => {
                entry
                    .checks
                    .insert(columns[0].clone(), quoted_values(&definition));
            }
            other => panic!("unexpected constraint {name} of kind {other}"),
        }
        backing.insert(name);
    }
    let indexes: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text, \
           ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(n, o) \
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
           JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relnamespace = current_schema()::regnamespace \
           AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (index, table, columns) in indexes {
        // The indexes behind primary keys and UNIQUE constraints are compared as those.
        if !backing.contains(&index) {
            schema
                .entry(table)
                .or_default()
                .indexes
                .insert(index, columns);
        }
    }
    schema
}

fn values<T: Copy>(all: &[T], text: fn(T) -> &'static str) -> BTreeSet<String> {
    all.iter().map(|v| text(*v).to_owned()).collect()
}

#[tokio::test]
async fn the_sqlite_and_postgres_migrations_make_the_same_schema() {
    if skip_postgres() {
        eprintln!("skipped: AVATAR_TEST_SKIP_POSTGRES=1");
        return;
    }
    let lite = TestDb::sqlite().await;
    let pg = TestDb::postgres().await;
    let (Db::Sqlite(lite_pool), Db::Postgres(pg_pool)) = (&lite.db, &pg.db) else {
        unreachable!("TestDb::sqlite and ::postgres give those pools")
    };
    let sqlite = sqlite_schema(lite_pool).await;
    let postgres = postgres_schema(pg_pool).await;
    lite.destroy().await;
    pg.destroy().await;

    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, table) in &sqlite {
        assert_eq!(
            table, &postgres[name],
            "table {name}: SQLite (left) and PostgreSQL (right)"
        );
    }

    // The checks are the enums' own lists.
    let status = values(ImageStatus::ALL, ImageStatus::as_str);
    let provider = values(ProviderId::ALL, ProviderId::as_str);
    let expected: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::from([
        (
            ("images", "kind"),
            values(ImageKind::ALL, ImageKind::as_str),
        ),
        (("images", "status"), status.clone()),
        (("images", "provider"), provider.clone()),
        (("jobs", "status"), status.clone()),
        (("jobs", "provider"), provider.clone()),
        (("job_stages", "status"), status),
        (("provider_files", "provider"), provider),
        (
            ("provider_keys", "provider"),
            values(&KeyProvider::ALL, KeyProvider::as_str),
        ),
        (
            ("email_tokens", "purpose"),
            values(
                &[
                    db::email_tokens::Purpose::VerifyEmail,
                    db::email_tokens::Purpose::ResetPassword,
                ],
                db::email_tokens::Purpose::as_str,
            ),
        ),
        (
            ("maintenance_runs", "trigger"),
            values(
                &[
                    backend::services::maintenance::Trigger::Server,
                    backend::services::maintenance::Trigger::Command,
                ],
                backend::services::maintenance::Trigger::as_str,
            ),
        ),
        (
            ("spend", "key_source"),
            values(model::KeySource::ALL, model::KeySource::as_str),
        ),
    ]);
    let found: BTreeMap<(&str, &str), BTreeSet<String>> = sqlite
        .iter()
        .flat_map(|(t, table)| {
            table
                .checks
                .iter()
                .map(move |(c, v)| ((t.as_str(), c.as_str()), v.clone()))
        })
        .collect();
    assert_eq!(found, expected);
}

db_test!(the_database_refuses_values_outside_the_enums, |db| {
    let user = users::insert(&db, crate::new_user("checks@example.com"))
        .await
        .unwrap();
    let insert = |kind: &'static str, status: &'static str| {
        let db = db.clone();
        let user_id = user.id.clone();
        async move {
            let sql = "INSERT INTO images (id, user_id, kind, status, favorite, created_at, \
                       updated_at) VALUES ($1, $2, $3, $4, FALSE, 1, 1)";
            let id = backend::new_id();
            let result = match &db {
                Db::Sqlite(pool) => sqlx::query(sql)
                    .bind(&id)
                    .bind(&user_id)
                    .bind(kind)
                    .bind(status)
                    .execute(pool)
                    .await
                    .map(|_| ()),
                Db::Postgres(pool) => sqlx::query(sql)
                    .bind(&id)
                    .bind(&user_id)
                    .bind(kind)
                    .bind(status)
                    .execute(pool)
                    .await
                    .map(|_| ()),
            };
            (id, result)
        }
    };
    let (_, ok) = insert("uploaded", "completed").await;
    ok.unwrap();
    for (kind, status) in [
        ("photo", "completed"),
        ("uploaded", "done"),
        ("Uploaded", "completed"),
    ] {
        let (_, refused) = insert(kind, status).await;
        let err = refused.expect_err("the database refuses it");
        assert!(
            err.as_database_error()
                .is_some_and(|e| e.is_check_violation()),
            "{kind}/{status}: {err}"
        );
    }
});

db_test!(
    an_unknown_value_read_back_names_its_column_and_value,
    |db| {
        // A value the code does not know, stored behind the checks' back (an older or newer
        // version, a hand edit): reading the row is an error that says what and where, never
        // a silent default.
        let user = users::insert(&db, crate::new_user("unknown@example.com"))
            .await
            .unwrap();
        let id = backend::new_id();
        let sql = "INSERT INTO images (id, user_id, kind, status, favorite, created_at, \
               updated_at) VALUES ($1, $2, 'uploaded', 'archived', FALSE, 1, 1)";
        match &db {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.unwrap();
                sqlx::query("PRAGMA ignore_check_constraints = ON")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                sqlx::query(sql)
                    .bind(&id)
                    .bind(&user.id)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                sqlx::query("PRAGMA ignore_check_constraints = OFF")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
            Db::Postgres(pool) => {
                sqlx::query("ALTER TABLE images DROP CONSTRAINT images_status_check")
                    .execute(pool)
                    .await
                    .unwrap();
                sqlx::query(sql)
                    .bind(&id)
                    .bind(&user.id)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
        let err = images::get(&db, &user.id, &id)
            .await
            .expect_err("an unknown status is not read as another");
        let message = err.to_string();
        assert!(message.contains("column \"status\""), "{message}");
        assert!(
            message.contains("'archived' is not an image status"),
            "{message}"
        );
    }
);
