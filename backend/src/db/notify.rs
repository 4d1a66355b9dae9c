//! PostgreSQL's `LISTEN`/`NOTIFY`: how server processes that share a database tell each
//! other things (a new job to claim, an event for a person's connections). The one place
//! that sends a notification or keeps a listening connection.

use std::time::Duration;

use sqlx::PgPool;

use super::DbError;

/// Sends `payload` on `channel` to every process listening there (this one included).
pub async fn notify(pool: &PgPool, channel: &str, payload: &str) -> Result<(), DbError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}

/// Listens on `channel` and hands each notification's payload to `on_payload`, for ever:
/// a lost or refused connection is logged (naming `what` is listened for) and opened
/// again two seconds later. Stop it by dropping the future.
pub async fn listen(pool: &PgPool, channel: &str, what: &str, mut on_payload: impl FnMut(&str)) {
    loop {
        match sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => {
                    while let Ok(n) = listener.recv().await {
                        on_payload(n.payload());
                    }
                    tracing::warn!("lost the connection listening for {what}; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for {what}"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot listen for {what}"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
