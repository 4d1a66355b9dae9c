//! The session library (`tower-sessions`) on our database: the cookie holds the session
//! id; the `sessions` table holds its SHA-256, the account it belongs to, the browser it
//! was opened in and its expiry, so sessions can be listed and revoked in Settings.
//!
//! Only signed-in sessions are stored (the library saves a session once data is put in
//! it, and we only put data in at sign-in). `save` never re-creates a row: a session
//! revoked while one of its requests was in flight stays revoked.

use async_trait::async_trait;
use backend::{services::session_records, Db};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{Error, Result},
    SessionStore,
};

/// The keys we keep in a session's data.
pub use app::session::{IP_KEY, USER_AGENT_KEY, USER_ID_KEY};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend_err(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

/// The session's data as JSON, its keys in order. The library keeps them in a `HashMap`,
/// whose order differs from one load to the next: written as it iterates, the same data
/// read as changed on most requests, and `save` wrote the row on nearly every page view
/// instead of once a minute (a write per request, and on SQLite every connection's page
/// cache thrown away with it).
fn encode(record: &Record) -> Result<String> {
    let ordered: std::collections::BTreeMap<_, _> = record.data.iter().collect();
    serde_json::to_string(&ordered).map_err(|e| Error::Encode(e.to_string()))
}

fn expiry_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let Some(user_id) = record.data.get(USER_ID_KEY).and_then(|v| v.as_str()) else {
            // Nothing to remember about an anonymous visitor.
            return Ok(());
        };
        let user_id = user_id.to_owned();
        let user_agent = record
            .data
            .get(USER_AGENT_KEY)
            .and_then(|v| v.as_str())
            .map(|ua| ua.chars().take(300).collect::<String>());
        let ip = record
            .data
            .get(IP_KEY)
            .and_then(|v| v.as_str())
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| ip.to_string());
        let data = encode(record)?;
        // A 128-bit random id collides practically never; if it does, pick another.
        for _ in 0..5 {
            let inserted = session_records::create(
                &self.db,
                &record.id.to_string(),
                &user_id,
                &data,
                user_agent.as_deref(),
                ip.as_deref(),
                expiry_ms(record),
            )
            .await
            .map_err(backend_err)?;
            if inserted {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(Error::Backend(
            "could not find a free session id".to_owned(),
        ))
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = encode(record)?;
        session_records::save(&self.db, &record.id.to_string(), &data, expiry_ms(record))
            .await
            .map_err(backend_err)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(row) = session_records::load(&self.db, &id.to_string())
            .await
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(row.expires_at) * 1_000_000)
                .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        session_records::delete(&self.db, &id.to_string())
            .await
            .map_err(backend_err)
    }
}

/// The hash under which the session with this id is stored.
pub fn session_hash(id: &Id) -> String {
    session_records::hash(&id.to_string())
}
