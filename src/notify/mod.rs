//! The notifier: delivers the announcement and digest outboxes to chat,
//! posting a release's message once per channel and editing it in place
//! afterwards. Deliveries run in lanes: one per release and channel (and one
//! per digest channel), in order within a lane, several lanes at once, so a
//! channel whose posts hang holds up nobody else's.

mod lane;
pub mod permalinks;
mod strays;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify, RwLock, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::Delivery;
use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;
use crate::domain::text::Text;
use crate::engine::off_async_threads;
use crate::lanes::{LaneMarks, Start};
use crate::store::OutboxStore;
use lane::Item;

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
        line: &Text,
    ) -> Result<(), DeliveryError>;
    /// True when a post can succeed without us hearing so (a network call
    /// whose answer is lost, a crash before the answer is recorded). The
    /// notifier then marks each first post durably before it is sent, and
    /// when a mark is found on a later try asks `find_post` for the message
    /// the earlier try may have made, so an announcement is never posted twice.
    fn uncertain_posts(&self) -> bool {
        false
    }
    /// The messages that posts of this announcement made (an earlier,
    /// unanswered `post` may have made one, or more), newest first; the
    /// earliest such post began at `since`, so the channel's history is
    /// read back to then, however busy the channel has been since.
    async fn find_posts(
        &self,
        _channel: &ChannelRef,
        _message: &Message,
        _since: DateTime<Utc>,
    ) -> Result<Vec<String>, DeliveryError> {
        Ok(Vec::new())
    }
    /// Deletes a message the bot posted (a stray copy of an announcement).
    async fn delete(&self, _channel: &ChannelRef, _posted: &str) -> Result<(), DeliveryError> {
        Ok(())
    }
    /// Posts a message that belongs to no release (a scheduled digest).
    async fn post_text(&self, channel: &ChannelRef, text: &Text) -> Result<(), DeliveryError>;
    /// Called after each lane of deliveries, for sinks that buffer (the
    /// shell writes to the terminal at once). Sinks that send as they go
    /// have nothing to do.
    async fn end_of_round(&self) {}
    /// The platform's own link to a message the bot posted (the thread
    /// where a release is discussed and approved), where it gives one.
    async fn permalink(&self, _channel: &ChannelRef, _posted: &str) -> Option<String> {
        None
    }
    /// False for a sink that must see its deliveries one at a time, in
    /// outbox order (the shell prints them under the reply that caused them):
    /// all of its deliveries then share one lane.
    fn concurrent(&self) -> bool {
        true
    }
}

pub struct Notifier {
    /// The outboxes: all of the store the notifier needs.
    store: Arc<dyn OutboxStore>,
    /// Sinks by platform name (`shell`, `slack`, `discord`).
    sinks: HashMap<String, Arc<dyn ChatSink>>,
    /// Lanes hold it shared while they deliver; the shell holds it alone
    /// while it answers a batch, so announcements print under their reply.
    round: Arc<RwLock<()>>,
    /// Bounds the deliveries under way at once (`[delivery] in_flight`).
    permits: Arc<Semaphore>,
    /// How long one call to a platform may take (`[delivery] timeout_secs`).
    timeout: Duration,
    /// Which lanes are delivering, and which wait out a push-back. A std
    /// mutex: it is held for a few map operations, never across an await.
    book: std::sync::Mutex<LaneBook>,
    /// Woken when a lane finishes, so its later entries go out at once.
    lane_done: Notify,
    /// Woken (all waiters) when the last busy lane finishes.
    idle: Notify,
}

/// Who makes a round of deliveries durable and ends the sinks' round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// Each lane, when it is done.
    Flushed,
    /// Nobody at once: the caller ends the sinks' round, and the records
    /// become durable with the next fsync.
    Held,
}

/// Lanes of work: (lane, its sink, its entries in order).
type Lanes = Vec<(String, Arc<dyn ChatSink>, Vec<Item>)>;

#[derive(Default)]
struct LaneBook {
    marks: LaneMarks,
    not_before: HashMap<String, Instant>,
}

/// How many outbox entries one dispatch reads.
const BATCH: usize = 256;

/// How often a worker that holds claims on a shared store looks at its
/// outbox again when nothing woke it: a third of the shortest sensible
/// lease, so its claims stay renewed. The takeover watcher looks this often
/// for claims of other instances running out.
pub const POLL: Duration = Duration::from_secs(1);

/// How often a worker with nothing under way looks at its outbox when
/// nothing woke it: a safety net under the change feed, which wakes it for
/// every change.
pub const SAFETY_POLL: Duration = Duration::from_secs(30);

/// The longest a worker (notifier or relay) sleeps when nothing wakes it:
/// `POLL` while it holds claims on a shared store, to renew them; else
/// `SAFETY_POLL`, since the change feed wakes it for every change.
pub fn longest_sleep(shared: bool, holding: bool) -> Duration {
    if shared && holding {
        POLL
    } else {
        SAFETY_POLL
    }
}

/// Clears a lane's busy mark however its task ends (done, panicked,
/// aborted at shutdown), and wakes the dispatcher.
struct LaneGuard {
    notifier: Arc<Notifier>,
    lane: String,
    backoff: Option<Duration>,
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        let mut book = self.notifier.book();
        book.marks.finish(&self.lane);
        if let Some(wait) = self.backoff {
            book.not_before
                .insert(self.lane.clone(), Instant::now() + wait);
        }
        let idle = !book.marks.any_busy();
        drop(book);
        self.notifier.lane_done.notify_one();
        if idle {
            self.notifier.idle.notify_waiters();
        }
    }
}

impl Notifier {
    pub fn new(
        store: Arc<dyn OutboxStore>,
        sinks: HashMap<String, Arc<dyn ChatSink>>,
        delivery: Delivery,
    ) -> Self {
        Notifier {
            store,
            sinks,
            round: Arc::new(RwLock::new(())),
            permits: Arc::new(Semaphore::new(delivery.in_flight.max(1))),
            timeout: delivery.timeout,
            book: std::sync::Mutex::new(LaneBook::default()),
            lane_done: Notify::new(),
            idle: Notify::new(),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, LaneBook> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps every lane from delivering while the guard lives: the shell
    /// holds it while it answers a batch.
    pub async fn hold(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.round.write().await
    }

    /// Delivers what is waiting and returns when it is done (tests, the
    /// shell's `/wait`): when to try again if a platform pushed back, `None`
    /// when nothing deliverable is left.
    pub async fn deliver_pending(self: &Arc<Self>) -> Option<Duration> {
        self.deliver_pending_as(Round::Flushed).await
    }

    /// Like `deliver_pending`, but the lanes it starts neither flush the
    /// store nor end their sinks' round: the shell shows its output itself,
    /// and leaves the records of these deliveries to its next fsync.
    pub async fn deliver_pending_held(self: &Arc<Self>) -> Option<Duration> {
        self.deliver_pending_as(Round::Held).await
    }

    async fn deliver_pending_as(self: &Arc<Self>, round: Round) -> Option<Duration> {
        loop {
            let (lanes, retry) = self.dispatch(round);
            let started = !lanes.is_empty();
            for lane in lanes {
                let _ = lane.await;
            }
            // Lanes the worker started may hold what the caller must see.
            self.until_idle().await;
            // A zero wait means a lane was skipped as stale: read again.
            if !started && retry != Some(Duration::ZERO) {
                return retry;
            }
        }
    }

    /// True when every sink is one lane and some lane is delivering.
    fn one_lane_busy(&self) -> bool {
        !self.sinks.is_empty()
            && self.sinks.values().all(|sink| !sink.concurrent())
            && self.book().marks.any_busy()
    }

    /// Returns once no lane is delivering.
    async fn until_idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the look, so a lane ending in between wakes it.
            idle.as_mut().enable();
            if !self.book().marks.any_busy() {
                return;
            }
            idle.await;
        }
    }

    /// Starts a task for every lane with work that is neither delivering
    /// nor waiting out a push-back; returns them, and when the earliest
    /// waiting lane may go again.
    fn dispatch(self: &Arc<Self>, round: Round) -> (Vec<JoinHandle<()>>, Option<Duration>) {
        let read_at = self.book().marks.read_mark();
        let lanes = match self.lanes() {
            Ok(lanes) => lanes,
            Err(error) => {
                tracing::error!(%error, "reading the announcement outbox failed");
                return (Vec::new(), Some(Duration::from_secs(1)));
            }
        };
        let now = Instant::now();
        let mut retry: Option<Duration> = None;
        let mut started = Vec::new();
        let mut book = self.book();
        for (lane, sink, items) in lanes {
            if let Some(at) = book.not_before.get(&lane).copied() {
                if at > now {
                    let wait = at - now;
                    retry = Some(retry.map_or(wait, |r| r.min(wait)));
                    continue;
                }
            }
            match book.marks.start(&lane, read_at) {
                Start::Started => {}
                Start::Busy => continue,
                // What was read of it may be delivered already: read again
                // at once.
                Start::Stale => {
                    retry = Some(Duration::ZERO);
                    continue;
                }
            }
            book.not_before.remove(&lane);
            let guard = LaneGuard {
                notifier: self.clone(),
                lane,
                backoff: None,
            };
            started.push(tokio::spawn(Notifier::run_lane(guard, sink, items, round)));
        }
        (started, retry)
    }

    /// The outboxes' waiting entries, grouped into lanes in outbox order.
    fn lanes(&self) -> crate::store::StoreResult<Lanes> {
        let mut lanes: Lanes = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut add = |lane: String, sink: &Arc<dyn ChatSink>, item: Item| {
            let at = *index.entry(lane.clone()).or_insert_with(|| {
                lanes.push((lane, sink.clone(), Vec::new()));
                lanes.len() - 1
            });
            lanes[at].2.push(item);
        };
        // Claimed for this instance (whole lanes), for the platforms it has.
        let platforms: Vec<String> = self.sinks.keys().cloned().collect();
        for (key, announcement) in self.store.claim_announcements(&platforms, BATCH)? {
            let platform = announcement.channel.platform().to_string();
            // A platform not connected in this process keeps its entries.
            let Some(sink) = self.sinks.get(&platform) else {
                continue;
            };
            let lane = if sink.concurrent() {
                announcement.lane()
            } else {
                platform
            };
            add(lane, sink, Item::Announcement(key, announcement));
        }
        for (key, digest) in self.store.claim_digests(&platforms, BATCH)? {
            let platform = digest.channel.platform().to_string();
            let Some(sink) = self.sinks.get(&platform) else {
                continue;
            };
            let lane = if sink.concurrent() {
                digest.lane()
            } else {
                platform
            };
            add(lane, sink, Item::Digest(key, digest));
        }
        Ok(lanes)
    }

    /// One lane's task: within the bound on deliveries at once, delivers its
    /// entries in order, then makes the records of them durable and ends
    /// the sink's round (a `Held` round leaves both to its caller).
    async fn run_lane(
        mut guard: LaneGuard,
        sink: Arc<dyn ChatSink>,
        items: Vec<Item>,
        round: Round,
    ) {
        let notifier = guard.notifier.clone();
        let Ok(_permit) = notifier.permits.clone().acquire_owned().await else {
            return;
        };
        let _round = notifier.round.clone().read_owned().await;
        guard.backoff = notifier.deliver_lane(&sink, &items).await;
        if round == Round::Held {
            return;
        }
        // Deliveries are recorded without an fsync each; one covers the
        // lane, off the async threads. It comes before the sink's round
        // ends: the shell shows what it holds only once the store is durable.
        let store = notifier.store.clone();
        match off_async_threads("flushing deliveries", move || store.flush()).await {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(error)) => tracing::error!(%error, "flushing deliveries failed"),
        }
        sink.end_of_round().await;
    }

    /// Calls a platform, giving up after the configured timeout: a post
    /// whose answer never came is then an uncertain post, which the next
    /// try looks for before it posts again.
    async fn timed<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, DeliveryError>>,
    ) -> Result<T, DeliveryError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or_else(|_| {
                Err(DeliveryError::Transient(format!(
                    "no answer within {} s",
                    self.timeout.as_secs_f64()
                )))
            })
    }

    /// The worker: dispatches lanes whenever woken, a lane finishes or a
    /// push-back ends, never waiting for a slow lane itself. At shutdown it
    /// stops the lanes still under way: a post cut short was marked before
    /// it was sent, so the next start looks for it before posting again.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let mut lanes: Vec<JoinHandle<()>> = Vec::new();
        let mut retry_in: Option<Duration> = Some(Duration::ZERO);
        let shared = self.store.shared();
        loop {
            // Claims are held by lanes under way and lanes waiting out a push-back.
            let poll = longest_sleep(shared, !lanes.is_empty() || retry_in.is_some());
            let wait = retry_in.unwrap_or(poll).min(poll);
            tokio::select! {
                _ = wake.notified() => {}
                _ = self.lane_done.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
            // While the shell holds the round it delivers its own batch
            // when the batch is done; reading the outbox for each of its
            // commits meanwhile would decode the same entries again and again.
            drop(self.round.read().await);
            lanes.retain(|lane| !lane.is_finished());
            // Sinks that take one lane each (the shell): while it delivers,
            // nothing could start; its end wakes this loop again.
            if self.one_lane_busy() {
                retry_in = None;
                continue;
            }
            let (started, retry) = self.dispatch(Round::Flushed);
            lanes.extend(started);
            retry_in = retry;
        }
        for lane in &lanes {
            lane.abort();
        }
        for lane in lanes {
            let _ = lane.await;
        }
    }
}
