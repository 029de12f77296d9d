//! One lane's deliveries, in order: a release's first post in a channel,
//! then its edits and thread lines (the latest state wins: an edit a later
//! entry supersedes is skipped, its thread line is not), or a channel's
//! digests. The first failure stops the lane and says how long to wait.

use std::sync::Arc;
use std::time::Duration;

use super::{strays, ChatSink, DeliveryError, Notifier};
use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;
use crate::domain::outbox::{Announcement, Digest};
use crate::engine::off_async_threads;

/// One outbox entry, with its key.
pub(super) enum Item {
    Announcement(u64, std::sync::Arc<Announcement>),
    Digest(u64, Digest),
}

/// Waits after a store failure, and after a platform's temporary failure.
const STORE_RETRY: Duration = Duration::from_secs(1);
const TRANSIENT_RETRY: Duration = Duration::from_secs(2);

impl Notifier {
    /// Delivers a lane's entries in order; `Some(wait)` when it stopped early.
    pub(super) async fn deliver_lane(
        &self,
        sink: &Arc<dyn ChatSink>,
        items: &[Item],
    ) -> Option<Duration> {
        for (at, item) in items.iter().enumerate() {
            let wait = match item {
                Item::Announcement(key, announcement) => {
                    let superseded = items[at + 1..].iter().any(|later| {
                        matches!(later, Item::Announcement(_, next)
                            if next.channel == announcement.channel
                                && next.message.release == announcement.message.release)
                    });
                    self.deliver_announcement(sink, *key, announcement, superseded)
                        .await
                }
                Item::Digest(key, digest) => self.deliver_digest(sink.as_ref(), *key, digest).await,
            };
            if wait.is_some() {
                return wait;
            }
        }
        None
    }

    async fn deliver_announcement(
        &self,
        sink: &Arc<dyn ChatSink>,
        key: u64,
        announcement: &Announcement,
        superseded: bool,
    ) -> Option<Duration> {
        let release = announcement.message.release;
        let channel = &announcement.channel;
        let posted = match self.store.posted(release, channel) {
            Ok(posted) => posted,
            Err(error) => {
                tracing::error!(%error, "reading posted messages failed");
                return Some(STORE_RETRY);
            }
        };
        let result = match &posted {
            None => self.first_post(sink, channel, &announcement.message).await,
            Some(message_ref) => {
                let edited = if superseded {
                    Ok(())
                } else {
                    self.timed(sink.update(channel, message_ref, &announcement.message))
                        .await
                };
                match (edited, &announcement.thread_line) {
                    (Ok(()), Some(line)) => self
                        .timed(sink.reply_in_thread(channel, message_ref, line))
                        .await
                        .map(|()| message_ref.clone()),
                    (edited, _) => edited.map(|()| message_ref.clone()),
                }
            }
        };
        match result {
            Ok(message_ref) => {
                if let Err(error) = self.store.delivered(key, release, channel, &message_ref) {
                    tracing::error!(%error, "recording a delivery failed");
                    return Some(STORE_RETRY);
                }
                None
            }
            Err(DeliveryError::Permanent(why)) => {
                tracing::warn!(%channel, %release, %why, "dropping an undeliverable announcement");
                let keep = posted.unwrap_or_default();
                if let Err(error) = self.store.delivered(key, release, channel, &keep) {
                    tracing::error!(%error, "recording a dropped delivery failed");
                }
                None
            }
            Err(DeliveryError::RetryAfter(wait)) => Some(wait),
            Err(DeliveryError::Transient(why)) => {
                tracing::warn!(%channel, %why, "announcement delivery failed; will retry");
                Some(TRANSIENT_RETRY)
            }
        }
    }

    /// Posts an announcement for the first time, or, when an earlier try's
    /// outcome is unknown (no answer, a timeout, a crash), adopts and brings
    /// up to date the message it made. When the lookup finds none and the
    /// post goes again, the earlier try may still be carried out late: a
    /// sweep then looks for that stray copy for a while and deletes it.
    async fn first_post(
        &self,
        sink: &Arc<dyn ChatSink>,
        channel: &ChannelRef,
        message: &Message,
    ) -> Result<String, DeliveryError> {
        if !sink.uncertain_posts() {
            return self.timed(sink.post(channel, message)).await;
        }
        // The mark is fsynced: off the async threads, which answer chat.
        let store = self.store.clone();
        let (release, marked_channel) = (message.release, channel.clone());
        let earlier_try = off_async_threads("marking a post", move || {
            store.begin_post(release, &marked_channel)
        })
        .await
        .map_err(|e| DeliveryError::Transient(format!("marking the post failed: {e}")))?
        .map_err(|e| DeliveryError::Transient(format!("marking the post failed: {e}")))?;
        let Some(began) = earlier_try else {
            return self.timed(sink.post(channel, message)).await;
        };
        let copies = self.timed(sink.find_posts(channel, message, began)).await?;
        if let Some(found) = copies.last() {
            tracing::info!(%channel, release = %message.release, "an earlier try had posted; editing that message");
            self.timed(sink.update(channel, found, message)).await?;
            return Ok(found.clone());
        }
        let kept = self.timed(sink.post(channel, message)).await?;
        let strays = strays::Sweep {
            sink: sink.clone(),
            channel: channel.clone(),
            message: message.clone(),
            since: began,
            kept: kept.clone(),
            timeout: self.timeout,
        };
        tokio::spawn(strays.run());
        Ok(kept)
    }

    async fn deliver_digest(
        &self,
        sink: &dyn ChatSink,
        key: u64,
        digest: &Digest,
    ) -> Option<Duration> {
        match self
            .timed(sink.post_text(&digest.channel, &digest.text))
            .await
        {
            Ok(()) | Err(DeliveryError::Permanent(_)) => {
                if let Err(error) = self.store.digest_delivered(key) {
                    tracing::error!(%error, "recording a digest delivery failed");
                    return Some(STORE_RETRY);
                }
                None
            }
            Err(DeliveryError::RetryAfter(wait)) => Some(wait),
            Err(DeliveryError::Transient(why)) => {
                tracing::warn!(channel = %digest.channel, %why, "digest delivery failed; will retry");
                Some(TRANSIENT_RETRY)
            }
        }
    }
}
