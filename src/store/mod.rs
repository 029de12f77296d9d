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

pub mod audit;
mod keys;
mod tx;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

pub use audit::{AuditDraft, AuditEntry};
pub use tx::{Tx, TxError, TxResult};

use chrono::{DateTime, Utc};

use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{Release, ReleaseStatus};
use crate::domain::Refusal;
use tx::TxFailure;

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

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
    pub const NAMES: [&str; 20] = [
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
    ];
}
use trees::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The user asked for something the rules refuse; the text is the reply.
    #[error("{0}")]
    Refused(Refusal),
    #[error("the data dir {} is in use by another releasebot process (only one may open it); stop that one or pass another --data-dir", .0.display())]
    Locked(PathBuf),
    #[error("the data dir {dir} holds schema version {found}, but this releasebot reads version {SCHEMA_VERSION}; use a matching release, or export and import")]
    Schema { dir: String, found: u64 },
    #[error("a stored record could not be read ({0}); run `releasebot export` to salvage what can be read")]
    Corrupt(String),
    #[error("storage failed: {0}")]
    Storage(String),
    /// An inbound delivery was handled already; the redelivery is dropped.
    #[error("this delivery was handled already")]
    Duplicate,
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        StoreError::Storage(error.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A page of releases and how many match in all.
#[derive(Debug, Clone)]
pub struct Page {
    pub releases: Vec<Release>,
    pub total: u64,
}

/// The embedded store. Cloning shares the same database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    dir: PathBuf,
}

/// How much memory sled may use for its page cache. Small on purpose: the
/// working set (open releases, indexes) is tiny, and an idle bot should be too.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

impl Store {
    pub fn open(dir: &Path) -> StoreResult<Store> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match &e {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked(dir.to_path_buf())
                }
                _ => StoreError::Storage(format!("opening {}: {e}", dir.display())),
            })?;
        let trees = NAMES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let store = Store {
            db,
            trees,
            dir: dir.to_path_buf(),
        };
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> StoreResult<()> {
        let meta = &self.trees[META];
        match meta.get(keys::SCHEMA_VERSION)? {
            Some(bytes) => {
                let found = keys::u64_from(&bytes);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        dir: self.dir.display().to_string(),
                        found,
                    });
                }
            }
            None => {
                meta.insert(keys::SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
            }
        }
        Ok(())
    }

    /// Runs `change` as one serializable transaction over every tree, then
    /// fsyncs: when this returns `Ok`, the change survives a crash.
    pub fn transaction<T>(&self, change: impl Fn(&Tx<'_>) -> TxResult<T>) -> StoreResult<T> {
        let value = self.transaction_unflushed(change)?;
        self.db.flush()?;
        Ok(value)
    }

    /// Like `transaction`, but leaves the fsync to a later `flush`: for group
    /// commit, where the caller flushes once before answering a whole batch.
    pub fn transaction_unflushed<T>(
        &self,
        change: impl Fn(&Tx<'_>) -> TxResult<T>,
    ) -> StoreResult<T> {
        let result = self.trees.as_slice().transaction(|trees| {
            change(&Tx { trees }).map_err(|TxError(failure)| match failure {
                TxFailure::Refused(refusal) => {
                    ConflictableTransactionError::Abort(StoreError::Refused(refusal))
                }
                TxFailure::Duplicate => ConflictableTransactionError::Abort(StoreError::Duplicate),
                TxFailure::Corrupt(why) => {
                    ConflictableTransactionError::Abort(StoreError::Corrupt(why))
                }
                TxFailure::Sled(error) => error.into(),
            })
        });
        let value = result.map_err(|e| match e {
            TransactionError::Abort(aborted) => aborted,
            TransactionError::Storage(error) => StoreError::from(error),
        })?;
        Ok(value)
    }

    pub fn release(&self, id: ReleaseId) -> StoreResult<Option<Release>> {
        match self.trees[RELEASES].get(keys::release(id))? {
            Some(bytes) => Ok(Some(decode("release", &bytes)?)),
            None => Ok(None),
        }
    }

    fn releases_for(&self, ids: impl Iterator<Item = ReleaseId>) -> StoreResult<Vec<Release>> {
        ids.filter_map(|id| self.release(id).transpose()).collect()
    }

    pub fn count(&self, status: ReleaseStatus) -> StoreResult<u64> {
        Ok(self.trees[META]
            .get(keys::count(status))?
            .map_or(0, |b| keys::u64_from(&b)))
    }

    /// Releases in `status`, oldest first, from the status index.
    pub fn with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Page> {
        let ids = self.trees[BY_STATUS]
            .scan_prefix([status.code()])
            .keys()
            .take(limit)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            releases: self.releases_for(ids.iter().filter_map(|k| keys::release_from(k)))?,
            total: self.count(status)?,
        })
    }

    /// The newest releases with a status, newest first.
    pub fn newest_with_status(
        &self,
        status: ReleaseStatus,
        limit: usize,
    ) -> StoreResult<Vec<Release>> {
        let ids = self.trees[BY_STATUS]
            .scan_prefix([status.code()])
            .keys()
            .rev()
            .take(limit)
            .collect::<Result<Vec<_>, _>>()?;
        self.releases_for(ids.iter().filter_map(|k| keys::release_from(k)))
    }

    /// The newest releases a user requested, newest first.
    pub fn requested_by(&self, user: &UserRef, limit: usize) -> StoreResult<Vec<Release>> {
        let ids = self.trees[BY_REQUESTER]
            .scan_prefix(keys::user_prefix(user))
            .keys()
            .rev()
            .take(limit)
            .collect::<Result<Vec<_>, _>>()?;
        self.releases_for(ids.iter().filter_map(|k| keys::release_from(k)))
    }

    /// The newest releases, newest first.
    pub fn newest(&self, limit: usize) -> StoreResult<Vec<Release>> {
        self.trees[RELEASES]
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|bytes| decode("release", &bytes?))
            .collect()
    }

    /// How many releases exist (ids are handed out densely from 1).
    pub fn release_count(&self) -> StoreResult<u64> {
        Ok(self.trees[META]
            .get(keys::NEXT_RELEASE_ID)?
            .map_or(1, |b| keys::u64_from(&b))
            - 1)
    }

    pub fn all_releases(&self) -> impl Iterator<Item = StoreResult<Release>> + '_ {
        self.trees[RELEASES]
            .iter()
            .values()
            .map(|bytes| decode("release", &bytes?))
    }

    pub fn audit_for(&self, id: ReleaseId) -> StoreResult<Vec<AuditEntry>> {
        let seqs = self.trees[AUDIT_BY_RELEASE]
            .scan_prefix(keys::release(id))
            .keys()
            .collect::<Result<Vec<_>, _>>()?;
        seqs.iter()
            .filter_map(|k| k.get(8..16))
            .filter_map(|seq| self.trees[AUDIT].get(seq).transpose())
            .map(|bytes| decode("audit entry", &bytes?))
            .collect()
    }

    pub fn audit_log(&self) -> impl Iterator<Item = StoreResult<AuditEntry>> + '_ {
        self.trees[AUDIT]
            .iter()
            .values()
            .map(|bytes| decode("audit entry", &bytes?))
    }

    /// Announcements waiting for the notifier, oldest first, with their keys.
    pub fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Announcement)>> {
        self.outbox(OUTBOX_NOTIFY, "announcement", limit)
    }

    /// The first `limit` entries of an outbox tree keyed by sequence number.
    fn outbox<T: DeserializeOwned>(
        &self,
        tree: usize,
        what: &str,
        limit: usize,
    ) -> StoreResult<Vec<(u64, T)>> {
        self.trees[tree]
            .iter()
            .take(limit)
            .map(|item| {
                let (key, bytes) = item?;
                Ok((keys::u64_from(&key), decode(what, &bytes)?))
            })
            .collect()
    }

    pub fn posted(&self, id: ReleaseId, channel: &ChannelRef) -> StoreResult<Option<String>> {
        Ok(self.trees[POSTED]
            .get(keys::posted(id, channel.as_str()))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Marks an announcement delivered, remembering the message it lives in.
    /// The message is recorded before the outbox entry goes, so a crash in
    /// between re-sends the step as an edit of the same message, never as a
    /// second post. Plain writes rather than a transaction: sled seals its log
    /// buffer on every transaction, and this runs once per channel per step.
    /// The caller flushes after a round of deliveries.
    pub fn delivered(
        &self,
        key: u64,
        id: ReleaseId,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<()> {
        let posted = keys::posted(id, channel.as_str());
        if self.trees[POSTED].get(&posted)?.as_deref() != Some(message.as_bytes()) {
            if !message.is_empty() {
                let thread = keys::thread(channel.as_str(), message);
                self.trees[THREADS].insert(thread, &keys::release(id))?;
            }
            self.trees[POSTED].insert(&posted, message.as_bytes())?;
        }
        self.trees[POSTING].remove(posted)?;
        self.trees[OUTBOX_NOTIFY].remove(key.to_be_bytes())?;
        Ok(())
    }

    /// Marks that a release's announcement is about to be posted to a
    /// channel, durably, before the post; true when an earlier try was
    /// marked and never recorded (its outcome is unknown).
    pub fn begin_post(&self, id: ReleaseId, channel: &ChannelRef) -> StoreResult<bool> {
        let key = keys::posted(id, channel.as_str());
        let earlier = self.trees[POSTING].insert(key, &[1u8][..])?.is_some();
        if !earlier {
            self.db.flush()?;
        }
        Ok(earlier)
    }

    /// The release whose announcement is the chat message `message` in
    /// `channel`: replies in that message's thread are about it.
    pub fn release_for_thread(
        &self,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<Option<ReleaseId>> {
        Ok(self.trees[THREADS]
            .get(keys::thread(channel.as_str(), message))?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_ref()).ok())
            .map(|bytes| ReleaseId::new(u64::from_be_bytes(bytes))))
    }

    /// Whether an inbound chat delivery was handled already (a read: the
    /// mark itself is written with the command's effect, `Tx::mark_delivery`).
    pub fn delivery_seen(&self, delivery: &str) -> StoreResult<bool> {
        Ok(self.trees[SEEN].contains_key(delivery.as_bytes())?)
    }

    /// Records that an inbound chat delivery was handled, outside any
    /// command's transaction: for deliveries that change nothing (a query,
    /// a refusal, opening a modal). False when it already was.
    pub fn first_delivery(&self, delivery: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let stamp = now.timestamp().to_be_bytes();
        Ok(self.trees[SEEN]
            .compare_and_swap(delivery.as_bytes(), None::<&[u8]>, Some(&stamp[..]))?
            .is_ok())
    }

    /// Forgets deliveries marked before `before` (platforms stop redelivering
    /// long before); returns how many.
    pub fn forget_deliveries(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        let cutoff = before.timestamp();
        let mut forgotten = 0;
        for entry in self.trees[SEEN].iter() {
            let (key, value) = entry?;
            let marked = <[u8; 8]>::try_from(value.as_ref())
                .map(i64::from_be_bytes)
                .unwrap_or(i64::MIN);
            if marked < cutoff {
                self.trees[SEEN].remove(key)?;
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }

    /// Roles granted to `user` in chat (on top of the config's).
    pub fn granted_roles(&self, user: &UserRef) -> StoreResult<std::collections::BTreeSet<String>> {
        self.trees[ROLES]
            .scan_prefix(keys::user_prefix(user))
            .keys()
            .map(|key| {
                let key = key?;
                let text = String::from_utf8_lossy(&key);
                Ok(text
                    .split_once('\0')
                    .map(|(_, role)| role.to_string())
                    .unwrap_or_default())
            })
            .collect()
    }

    /// Every role granted in chat, as (user, role).
    pub fn grants(&self) -> StoreResult<Vec<(UserRef, String)>> {
        self.trees[ROLES]
            .iter()
            .keys()
            .map(|key| {
                let key = key?;
                let text = String::from_utf8_lossy(&key).into_owned();
                let (user, role) = text.split_once('\0').unwrap_or_default();
                let user = UserRef::parse(user)
                    .map_err(|e| StoreError::Corrupt(format!("role grant: {e}")))?;
                Ok((user, role.to_string()))
            })
            .collect()
    }

    /// Freezes of one environment (all when `None`), in start order.
    pub fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>> {
        let mut freezes: Vec<Freeze> = self.trees[FREEZES]
            .iter()
            .values()
            .map(|bytes| decode("freeze", &bytes?))
            .collect::<StoreResult<_>>()?;
        freezes.retain(|f| environment.is_none_or(|e| &f.environment == e));
        freezes.sort_by_key(|f| f.start);
        Ok(freezes)
    }

    pub fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>> {
        match self.trees[LOCKS].get(keys::target_prefix(service, environment))? {
            Some(bytes) => Ok(Some(decode("lock", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Releases with a deploy time in `[from, to)`, in time order, from the time index.
    pub fn scheduled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Release>> {
        let first = keys::by_time(from, ReleaseId::new(0));
        let last = keys::by_time(to, ReleaseId::new(0));
        let ids = self.trees[BY_TIME]
            .range(first..last)
            .keys()
            .collect::<Result<Vec<_>, _>>()?;
        self.releases_for(ids.iter().filter_map(|k| keys::release_from(k)))
    }

    /// When a scheduler key (a cron job, a reminder) last fired.
    pub fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
        match self.trees[SCHEDULER].get(key.as_bytes())? {
            Some(bytes) => Ok(Some(decode("scheduler state", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Per-release timers due at or before `now`, earliest first, from the timer index.
    pub fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>> {
        let end = keys::by_time(now + chrono::Duration::seconds(1), ReleaseId::new(0));
        self.trees[TIMERS]
            .range(..end)
            .keys()
            .take(limit)
            .map(|key| {
                let key = key?;
                keys::timer_from(&key).ok_or_else(|| StoreError::Corrupt("timer key".into()))
            })
            .collect()
    }

    /// When the earliest timer falls due.
    pub fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.trees[TIMERS]
            .first()?
            .and_then(|(key, _)| keys::timer_from(&key))
            .map(|t| t.due))
    }

    pub fn timer_count(&self) -> usize {
        self.trees[TIMERS].len()
    }

    /// Digests waiting for the notifier, oldest first, with their keys.
    pub fn pending_digests(&self, limit: usize) -> StoreResult<Vec<(u64, Digest)>> {
        self.outbox(OUTBOX_DIGEST, "digest", limit)
    }

    pub fn digest_delivered(&self, key: u64) -> StoreResult<()> {
        self.trees[OUTBOX_DIGEST].remove(key.to_be_bytes())?;
        Ok(())
    }

    /// Every CI job in the outbox.
    pub fn jobs(&self) -> StoreResult<Vec<CiJob>> {
        self.trees[OUTBOX_CI]
            .iter()
            .values()
            .map(|bytes| decode("ci job", &bytes?))
            .collect()
    }

    /// Announcements (and digests) waiting, and CI jobs waiting.
    pub fn outbox_depths(&self) -> (usize, usize) {
        (
            self.trees[OUTBOX_NOTIFY].len() + self.trees[OUTBOX_DIGEST].len(),
            self.trees[OUTBOX_CI].len(),
        )
    }

    /// A checksum of every tree, to show that something did not change.
    pub fn fingerprint(&self) -> StoreResult<u32> {
        Ok(self.db.checksum()?)
    }

    pub fn flush(&self) -> StoreResult<()> {
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
