//! sled behind typed methods; no sled type leaves this module.
//!
//! Trees: `releases` (id → JSON), indexes by status, scheduled time,
//! service+environment and requester, the hash-chained `audit` log and its
//! per-release index, the two outboxes (`outbox_notify`, `outbox_ci`),
//! `posted` (which chat message carries each announcement) and its reverse,
//! `threads` (chat message → release, for replies in a thread), `posting`
//! (first posts under way, whose outcome may be unknown after a crash), `seen`
//! (inbound chat deliveries already handled, for platforms that redeliver)
//! and `meta` (schema version, id counter, audit head, status counts, live
//! versions).

mod keys;
mod tx;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ::sled::transaction::{
    ConflictableTransactionError, TransactionError, UnabortableTransactionError,
};
use ::sled::Transactional;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::audit::AuditEntry;
use super::port::{Backend, Targets, Tx};
use super::tx::{TxFailure, TxResult};
use super::{Health, LeaseCounts, Page, StoreError, StoreResult, SCHEMA_VERSION};
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
    pub const NAMES: [&str; 21] = [
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
    db: ::sled::Db,
    trees: Vec<::sled::Tree>,
    dir: PathBuf,
    /// The one writer: transactions run one at a time, so what a guard reads
    /// outside sled's transactional trees (freezes, the calendar's range
    /// scans) is the state its write commits against.
    writer: std::sync::Mutex<()>,
}

/// How much memory sled may use for its page cache. Small on purpose: the
/// working set (open releases, indexes) is tiny, and an idle bot should be too.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// What sled is told when a transaction's closure stops.
fn abort_for(error: super::TxError) -> ConflictableTransactionError<StoreError> {
    let super::TxError(failure) = error;
    match failure {
        TxFailure::Refused(refusal) => {
            ConflictableTransactionError::Abort(StoreError::Refused(refusal))
        }
        TxFailure::Duplicate => ConflictableTransactionError::Abort(StoreError::Duplicate),
        TxFailure::Corrupt(why) => ConflictableTransactionError::Abort(StoreError::Corrupt(why)),
        TxFailure::Backend(error) => match error.downcast::<UnabortableTransactionError>() {
            Ok(sled_error) => (*sled_error).into(),
            Err(other) => {
                ConflictableTransactionError::Abort(StoreError::Storage(other.to_string()))
            }
        },
    }
}

impl SledStore {
    pub fn open(dir: &Path) -> StoreResult<SledStore> {
        let db = ::sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
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
        let store = SledStore {
            db,
            trees,
            dir: dir.to_path_buf(),
            writer: std::sync::Mutex::new(()),
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

impl Backend for SledStore {
    fn kind(&self) -> &'static str {
        "sled"
    }

    fn run(
        &self,
        change: &mut dyn FnMut(&Tx<'_>) -> TxResult<()>,
        durable: bool,
    ) -> StoreResult<()> {
        let change = std::cell::RefCell::new(change);
        let writing = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let reads = tx::CommittedReads::default();
        let result = loop {
            let result = self.trees.as_slice().transaction(|trees| {
                let tx = SledTx {
                    trees,
                    reads: &reads,
                };
                (change.borrow_mut())(&tx).map_err(abort_for)
            });
            // Stopped for scans: make them (still the one writer) and go again.
            if result.is_err() && reads.wanted() {
                reads.make(self)?;
                continue;
            }
            break result;
        };
        drop(writing);
        result.map_err(|e| match e {
            TransactionError::Abort(aborted) => aborted,
            TransactionError::Storage(error) => storage(error),
        })?;
        if durable {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush().map_err(storage)?;
        Ok(())
    }

    fn release(&self, id: ReleaseId) -> StoreResult<Option<Release>> {
        match self
            .tree(RELEASES)
            .get(keys::release(id))
            .map_err(storage)?
        {
            Some(bytes) => Ok(Some(decode("release", &bytes)?)),
            None => Ok(None),
        }
    }

    fn count(&self, status: ReleaseStatus) -> StoreResult<u64> {
        Ok(self
            .tree(META)
            .get(keys::count(status))
            .map_err(storage)?
            .map_or(0, |b| keys::u64_from(&b)))
    }

    fn with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Page> {
        let ids = self.index_ids(BY_STATUS, &[status.code()], false, limit)?;
        Ok(Page {
            releases: self.releases_for(ids.into_iter())?,
            total: self.count(status)?,
        })
    }

    fn newest_with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Vec<Release>> {
        let ids = self.index_ids(BY_STATUS, &[status.code()], true, limit)?;
        self.releases_for(ids.into_iter())
    }

    fn requested_by(&self, user: &UserRef, limit: usize) -> StoreResult<Vec<Release>> {
        let ids = self.index_ids(BY_REQUESTER, &keys::user_prefix(user), true, limit)?;
        self.releases_for(ids.into_iter())
    }

    fn newest(&self, limit: usize) -> StoreResult<Vec<Release>> {
        self.tree(RELEASES)
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|bytes| decode("release", &bytes.map_err(storage)?))
            .collect()
    }

    fn release_count(&self) -> StoreResult<u64> {
        Ok(self
            .tree(META)
            .get(keys::NEXT_RELEASE_ID)
            .map_err(storage)?
            .map_or(1, |b| keys::u64_from(&b))
            - 1)
    }

    fn all_releases(&self) -> Box<dyn Iterator<Item = StoreResult<Release>> + '_> {
        Box::new(
            self.tree(RELEASES)
                .iter()
                .values()
                .map(|bytes| decode("release", &bytes.map_err(storage)?)),
        )
    }

    fn scheduled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Release>> {
        let first = keys::by_time(from, ReleaseId::new(0));
        let last = keys::by_time(to, ReleaseId::new(0));
        let ids = self
            .tree(BY_TIME)
            .range(first..last)
            .keys()
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        self.releases_for(ids.iter().filter_map(|k| keys::release_from(k)))
    }

    fn audit_for(&self, id: ReleaseId) -> StoreResult<Vec<AuditEntry>> {
        let seqs = self
            .tree(AUDIT_BY_RELEASE)
            .scan_prefix(keys::release(id))
            .keys()
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        seqs.iter()
            .filter_map(|k| k.get(8..16))
            .filter_map(|seq| self.tree(AUDIT).get(seq).transpose())
            .map(|bytes| decode("audit entry", &bytes.map_err(storage)?))
            .collect()
    }

    fn audit_log(&self) -> Box<dyn Iterator<Item = StoreResult<AuditEntry>> + '_> {
        Box::new(
            self.tree(AUDIT)
                .iter()
                .values()
                .map(|bytes| decode("audit entry", &bytes.map_err(storage)?)),
        )
    }

    fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Announcement)>> {
        self.outbox(OUTBOX_NOTIFY, "announcement", limit)
    }

    fn claim_announcements(
        &self,
        _platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Announcement)>> {
        self.pending_announcements(limit)
    }

    fn posted(&self, id: ReleaseId, channel: &ChannelRef) -> StoreResult<Option<String>> {
        Ok(self
            .tree(POSTED)
            .get(keys::posted(id, channel.as_str()))
            .map_err(storage)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn all_posted(&self) -> StoreResult<Vec<(ReleaseId, ChannelRef, String)>> {
        let mut out = Vec::new();
        for item in self.tree(POSTED).iter() {
            let (key, value) = item.map_err(storage)?;
            let id = key
                .get(..8)
                .and_then(keys::release_from)
                .ok_or_else(|| StoreError::Corrupt("posted key".into()))?;
            let channel = ChannelRef::parse(&String::from_utf8_lossy(&key[8..]))
                .map_err(|e| StoreError::Corrupt(format!("posted key: {e}")))?;
            out.push((id, channel, String::from_utf8_lossy(&value).into_owned()));
        }
        Ok(out)
    }

    /// Plain writes rather than a transaction: sled seals its log buffer on
    /// every transaction, and this runs once per channel per step. The
    /// caller flushes after a round of deliveries.
    fn delivered(
        &self,
        key: u64,
        id: ReleaseId,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<()> {
        let posted = keys::posted(id, channel.as_str());
        let known = self.tree(POSTED).get(&posted).map_err(storage)?;
        if known.as_deref() != Some(message.as_bytes()) {
            if !message.is_empty() {
                let thread = keys::thread(channel.as_str(), message);
                self.tree(THREADS)
                    .insert(thread, &keys::release(id))
                    .map_err(storage)?;
            }
            self.tree(POSTED)
                .insert(&posted, message.as_bytes())
                .map_err(storage)?;
        }
        self.tree(POSTING).remove(posted).map_err(storage)?;
        self.tree(OUTBOX_NOTIFY)
            .remove(key.to_be_bytes())
            .map_err(storage)?;
        Ok(())
    }

    fn begin_post(
        &self,
        id: ReleaseId,
        channel: &ChannelRef,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let key = keys::posted(id, channel.as_str());
        let tree = self.tree(POSTING);
        if let Some(earlier) = tree.get(&key).map_err(storage)? {
            // A mark from before marks carried their time (one byte) reads
            // as "long ago": the lookup then pages as far as it may.
            let millis = <[u8; 8]>::try_from(earlier.as_ref()).map_or(0, i64::from_be_bytes);
            return Ok(Some(
                DateTime::from_timestamp_millis(millis).unwrap_or(DateTime::UNIX_EPOCH),
            ));
        }
        // The platform's clock judges the lookup, so this is the real time.
        let now = Utc::now().timestamp_millis();
        tree.insert(key, &now.to_be_bytes()[..]).map_err(storage)?;
        self.flush()?;
        Ok(None)
    }

    fn release_for_thread(
        &self,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<Option<ReleaseId>> {
        Ok(self
            .tree(THREADS)
            .get(keys::thread(channel.as_str(), message))
            .map_err(storage)?
            .and_then(|bytes| keys::release_from(&bytes)))
    }

    fn delivery_seen(&self, delivery: &str) -> StoreResult<bool> {
        self.tree(SEEN)
            .contains_key(delivery.as_bytes())
            .map_err(storage)
    }

    fn all_seen(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let mut out = Vec::new();
        for item in self.tree(SEEN).iter() {
            let (key, value) = item.map_err(storage)?;
            let at = DateTime::from_timestamp(keys::u64_from(&value) as i64, 0)
                .ok_or_else(|| StoreError::Corrupt("delivery mark".into()))?;
            out.push((String::from_utf8_lossy(&key).into_owned(), at));
        }
        Ok(out)
    }

    fn first_delivery(&self, delivery: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let stamp = now.timestamp().to_be_bytes();
        Ok(self
            .tree(SEEN)
            .compare_and_swap(delivery.as_bytes(), None::<&[u8]>, Some(&stamp[..]))
            .map_err(storage)?
            .is_ok())
    }

    fn forget_deliveries(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        let cutoff = before.timestamp();
        let mut forgotten = 0;
        for entry in self.tree(SEEN).iter() {
            let (key, value) = entry.map_err(storage)?;
            let marked = <[u8; 8]>::try_from(value.as_ref())
                .map(i64::from_be_bytes)
                .unwrap_or(i64::MIN);
            if marked < cutoff {
                self.tree(SEEN).remove(key).map_err(storage)?;
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }

    fn granted_roles(&self, user: &UserRef) -> StoreResult<BTreeSet<String>> {
        tx::roles_in(self.tree(ROLES).scan_prefix(keys::user_prefix(user)).keys())
            .map(|grants| grants.into_iter().map(|(_, role)| role).collect())
    }

    fn grants(&self) -> StoreResult<Vec<(UserRef, String)>> {
        tx::roles_in(self.tree(ROLES).iter().keys())
    }

    fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>> {
        let mut freezes: Vec<Freeze> = self.values(FREEZES, "freeze")?;
        freezes.retain(|f| environment.is_none_or(|e| &f.environment == e));
        freezes.sort_by_key(|f| f.start);
        Ok(freezes)
    }

    fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>> {
        match self
            .tree(LOCKS)
            .get(keys::target_prefix(service, environment))
            .map_err(storage)?
        {
            Some(bytes) => Ok(Some(decode("lock", &bytes)?)),
            None => Ok(None),
        }
    }

    fn targets(&self) -> StoreResult<Targets> {
        Ok(Targets {
            locks: self.target_values(LOCKS, "", "lock", |b| decode("lock", b))?,
            live: self.target_values(META, "live\0", "live version", |b| {
                decode("live version", b)
            })?,
            in_flight: self.target_values(META, "busy\0", "running job", |b| {
                keys::release_from(b).ok_or_else(|| StoreError::Corrupt("running job".into()))
            })?,
        })
    }

    fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
        match self.tree(SCHEDULER).get(key.as_bytes()).map_err(storage)? {
            Some(bytes) => Ok(Some(decode("scheduler state", &bytes)?)),
            None => Ok(None),
        }
    }

    fn all_fired(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        self.tree(SCHEDULER)
            .iter()
            .map(|item| {
                let (key, value) = item.map_err(storage)?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode("scheduler state", &value)?,
                ))
            })
            .collect()
    }

    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>> {
        let end = keys::by_time(now + chrono::Duration::seconds(1), ReleaseId::new(0));
        self.tree(TIMERS)
            .range(..end)
            .keys()
            .take(limit)
            .map(|key| {
                let key = key.map_err(storage)?;
                keys::timer_from(&key).ok_or_else(|| StoreError::Corrupt("timer key".into()))
            })
            .collect()
    }

    fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self
            .tree(TIMERS)
            .first()
            .map_err(storage)?
            .and_then(|(key, _)| keys::timer_from(&key))
            .map(|t| t.due))
    }

    fn all_timers(&self) -> StoreResult<Vec<Timer>> {
        self.tree(TIMERS)
            .iter()
            .keys()
            .map(|key| {
                let key = key.map_err(storage)?;
                keys::timer_from(&key).ok_or_else(|| StoreError::Corrupt("timer key".into()))
            })
            .collect()
    }

    fn timer_count(&self) -> StoreResult<usize> {
        Ok(self.tree(TIMERS).len())
    }

    fn pending_digests(&self, limit: usize) -> StoreResult<Vec<(u64, Digest)>> {
        self.outbox(OUTBOX_DIGEST, "digest", limit)
    }

    fn claim_digests(
        &self,
        _platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Digest)>> {
        self.pending_digests(limit)
    }

    fn digest_delivered(&self, key: u64) -> StoreResult<()> {
        self.tree(OUTBOX_DIGEST)
            .remove(key.to_be_bytes())
            .map_err(storage)?;
        Ok(())
    }

    fn jobs(&self) -> StoreResult<Vec<CiJob>> {
        self.values(OUTBOX_CI, "ci job")
    }

    fn claim_jobs(&self) -> StoreResult<Vec<CiJob>> {
        self.jobs()
    }

    fn outbox_depths(&self) -> StoreResult<(usize, usize)> {
        Ok((
            self.tree(OUTBOX_NOTIFY).len() + self.tree(OUTBOX_DIGEST).len(),
            self.tree(OUTBOX_CI).len(),
        ))
    }

    fn fingerprint(&self) -> StoreResult<u32> {
        self.db.checksum().map_err(storage)
    }

    fn shared(&self) -> bool {
        false
    }

    /// One process holds the data dir, so it holds every lease.
    fn hold_lease(&self, _name: &str) -> StoreResult<Option<u64>> {
        Ok(Some(1))
    }

    fn release_claims(&self) -> StoreResult<()> {
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

    fn lease_counts(&self) -> LeaseCounts {
        LeaseCounts::default()
    }
}
