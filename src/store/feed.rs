//! The change feed: every committed transaction publishes one small
//! `Change` (what it touched, and which outboxes got entries). Workers wake
//! on it instead of polling; a page can follow releases with it.
//!
//! Within a process the feed is a broadcast channel. On PostgreSQL each
//! transaction also records its change in the `changes` table and sends it
//! with `NOTIFY` at commit, and every instance listens (see
//! `postgres::listen`), so a change on instance A reaches subscribers on B.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::domain::ids::ReleaseId;

/// More releases than this in one transaction (an import, a copy) are sent
/// as `many_releases` rather than listed: a NOTIFY payload is under 8000 bytes.
pub const LISTED_RELEASES: usize = 64;

/// What one committed transaction changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The store's sequence number for it, where the store keeps one
    /// (PostgreSQL's `changes.seq`); `None` on sled.
    #[serde(skip)]
    pub seq: Option<u64>,
    /// Releases written, with the revision they now have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<(ReleaseId, u64)>,
    /// More releases were written than are listed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub many_releases: bool,
    /// Freezes or locks changed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub calendar: bool,
    /// Roles granted or revoked in chat.
    #[serde(default, skip_serializing_if = "is_false")]
    pub grants: bool,
    /// The announcement or digest outbox got entries.
    #[serde(default, skip_serializing_if = "is_false")]
    pub announcements: bool,
    /// The CI job outbox changed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub jobs: bool,
    /// Per-release timers changed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub timers: bool,
    /// Kinds of records written (`incident`, `notes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    /// When it was published, in milliseconds since the epoch (wall clock,
    /// for the feed's lag).
    #[serde(default)]
    pub at_ms: i64,
    /// Heard from another instance.
    #[serde(skip)]
    pub remote: bool,
    /// Changes may have been missed (a subscriber fell behind, or the
    /// listener reconnected): read everything again.
    #[serde(skip)]
    pub resync: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Change {
    /// Nothing a subscriber would care about.
    pub fn is_empty(&self) -> bool {
        self.releases.is_empty()
            && self.records.is_empty()
            && !(self.many_releases
                || self.calendar
                || self.grants
                || self.announcements
                || self.jobs
                || self.timers
                || self.resync)
    }

    /// "Read everything again."
    pub fn resync() -> Change {
        Change {
            resync: true,
            ..Change::default()
        }
    }

    /// Whether the announcement outbox may have work.
    pub fn wakes_notifier(&self) -> bool {
        self.announcements || self.resync
    }

    /// Whether the CI outbox may have work.
    pub fn wakes_relay(&self) -> bool {
        self.jobs || self.resync
    }

    /// Whether the scheduler's next due time may have moved.
    pub fn wakes_scheduler(&self) -> bool {
        self.timers || self.resync
    }

    /// Whether records of `kind` were written (or anything may have been).
    pub fn touches(&self, kind: &str) -> bool {
        self.resync || self.records.iter().any(|k| k == kind)
    }

    /// Notes a release written at `revision`.
    pub(crate) fn release(&mut self, id: ReleaseId, revision: u64) {
        if let Some(seen) = self.releases.iter_mut().find(|(r, _)| *r == id) {
            seen.1 = revision;
        } else if self.releases.len() < LISTED_RELEASES {
            self.releases.push((id, revision));
        } else {
            self.many_releases = true;
        }
    }
}

/// The feed's figures, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedCounts {
    pub local: u64,
    pub remote: u64,
    /// Sum and count of remote changes' lag (publish to receipt), in ms.
    pub lag_ms_sum: u64,
    pub lag_count: u64,
    pub lag_ms_last: u64,
    /// Times the cross-instance listener connected again after a loss.
    pub reconnects: u64,
    /// Whether the cross-instance listener is connected (always true where
    /// there is none to connect).
    pub connected: bool,
}

#[derive(Default)]
struct Stats {
    local: AtomicU64,
    remote: AtomicU64,
    lag_ms_sum: AtomicU64,
    lag_count: AtomicU64,
    lag_ms_last: AtomicU64,
    reconnects: AtomicU64,
    disconnected: AtomicBool,
}

/// The feed: cheap to clone; every clone publishes to the same subscribers.
#[derive(Clone)]
pub struct Feed {
    sender: broadcast::Sender<Arc<Change>>,
    stats: Arc<Stats>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed::new()
    }
}

/// How many changes a subscriber may fall behind before it is told to
/// resync instead.
const CAPACITY: usize = 1024;

impl Feed {
    pub fn new() -> Feed {
        Feed {
            sender: broadcast::channel(CAPACITY).0,
            stats: Arc::default(),
        }
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
        }
    }

    /// Publishes a change committed by this process.
    pub(crate) fn publish(&self, change: Change) {
        self.stats.local.fetch_add(1, Ordering::Relaxed);
        let _ = self.sender.send(Arc::new(change));
    }

    /// Publishes a change heard from another instance (or, with `resync`,
    /// that some may have been missed).
    pub(crate) fn publish_remote(&self, mut change: Change) {
        change.remote = true;
        if !change.resync {
            let lag = (now_ms() - change.at_ms).max(0) as u64;
            self.stats.remote.fetch_add(1, Ordering::Relaxed);
            self.stats.lag_ms_sum.fetch_add(lag, Ordering::Relaxed);
            self.stats.lag_count.fetch_add(1, Ordering::Relaxed);
            self.stats.lag_ms_last.store(lag, Ordering::Relaxed);
        }
        let _ = self.sender.send(Arc::new(change));
    }

    /// The cross-instance listener lost its connection (`false`) or has it
    /// again (`true`).
    pub(crate) fn set_connected(&self, connected: bool) {
        let was_down = self.stats.disconnected.swap(!connected, Ordering::Relaxed);
        if connected && was_down {
            self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn counts(&self) -> FeedCounts {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FeedCounts {
            local: load(&self.stats.local),
            remote: load(&self.stats.remote),
            lag_ms_sum: load(&self.stats.lag_ms_sum),
            lag_count: load(&self.stats.lag_count),
            lag_ms_last: load(&self.stats.lag_ms_last),
            reconnects: load(&self.stats.reconnects),
            connected: !self.stats.disconnected.load(Ordering::Relaxed),
        }
    }
}

/// Milliseconds since the epoch, by the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One subscriber's view of the feed.
pub struct Subscription {
    receiver: broadcast::Receiver<Arc<Change>>,
}

impl Subscription {
    /// The next change; a resync when this subscriber fell behind; `None`
    /// once the store is gone.
    pub async fn next(&mut self) -> Option<Arc<Change>> {
        match self.receiver.recv().await {
            Ok(change) => Some(change),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Arc::new(Change::resync())),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// A change already published, without waiting.
    pub fn try_next(&mut self) -> Option<Arc<Change>> {
        match self.receiver.try_recv() {
            Ok(change) => Some(change),
            Err(broadcast::error::TryRecvError::Lagged(_)) => Some(Arc::new(Change::resync())),
            Err(_) => None,
        }
    }
}
