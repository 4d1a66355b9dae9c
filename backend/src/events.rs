//! The events hub: each message is serialised once and delivered to the connections of
//! its user only. Publishing never waits: every user has a bounded broadcast channel, and a
//! subscriber that falls behind learns it (`Lagged`) and must re-read the state (the
//! realtime channel turns that into `{"type": "resync"}`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use model::ServerMessage;
use tokio::sync::broadcast;

/// Messages kept for a slow subscriber before it must resync.
const CAPACITY: usize = 256;

/// A serialised message, shared by every subscriber.
pub type Frame = Arc<str>;

#[derive(Debug, Clone, Default)]
pub struct Hub {
    users: Arc<Mutex<HashMap<String, broadcast::Sender<Frame>>>>,
}

impl Hub {
    /// Sends `message` to `user_id`'s subscribers, if any; never blocks.
    pub fn publish(&self, user_id: &str, message: &ServerMessage) {
        let sender = {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
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
            match serde_json::to_string(message) {
                Ok(json) => {
                    let _ = sender.send(Frame::from(json));
                }
                Err(e) => tracing::error!(error = %e, "cannot serialise an event"),
            }
        }
    }

    /// A new subscription to `user_id`'s messages.
    pub fn subscribe(&self, user_id: &str) -> broadcast::Receiver<Frame> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users
            .entry(user_id.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }
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
        assert_eq!(&*ada.recv().await.unwrap(), r#"{"type":"resync"}"#);
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
}
