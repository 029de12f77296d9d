//! sled behind typed methods; no sled type leaves this module.
//!
//! Trees: `releases` (id → JSON), indexes by status, scheduled time,
//! service+environment and requester, the hash-chained `audit` log and its
//! per-release index, the two outboxes (`outbox_notify`, `outbox_ci`),
//! `posted` (which chat message carries each announcement) and its reverse,
//! `threads` (chat message → release, for replies in a thread), `posting`
//! (first posts under way, whose outcome may be unknown after a crash), `seen`
//! (inbound chat deliveries already handled, for platforms that redeliver)
//! `records` (incidents, cached notes: `kind \0 key` → JSON) and `meta`
//! (schema version, id counters, audit head, status counts, live versions).

use crate::store::prelude::*;
mod admin;
mod calendar;
mod keys;
mod outbox;
mod overlay;
mod records;
mod releases;
mod scheduler;
mod tx;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::audit::AuditEntry;
use super::port::{Backend, Durable, Targets, Tx};
use super::tx::{TxFailure, TxResult};
use super::{Health, LeaseCounts, Page, SledOptions, StoreError, StoreResult, SCHEMA_VERSION};
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{Release, ReleaseStatus};
use tx::SledTx;

/// Tree positions in `Store::trees`, shared with `Tx`.
mod trees {
    pub const RELEASES: usize = 0;
    pub const BY_STATUS: usize = 1;
    pub const BY_TIME: usize = 2;
    pub const BY_TARGET: usize = 3;
    pub const BY_REQUESTER: usize = 4;
    pub const AUDIT: usize = 5;
    pub const AUDIT_BY_RELEASE: usize = 6;
    pub const OUTBOX_NOTIFY: usize = 7;
    pub const OUTBOX_CI: usize = 8;
    pub const POSTED: usize = 9;
    pub const META: usize = 10;
    pub const ROLES: usize = 11;
    pub const FREEZES: usize = 12;
    pub const LOCKS: usize = 13;
    pub const SCHEDULER: usize = 14;
    pub const TIMERS: usize = 15;
    pub const OUTBOX_DIGEST: usize = 16;
    pub const THREADS: usize = 17;
    pub const SEEN: usize = 18;
    pub const POSTING: usize = 19;
    pub const SLOTS: usize = 20;
    pub const RECORDS: usize = 21;
    /// Commits under way (see `overlay`); empty between commits.
    pub const JOURNAL: usize = 22;
    pub const NAMES: [&str; 23] = [
        "releases",
        "by_status",
        "by_time",
        "by_target",
        "by_requester",
        "audit",
        "audit_by_release",
        "outbox_notify",
        "outbox_ci",
        "posted",
        "meta",
        "roles",
        "freezes",
        "locks",
        "scheduler",
        "timers",
        "outbox_digest",
        "threads",
        "seen",
        "posting",
        "slots",
        "records",
        "journal",
    ];
}
use trees::*;

fn storage(error: ::sled::Error) -> StoreError {
    StoreError::Storage(error.to_string())
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The embedded store: one process holds the data dir's lock.
pub struct SledStore {
    /// Dropped by hand, before the snapshot on close (see `Drop`).
    db: std::mem::ManuallyDrop<::sled::Db>,
    cache_bytes: u64,
    trees: Vec<::sled::Tree>,
    dir: PathBuf,
    /// The one writer: transactions run one at a time, so what a guard reads
    /// with the store's own scans (freezes, the calendar's range scans) is
    /// the state its write commits against.
    writer: std::sync::Mutex<()>,
    /// The next commit's journal record number (held under `writer`).
    journal_seq: std::sync::atomic::AtomicU64,
    /// Announcements waiting in the outbox, as read: the notifier reads the
    /// outbox for every round, and decoding an announcement costs more than
    /// the command that made it.
    announcements: outbox::Decoded,
    /// Whether the `posting` tree may hold marks: only sinks whose posts can
    /// be uncertain make them, and a delivery need not clear what none made.
    posting_marks: std::sync::atomic::AtomicBool,
    /// Writes committed since the store opened (what the next start reads
    /// of sled's log, unless a snapshot covers it).
    writes: std::sync::atomic::AtomicU64,
}

/// After this many writes, closing the store opens it once more so that
/// sled writes a snapshot: sled 0.34 writes one only when it opens, and a
/// start reads all of the log after the last one (a bulk fill of 100,000
/// releases made the first start after it take 220 ms, later ones 46 ms).
const SNAPSHOT_AFTER_WRITES: u64 = 50_000;

impl Drop for SledStore {
    fn drop(&mut self) {
        let busy = *self.writes.get_mut() >= SNAPSHOT_AFTER_WRITES;
        self.trees.clear();
        // SAFETY: `db` is dropped once, here, and not used after.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.db) };
        if busy {
            let reopened = ::sled::Config::new()
                .path(&self.dir)
                .cache_capacity(self.cache_bytes)
                .open();
            if let Err(error) = reopened {
                tracing::warn!(%error, "could not write sled's snapshot on close; the next start reads the whole log");
            }
        }
    }
}

/// A transaction's failure as the store reports it.
fn store_error(error: super::TxError) -> StoreError {
    let super::TxError(failure) = error;
    match failure {
        TxFailure::Refused(refusal) => StoreError::Refused(refusal),
        TxFailure::Duplicate => StoreError::Duplicate,
        TxFailure::Corrupt(why) => StoreError::Corrupt(why),
        TxFailure::Backend(error) => StoreError::Storage(error.to_string()),
    }
}

impl SledStore {
    pub fn open(dir: &Path, options: &SledOptions) -> StoreResult<SledStore> {
        let db = ::sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_bytes)
            .open()
            .map_err(|e| match &e {
                ::sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked(dir.to_path_buf())
                }
                _ => StoreError::Storage(format!("opening {}: {e}", dir.display())),
            })?;
        let trees = NAMES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        let (recovered, next) = overlay::recover(&trees, &trees[JOURNAL])?;
        if recovered > 0 {
            tracing::info!(recovered, "applied commits a crash had cut short");
            db.flush().map_err(storage)?;
        }
        let posting_marks = !trees[POSTING].is_empty();
        let store = SledStore {
            db: std::mem::ManuallyDrop::new(db),
            cache_bytes: options.cache_bytes,
            trees,
            dir: dir.to_path_buf(),
            writer: std::sync::Mutex::new(()),
            journal_seq: std::sync::atomic::AtomicU64::new(next),
            announcements: outbox::Decoded::default(),
            posting_marks: std::sync::atomic::AtomicBool::new(posting_marks),
            writes: std::sync::atomic::AtomicU64::new(0),
        };
        store.check_schema()?;
        store.index_grants()?;
        Ok(store)
    }

    /// Builds the grants record from the `roles` tree once (stores written
    /// before the record existed kept grants only in the tree).
    fn index_grants(&self) -> StoreResult<()> {
        if self
            .tree(META)
            .contains_key(keys::GRANTS)
            .map_err(storage)?
        {
            return Ok(());
        }
        let mut grants = self.grants()?;
        grants.sort();
        let bytes = serde_json::to_vec(&grants).expect("grants always serialize");
        self.tree(META)
            .insert(keys::GRANTS, bytes)
            .map_err(storage)?;
        self.flush()
    }

    fn check_schema(&self) -> StoreResult<()> {
        let meta = &self.trees[META];
        match meta.get(keys::SCHEMA_VERSION).map_err(storage)? {
            Some(bytes) => {
                let found = keys::u64_from(&bytes);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        dir: format!("the data dir {}", self.dir.display()),
                        found,
                        ours: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                meta.insert(keys::SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes())
                    .map_err(storage)?;
                self.db.flush().map_err(storage)?;
            }
        }
        Ok(())
    }

    fn tree(&self, index: usize) -> &::sled::Tree {
        &self.trees[index]
    }

    /// The one writer: transactions, and plain writes to trees they write.
    fn write_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn releases_for(&self, ids: impl Iterator<Item = ReleaseId>) -> StoreResult<Vec<Release>> {
        ids.filter_map(|id| self.release(id).transpose()).collect()
    }

    /// Release ids from an index scan, newest first when `rev`.
    fn index_ids(
        &self,
        tree: usize,
        prefix: &[u8],
        rev: bool,
        limit: usize,
    ) -> StoreResult<Vec<ReleaseId>> {
        let scan = self.tree(tree).scan_prefix(prefix).keys();
        let keys: Vec<_> = if rev {
            scan.rev().take(limit).collect::<Result<_, _>>()
        } else {
            scan.take(limit).collect::<Result<_, _>>()
        }
        .map_err(storage)?;
        Ok(keys.iter().filter_map(|k| keys::release_from(k)).collect())
    }

    /// The first `limit` entries of an outbox tree keyed by sequence number.
    fn outbox<T: DeserializeOwned>(
        &self,
        tree: usize,
        what: &str,
        limit: usize,
    ) -> StoreResult<Vec<(u64, T)>> {
        self.tree(tree)
            .iter()
            .take(limit)
            .map(|item| {
                let (key, bytes) = item.map_err(storage)?;
                Ok((keys::u64_from(&key), decode(what, &bytes)?))
            })
            .collect()
    }

    fn values<T: DeserializeOwned>(&self, tree: usize, what: &str) -> StoreResult<Vec<T>> {
        self.tree(tree)
            .iter()
            .values()
            .map(|bytes| decode(what, &bytes.map_err(storage)?))
            .collect()
    }

    fn target_values<T: DeserializeOwned>(
        &self,
        tree: usize,
        prefix: &str,
        what: &str,
        decode_value: impl Fn(&[u8]) -> StoreResult<T>,
    ) -> StoreResult<Vec<(Name, Name, T)>> {
        let mut out = Vec::new();
        for item in self.tree(tree).scan_prefix(prefix.as_bytes()) {
            let (key, value) = item.map_err(storage)?;
            let text = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            let mut parts = text.split('\0');
            let (Some(service), Some(environment)) = (parts.next(), parts.next()) else {
                return Err(StoreError::Corrupt(format!("{what} key")));
            };
            let name = |n: &str| {
                Name::parse(n).map_err(|e| StoreError::Corrupt(format!("{what} key: {e}")))
            };
            out.push((name(service)?, name(environment)?, decode_value(&value)?));
        }
        Ok(out)
    }
}

impl Durable for SledStore {
    fn flush(&self) -> StoreResult<()> {
        self.db.flush().map_err(storage)?;
        Ok(())
    }

    fn shared(&self) -> bool {
        false
    }
}

impl Backend for SledStore {
    fn kind(&self) -> &'static str {
        "sled"
    }

    fn run(
        &self,
        change: &mut dyn FnMut(&Tx<'_>) -> TxResult<()>,
        durable: bool,
    ) -> StoreResult<()> {
        let writing = self.write_lock();
        let reads = tx::CommittedReads::default();
        let overlay = overlay::Overlay::default();
        let announced = std::cell::RefCell::new(Vec::new());
        let tx = SledTx {
            db: &self.db,
            trees: &self.trees,
            overlay: &overlay,
            announced: &announced,
            reads: &reads,
        };
        loop {
            overlay.clear();
            announced.borrow_mut().clear();
            match change(&tx) {
                Ok(()) => break,
                // Stopped for scans: make them (still the one writer) and go again.
                Err(_) if reads.wanted() => reads.make(self)?,
                Err(error) => return Err(store_error(error)),
            }
        }
        let seq = self
            .journal_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let written = overlay.commit(&self.trees, self.tree(JOURNAL), seq)?;
        self.writes
            .fetch_add(written as u64, std::sync::atomic::Ordering::Relaxed);
        for (key, bytes, announcement) in announced.take() {
            self.announcements
                .keep(key, bytes, std::sync::Arc::new(announcement));
        }
        drop(writing);
        if durable {
            self.flush()?;
        }
        Ok(())
    }

    fn health(&self) -> Health {
        let problem = self
            .tree(META)
            .get(keys::SCHEMA_VERSION)
            .err()
            .map(|e| e.to_string());
        Health {
            backend: self.kind(),
            problem,
            leases: vec!["all (embedded store)".to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{SledOptions, Store};

    fn snapshots(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("snap."))
            .collect();
        names.sort();
        names
    }

    fn write(store: &Store, count: u64) {
        store
            .transaction(|tx| {
                (0..count).try_for_each(|n| tx.put_record("bench", &n.to_string(), Some(b"x")))
            })
            .unwrap();
    }

    #[test]
    fn closing_after_many_writes_leaves_a_snapshot_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let options = SledOptions::default();

        let store = Store::open_with(dir.path(), &options).unwrap();
        let opened = snapshots(dir.path());
        write(&store, 10);
        drop(store);
        assert_eq!(
            snapshots(dir.path()),
            opened,
            "a few writes: no reopen on close"
        );

        let store = Store::open_with(dir.path(), &options).unwrap();
        let opened = snapshots(dir.path());
        write(&store, super::SNAPSHOT_AFTER_WRITES);
        drop(store);
        assert_ne!(snapshots(dir.path()), opened, "a new snapshot on close");
        // The store opens again, with what was written.
        let store = Store::open_with(dir.path(), &options).unwrap();
        assert_eq!(
            store.record("bench", "49999").unwrap().as_deref(),
            Some(&b"x"[..])
        );
    }
}
