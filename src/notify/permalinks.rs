//! Links to the chat threads where releases are discussed and approved, for
//! the dashboard. Each platform is asked once per message (Slack's
//! `chat.getPermalink`; Discord's from the channel's guild); answers are
//! kept in memory, since a message's link never changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::ChatSink;
use crate::domain::ids::ChannelRef;

/// Sinks by platform, and the links they gave.
#[derive(Default)]
pub struct Permalinks {
    sinks: HashMap<String, Arc<dyn ChatSink>>,
    known: Mutex<HashMap<(ChannelRef, String), String>>,
}

impl Permalinks {
    pub fn new(sinks: HashMap<String, Arc<dyn ChatSink>>) -> Permalinks {
        Permalinks {
            sinks,
            known: Mutex::default(),
        }
    }

    /// The link to each posted message (channel, message) that has one.
    pub async fn of(&self, posted: &[(ChannelRef, String)]) -> Vec<(ChannelRef, String)> {
        let mut links = Vec::new();
        for (channel, message) in posted {
            let key = (channel.clone(), message.clone());
            let known = self.lock().get(&key).cloned();
            let link = match known {
                Some(link) => Some(link),
                None => {
                    let asked = self.ask(channel, message).await;
                    if let Some(link) = &asked {
                        self.lock().insert(key, link.clone());
                    }
                    asked
                }
            };
            if let Some(link) = link {
                links.push((channel.clone(), link));
            }
        }
        links
    }

    async fn ask(&self, channel: &ChannelRef, message: &str) -> Option<String> {
        let sink = self.sinks.get(channel.platform())?;
        sink.permalink(channel, message).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(ChannelRef, String), String>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}
