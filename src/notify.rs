//! The notifier: delivers the announcement outbox to chat, posting a
//! release's message once per channel and editing it in place afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{watch, Mutex, Notify};

use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;
use crate::store::Store;

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The platform asked us to slow down (HTTP 429 `Retry-After`).
    #[error("rate limited; retry after {0:?}")]
    RetryAfter(Duration),
    /// Worth another try later: a 5xx, a dropped connection.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Retrying will not help (unknown channel, no permission).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// A chat platform's way of showing announcements. Adapters implement it;
/// the notifier decides when to post, edit or add to the thread.
#[async_trait]
pub trait ChatSink: Send + Sync {
    /// Posts a new announcement; returns the platform's id of the message.
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError>;
    /// Edits an earlier announcement in place.
    async fn update(
        &self,
        channel: &ChannelRef,
        posted: &str,
        message: &Message,
    ) -> Result<(), DeliveryError>;
    /// Adds a line to the announcement's thread.
    async fn reply_in_thread(
        &self,
        channel: &ChannelRef,
        posted: &str,
        line: &str,
    ) -> Result<(), DeliveryError>;
    /// True when a post can succeed without us hearing so (a network call
    /// whose answer is lost, a crash before the answer is recorded). The
    /// notifier then marks each first post durably before it is sent, and
    /// when a mark is found on a later try asks `find_post` for the message
    /// the earlier try may have made, so an announcement is never posted twice.
    fn uncertain_posts(&self) -> bool {
        false
    }
    /// The message an earlier, unanswered `post` of this announcement made,
    /// if it made one.
    async fn find_post(
        &self,
        _channel: &ChannelRef,
        _message: &Message,
    ) -> Result<Option<String>, DeliveryError> {
        Ok(None)
    }
    /// Posts a message that belongs to no release (a scheduled digest).
    async fn post_text(&self, channel: &ChannelRef, text: &str) -> Result<(), DeliveryError>;
    /// Called after each delivery round, for sinks that buffer (the shell
    /// writes a round to the terminal at once). Sinks that send as they go
    /// have nothing to do.
    async fn end_of_round(&self) {}
}

pub struct Notifier {
    store: Store,
    /// Sinks by platform name (`shell`, `slack`, `discord`).
    sinks: HashMap<String, Arc<dyn ChatSink>>,
    /// One delivery round at a time, whether the worker or the shell runs it.
    round: Mutex<()>,
}

/// How many outbox entries one round reads.
const BATCH: usize = 256;

impl Notifier {
    pub fn new(store: Store, sinks: HashMap<String, Arc<dyn ChatSink>>) -> Self {
        Notifier {
            store,
            sinks,
            round: Mutex::new(()),
        }
    }

    /// Keeps the worker from delivering while the guard lives: the shell holds
    /// it while it answers a batch, so announcements print under their reply.
    pub async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.round.lock().await
    }

    /// Delivers what is waiting, in order. Returns when to try again if a
    /// platform pushed back, `None` when nothing deliverable is left.
    pub async fn deliver_pending(&self) -> Option<Duration> {
        let _round = self.round.lock().await;
        let mut retry = self.deliver_round().await;
        if retry.is_none() {
            retry = self.deliver_digests().await;
        }
        for sink in self.sinks.values() {
            sink.end_of_round().await;
        }
        // Deliveries are recorded without an fsync each; one covers the
        // round, off the async threads.
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "flushing deliveries failed"),
            Err(error) => tracing::error!(%error, "flushing deliveries failed"),
        }
        retry
    }

    async fn deliver_round(&self) -> Option<Duration> {
        loop {
            let pending = match self.store.pending_announcements(BATCH) {
                Ok(pending) => pending,
                Err(error) => {
                    tracing::error!(%error, "reading the announcement outbox failed");
                    return Some(Duration::from_secs(1));
                }
            };
            let mut delivered = 0;
            for (key, announcement) in &pending {
                let Some(sink) = self.sinks.get(announcement.channel.platform()) else {
                    // That platform is not connected in this process; keep it for when it is.
                    continue;
                };
                let release = announcement.message.release;
                let channel = &announcement.channel;
                let posted = match self.store.posted(release, channel) {
                    Ok(posted) => posted,
                    Err(error) => {
                        tracing::error!(%error, "reading posted messages failed");
                        return Some(Duration::from_secs(1));
                    }
                };
                let result = match &posted {
                    None => {
                        self.first_post(sink.as_ref(), channel, &announcement.message)
                            .await
                    }
                    Some(message_ref) => {
                        let edited = sink
                            .update(channel, message_ref, &announcement.message)
                            .await;
                        match (edited, &announcement.thread_line) {
                            (Ok(()), Some(line)) => sink
                                .reply_in_thread(channel, message_ref, line)
                                .await
                                .map(|()| message_ref.clone()),
                            (edited, _) => edited.map(|()| message_ref.clone()),
                        }
                    }
                };
                match result {
                    Ok(message_ref) => {
                        if let Err(error) =
                            self.store.delivered(*key, release, channel, &message_ref)
                        {
                            tracing::error!(%error, "recording a delivery failed");
                            return Some(Duration::from_secs(1));
                        }
                        delivered += 1;
                    }
                    Err(DeliveryError::Permanent(why)) => {
                        tracing::warn!(%channel, %release, %why, "dropping an undeliverable announcement");
                        let keep = posted.unwrap_or_default();
                        if let Err(error) = self.store.delivered(*key, release, channel, &keep) {
                            tracing::error!(%error, "recording a dropped delivery failed");
                        }
                    }
                    Err(DeliveryError::RetryAfter(wait)) => return Some(wait),
                    Err(DeliveryError::Transient(why)) => {
                        tracing::warn!(%channel, %why, "announcement delivery failed; will retry");
                        return Some(Duration::from_secs(2));
                    }
                }
            }
            if delivered == 0 || pending.len() < BATCH {
                return None;
            }
        }
    }

    /// Posts an announcement for the first time, or, when an earlier try's
    /// outcome is unknown, adopts (and brings up to date) the message it made.
    async fn first_post(
        &self,
        sink: &dyn ChatSink,
        channel: &ChannelRef,
        message: &Message,
    ) -> Result<String, DeliveryError> {
        if !sink.uncertain_posts() {
            return sink.post(channel, message).await;
        }
        // The mark is fsynced: off the async threads, which answer chat.
        let store = self.store.clone();
        let (release, marked_channel) = (message.release, channel.clone());
        let tried_before =
            tokio::task::spawn_blocking(move || store.begin_post(release, &marked_channel))
                .await
                .map_err(|e| DeliveryError::Transient(format!("marking the post failed: {e}")))?
                .map_err(|e| DeliveryError::Transient(format!("marking the post failed: {e}")))?;
        if tried_before {
            if let Some(found) = sink.find_post(channel, message).await? {
                tracing::info!(%channel, release = %message.release, "an earlier try had posted; editing that message");
                sink.update(channel, &found, message).await?;
                return Ok(found);
            }
        }
        sink.post(channel, message).await
    }

    /// Delivers scheduled digests, in order.
    async fn deliver_digests(&self) -> Option<Duration> {
        let pending = match self.store.pending_digests(BATCH) {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!(%error, "reading the digest outbox failed");
                return Some(Duration::from_secs(1));
            }
        };
        for (key, digest) in pending {
            let Some(sink) = self.sinks.get(digest.channel.platform()) else {
                continue;
            };
            match sink.post_text(&digest.channel, &digest.text).await {
                Ok(()) | Err(DeliveryError::Permanent(_)) => {
                    if let Err(error) = self.store.digest_delivered(key) {
                        tracing::error!(%error, "recording a digest delivery failed");
                        return Some(Duration::from_secs(1));
                    }
                }
                Err(DeliveryError::RetryAfter(wait)) => return Some(wait),
                Err(DeliveryError::Transient(why)) => {
                    tracing::warn!(channel = %digest.channel, %why, "digest delivery failed; will retry");
                    return Some(Duration::from_secs(2));
                }
            }
        }
        None
    }

    /// The worker: delivers whenever woken, and retries after push-back.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let mut retry_in: Option<Duration> = Some(Duration::ZERO);
        loop {
            let wait = retry_in.unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
            retry_in = self.deliver_pending().await;
        }
    }
}
