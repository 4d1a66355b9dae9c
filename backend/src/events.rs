//! The events hub: each message is serialised once and delivered to the connections of
//! its user only. Publishing never waits: every user has a bounded broadcast channel, and a
//! subscriber that falls behind learns it (`Lagged`) and must re-read the state (the
//! realtime channel turns that into `{"type": "resync"}`).
//!
//! With PostgreSQL several server processes share one database, and a job may run in a
//! process other than the one holding its owner's connections: every message is then also
//! relayed to the other processes through `NOTIFY` ([`relay`]). A message too large for a
//! notification reaches the other processes as `resync`, which makes their clients re-read.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use model::{Image, ImageEventKind, ServerMessage};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::db::{notify, Db};

/// Messages kept for a slow subscriber before it must resync.
pub const CAPACITY: usize = 256;

/// Relayed messages waiting for their `NOTIFY`; past this they are dropped (and logged).
const RELAY_QUEUE: usize = 4096;

/// The PostgreSQL channel that carries events between processes.
const RELAY_CHANNEL: &str = "avatar_studio_events";

/// PostgreSQL refuses notification payloads of 8000 bytes or more.
const MAX_NOTIFY_PAYLOAD: usize = 7900;

/// A serialised message (UTF-8 JSON), shared by every subscriber without copying.
pub type Frame = Bytes;

/// Not a message for the client: tells each of a user's connections to check its
/// credential now (a session ended, a token was revoked). Not JSON, so it can never be
/// taken for one.
pub const RECHECK: &[u8] = b"#recheck";

#[derive(Debug, Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    users: Mutex<HashMap<String, broadcast::Sender<Frame>>>,
    /// This process, so that it skips its own relayed messages.
    origin: String,
    /// To the relay task (PostgreSQL only).
    relay: Option<mpsc::Sender<(String, Frame)>>,
    relay_rx: Mutex<Option<mpsc::Receiver<(String, Frame)>>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Hub {
    /// A hub; with `relayed`, messages also go to the other processes once [`relay`] runs.
    pub fn new(relayed: bool) -> Self {
        let (relay, relay_rx) = if relayed {
            let (tx, rx) = mpsc::channel(RELAY_QUEUE);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        Self {
            inner: Arc::new(Inner {
                users: Mutex::default(),
                origin: uuid::Uuid::new_v4().simple().to_string(),
                relay,
                relay_rx: Mutex::new(relay_rx),
            }),
        }
    }

    /// Sends `message` to `user_id`'s subscribers, here and in the other processes; never
    /// blocks.
    pub fn publish(&self, user_id: &str, message: &ServerMessage) {
        let frame = match serde_json::to_vec(message) {
            Ok(json) => Frame::from(json),
            Err(e) => {
                tracing::error!(error = %e, "cannot serialise an event");
                return;
            }
        };
        self.send(user_id, frame);
    }

    /// Hands `frame` to `user_id`'s subscribers here and, with the relay, elsewhere.
    fn send(&self, user_id: &str, frame: Frame) {
        self.deliver(user_id, frame.clone());
        if let Some(relay) = &self.inner.relay {
            if relay.try_send((user_id.to_owned(), frame)).is_err() {
                metrics::counter!("avatar_events_relay_dropped_total").increment(1);
                tracing::warn!(
                    "the event relay is behind; an event did not reach the other processes"
                );
            }
        }
    }

    /// Asks `user_id`'s connections, here and in the other processes, to check their
    /// credentials at once: those whose session or token has just ended close.
    pub fn recheck(&self, user_id: &str) {
        self.send(user_id, Frame::from_static(RECHECK));
    }

    /// Tells `user_id`'s connections that an image was created, changed or deleted.
    pub fn image(&self, user_id: &str, event: ImageEventKind, image: &Image) {
        self.publish(
            user_id,
            &ServerMessage::Image {
                event,
                image: Box::new(image.clone()),
            },
        );
    }

    /// Hands a serialised message to this process's subscribers of `user_id`.
    fn deliver(&self, user_id: &str, frame: Frame) {
        let sender = {
            let mut users = self.inner.users.lock().unwrap_or_else(|e| e.into_inner());
            match users.get(user_id) {
                Some(s) if s.receiver_count() > 0 => Some(s.clone()),
                Some(_) => {
                    // Nobody listens any more: forget the channel.
                    users.remove(user_id);
                    None
                }
                None => None,
            }
        };
        if let Some(sender) = sender {
            let _ = sender.send(frame);
        }
    }

    /// A new subscription to `user_id`'s messages.
    pub fn subscribe(&self, user_id: &str) -> broadcast::Receiver<Frame> {
        let mut users = self.inner.users.lock().unwrap_or_else(|e| e.into_inner());
        users
            .entry(user_id.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }

    /// Subscribes to `user_id`'s messages unless this process already holds `max`
    /// subscriptions for them: counted and taken under one lock, so that upgrades racing
    /// each other cannot pass the limit together.
    pub fn subscribe_within(
        &self,
        user_id: &str,
        max: usize,
    ) -> Option<broadcast::Receiver<Frame>> {
        let mut users = self.inner.users.lock().unwrap_or_else(|e| e.into_inner());
        let sender = users
            .entry(user_id.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0);
        (sender.receiver_count() < max).then(|| sender.subscribe())
    }
}

/// Carries events between server processes that share a PostgreSQL database: sends this
/// process's messages with `NOTIFY` and delivers the others' here. Runs until `shutdown`;
/// with SQLite (one process) there is nothing to do and it just waits.
pub async fn relay(hub: Hub, db: Db, shutdown: CancellationToken) {
    let Db::Postgres(pool) = db else {
        shutdown.cancelled().await;
        return;
    };
    let Some(mut outgoing) = hub
        .inner
        .relay_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    else {
        tracing::error!("the event relay was started twice, or for a hub without relay");
        shutdown.cancelled().await;
        return;
    };
    let sender = {
        let (pool, origin) = (pool.clone(), hub.inner.origin.clone());
        async move {
            while let Some((user_id, frame)) = outgoing.recv().await {
                let payload = notification(&origin, &user_id, &frame);
                if let Err(e) = notify::notify(&pool, RELAY_CHANNEL, &payload).await {
                    tracing::warn!(error = %e, "cannot relay an event to the other processes");
                }
            }
        }
    };
    let receiver = notify::listen(&pool, RELAY_CHANNEL, "relayed events", |payload| {
        if let Some((origin, user_id, json)) = parse_notification(payload) {
            if origin != hub.inner.origin {
                hub.deliver(user_id, Frame::copy_from_slice(json.as_bytes()));
            }
        }
    });
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = sender => {}
        () = receiver => {}
    }
}

/// Tells the server processes sharing this PostgreSQL database to recheck the credentials
/// of `user_id`'s connections now, for a change made outside any server (an operator
/// command disabling the account). With SQLite there is no other process to tell: the
/// connections notice at their next periodic check (`REALTIME_RECHECK_SECONDS`).
pub async fn recheck_from_outside(db: &Db, user_id: &str) -> Result<(), crate::db::DbError> {
    if let Db::Postgres(pool) = db {
        notify::notify(
            pool,
            RELAY_CHANNEL,
            &notification("operator", user_id, RECHECK),
        )
        .await?;
    }
    Ok(())
}

/// `origin user_id json`, or `resync` in place of a message too large for `NOTIFY`.
fn notification(origin: &str, user_id: &str, frame: &[u8]) -> String {
    let json = std::str::from_utf8(frame).unwrap_or(r#"{"type":"resync"}"#);
    let json = if origin.len() + user_id.len() + json.len() + 2 > MAX_NOTIFY_PAYLOAD {
        r#"{"type":"resync"}"#
    } else {
        json
    };
    format!("{origin} {user_id} {json}")
}

fn parse_notification(payload: &str) -> Option<(&str, &str, &str)> {
    let (origin, rest) = payload.split_once(' ')?;
    let (user_id, json) = rest.split_once(' ')?;
    Some((origin, user_id, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_reach_their_user_only() {
        let hub = Hub::default();
        let mut ada = hub.subscribe("ada");
        let mut bob = hub.subscribe("bob");
        hub.publish("ada", &ServerMessage::Resync);
        assert_eq!(&ada.recv().await.unwrap()[..], br#"{"type":"resync"}"#);
        assert!(bob.try_recv().is_err());
        // Publishing for nobody is fine.
        hub.publish("carol", &ServerMessage::Resync);
    }

    #[tokio::test]
    async fn a_slow_subscriber_learns_that_it_fell_behind() {
        let hub = Hub::default();
        let mut slow = hub.subscribe("ada");
        for _ in 0..CAPACITY + 10 {
            hub.publish("ada", &ServerMessage::Resync);
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }

    #[test]
    fn notifications_carry_the_message_or_resync_when_too_large() {
        let small = notification("o1", "u1", br#"{"type":"hello"}"#);
        assert_eq!(
            parse_notification(&small),
            Some(("o1", "u1", r#"{"type":"hello"}"#))
        );
        let big = format!(r#"{{"type":"image","x":"{}"}}"#, "a".repeat(9000));
        let relayed = notification("o1", "u1", big.as_bytes());
        assert!(relayed.len() < MAX_NOTIFY_PAYLOAD);
        assert_eq!(
            parse_notification(&relayed),
            Some(("o1", "u1", r#"{"type":"resync"}"#))
        );
    }
}
