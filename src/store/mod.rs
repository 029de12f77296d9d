//! The store, behind a port (`port::Backend`, `port::TxPort`) with two
//! implementations: `sled` (embedded, one process, the default) and
//! `postgres` (shared by any number of instances). No sled or database
//! driver type leaves its own module.
//!
//! What is kept: releases with indexes by status, scheduled time,
//! service+environment and requester; the hash-chained audit log; the three
//! outboxes (announcements, CI jobs, digests); which chat message carries
//! each announcement and the reverse (threads); first posts under way;
//! inbound deliveries already handled; roles granted in chat; freezes, locks,
//! live versions; scheduler state and per-release timers; leases.

pub mod audit;
mod copy;
pub mod feed;
pub mod incidents;
mod port;
pub mod postgres;
mod recorder;
mod sled;
#[doc(hidden)]
pub mod testkit;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use self::postgres::PgOptions;
pub use audit::{AuditDraft, AuditEntry};
pub use copy::{copy, CopyReport};
pub use feed::{Change, Feed, FeedCounts, Subscription};
pub use port::{
    AdminStore, Backend, CalendarStore, Durable, OutboxStore, ReleaseStore, SchedulerStore,
    Targets, Tx, TxAdmin, TxCalendar, TxOutboxes, TxPort, TxReleases, TxScheduler,
};

/// The store's traits, for code that calls their methods.
pub mod prelude {
    pub use super::incidents::{Incidents, TxIncidents};
    pub use super::port::{
        AdminStore, Backend, CalendarStore, Durable, OutboxStore, RecordStore, ReleaseStore,
        SchedulerStore, TxAdmin, TxCalendar, TxOutboxes, TxPort, TxRecords, TxReleases,
        TxScheduler,
    };
}
pub use tx::{TxError, TxResult};

use crate::domain::release::Release;
use crate::domain::Refusal;

/// The schema this build reads and writes (sled's meta record; PostgreSQL
/// keeps its own migration numbers).
pub const SCHEMA_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The user asked for something the rules refuse; the text is the reply.
    #[error("{0}")]
    Refused(Refusal),
    #[error("the data dir {} is in use by another releasebot process (only one may open it); stop that one or pass another --data-dir", .0.display())]
    Locked(PathBuf),
    #[error("{dir} holds schema version {found}, but this releasebot reads version {ours}; use a matching release, or export and import")]
    Schema { dir: String, found: u64, ours: u64 },
    #[error("a stored record could not be read ({0}); run `releasebot export` to salvage what can be read")]
    Corrupt(String),
    /// The database cannot be reached (it is down, or the network is):
    /// nothing was changed, and trying again later may work.
    #[error("the store is unavailable ({0})")]
    Unavailable(String),
    /// The database refused us for good (a wrong password, no such
    /// database): trying again will not help.
    #[error("{0}")]
    Rejected(String),
    #[error("storage failed: {0}")]
    Storage(String),
    /// This instance's claim on an outbox lane ran out and another instance
    /// took the lane over: the delivery is theirs now.
    #[error("the claim on this outbox lane ran out; another instance delivers it")]
    ClaimLost,
    /// An inbound delivery was handled already; the redelivery is dropped.
    #[error("this delivery was handled already")]
    Duplicate,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A page of releases and how many match in all.
#[derive(Debug, Clone)]
pub struct Page {
    pub releases: Vec<Release>,
    pub total: u64,
}

/// What `/healthz` says about the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub backend: &'static str,
    /// `None` when the store answers; else why not.
    pub problem: Option<String>,
    /// Leases this instance holds (`scheduler`, and outbox lanes by count).
    pub leases: Vec<String>,
}

/// Lease activity since start, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaseCounts {
    /// Outbox entries claimed by this instance.
    pub claims: u64,
    /// Claims and leases taken over from an instance whose lease ran out.
    pub takeovers: u64,
}

/// The store: a shared handle on one backend and its change feed. Cloning
/// shares both.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    feed: Feed,
    /// Changes committed without a flush, published by the next `flush`:
    /// nobody acts on a change a crash could still take back.
    unflushed: Arc<std::sync::Mutex<Vec<Change>>>,
}

/// The embedded store's one knob: how much of it sled keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SledOptions {
    /// sled's page cache, in bytes. Pages not in it are read from the file
    /// (the OS's cache) again; a bot's working set is its open releases.
    pub cache_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            cache_bytes: 8 * 1024 * 1024,
        }
    }
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        self.backend.as_ref()
    }
}

impl Store {
    /// The embedded sled store in `dir` (created when missing).
    pub fn open(dir: &Path) -> StoreResult<Store> {
        Store::open_with(dir, &SledOptions::default())
    }

    /// The embedded sled store in `dir`, with `[store]`'s options.
    pub fn open_with(dir: &Path, options: &SledOptions) -> StoreResult<Store> {
        Ok(Store::on(Arc::new(sled::SledStore::open(dir, options)?)))
    }

    /// A PostgreSQL store: connects, applies migrations, refuses a schema
    /// newer than this build.
    pub fn connect(options: &PgOptions) -> StoreResult<Store> {
        Ok(Store::on(Arc::new(postgres::PgStore::connect(options)?)))
    }

    fn on(backend: Arc<dyn Backend>) -> Store {
        let feed = Feed::new();
        backend.listen(feed.clone());
        Store {
            backend,
            feed,
            unflushed: Arc::default(),
        }
    }

    /// The outboxes alone, for a worker that needs nothing else.
    pub fn outboxes(&self) -> Arc<dyn OutboxStore> {
        self.backend.clone()
    }

    /// The change feed: every transaction committed here, and on a shared
    /// store on every other instance.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Makes every change so far durable, then publishes the changes that
    /// waited for it.
    pub fn flush(&self) -> StoreResult<()> {
        self.backend.flush()?;
        let waiting =
            std::mem::take(&mut *self.unflushed.lock().unwrap_or_else(|e| e.into_inner()));
        for change in waiting {
            self.feed.publish(change);
        }
        Ok(())
    }

    /// Runs `change` as one serializable transaction, durable when this
    /// returns `Ok`.
    pub fn transaction<T>(&self, change: impl Fn(&Tx<'_>) -> TxResult<T>) -> StoreResult<T> {
        self.run(change, true)
    }

    /// Like `transaction`, but leaves durability to a later `flush`: for
    /// group commit, where the caller flushes once before answering a batch.
    pub fn transaction_unflushed<T>(
        &self,
        change: impl Fn(&Tx<'_>) -> TxResult<T>,
    ) -> StoreResult<T> {
        self.run(change, false)
    }

    /// Runs `change` through the recorder (the shared rules), and publishes
    /// what it changed once it is durable.
    fn run<T>(&self, change: impl Fn(&Tx<'_>) -> TxResult<T>, durable: bool) -> StoreResult<T> {
        let mut value = None;
        let mut made = None;
        self.backend.run(
            &mut |tx| {
                let recorder = recorder::Recorder::new(tx);
                value = Some(change(&recorder)?);
                let mut changed = recorder.finish();
                made = None;
                if !changed.is_empty() {
                    changed.at_ms = feed::now_ms();
                    changed.seq = tx.publish(&changed)?;
                    made = Some(changed);
                }
                Ok(())
            },
            durable,
        )?;
        if let Some(changed) = made {
            if durable {
                self.feed.publish(changed);
            } else {
                self.unflushed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(changed);
            }
        }
        value.ok_or_else(|| StoreError::Storage("a transaction ended without its value".into()))
    }
}

#[cfg(test)]
mod feed_tests;
#[cfg(test)]
mod pg_tests;
#[cfg(test)]
mod pg_tls_tests;
#[cfg(test)]
mod tests;
