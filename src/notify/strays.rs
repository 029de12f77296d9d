//! Stray copies of an announcement. A first post that timed out may still
//! be carried out by the platform after its lookup found nothing and the
//! post went again: two copies then stand. After such a re-post, a sweep
//! looks again for a while, at growing intervals, and deletes every copy of
//! the release's announcement in that channel but the recorded one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ChatSink;
use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;

/// How long after a re-post a late copy is looked for.
pub(super) const WINDOW: Duration = Duration::from_secs(90);
/// The first pause; each next one doubles, up to `LONGEST_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_secs(2);
const LONGEST_PAUSE: Duration = Duration::from_secs(15);

pub(super) struct Sweep {
    pub sink: Arc<dyn ChatSink>,
    pub channel: ChannelRef,
    pub message: Message,
    /// When the first, uncertain try began: the lookups read back to then.
    pub since: DateTime<Utc>,
    /// The copy the store records; it stays.
    pub kept: String,
    /// How long one platform call may take.
    pub timeout: Duration,
}

impl Sweep {
    /// Looks at growing intervals within `WINDOW`; a crash or stop ends it
    /// early (a copy that lands later stays: rare, and harmless but for
    /// the clutter).
    pub(super) async fn run(self) {
        let mut pause = FIRST_PAUSE;
        let mut waited = Duration::ZERO;
        while waited < WINDOW {
            tokio::time::sleep(pause).await;
            waited += pause;
            pause = (pause * 2).min(LONGEST_PAUSE);
            self.delete_strays().await;
        }
    }

    async fn delete_strays(&self) {
        let lookup = self
            .sink
            .find_posts(&self.channel, &self.message, self.since);
        let copies = match tokio::time::timeout(self.timeout, lookup).await {
            Ok(Ok(copies)) => copies,
            Ok(Err(error)) => {
                tracing::debug!(
                    ?error,
                    "looking for stray copies failed; looking again later"
                );
                return;
            }
            Err(_) => return,
        };
        for stray in copies.iter().filter(|copy| **copy != self.kept) {
            let deleted =
                tokio::time::timeout(self.timeout, self.sink.delete(&self.channel, stray));
            match deleted.await {
                Ok(Ok(())) => tracing::info!(
                    channel = %self.channel,
                    release = %self.message.release,
                    stray,
                    "deleted a late copy of an announcement"
                ),
                Ok(Err(error)) => {
                    tracing::warn!(
                        ?error,
                        stray,
                        "deleting a late copy failed; trying again later"
                    )
                }
                Err(_) => tracing::warn!(stray, "deleting a late copy timed out"),
            }
        }
    }
}
