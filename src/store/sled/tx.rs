//! One sled transaction behind `TxPort`.

use crate::store::prelude::*;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys;
use super::overlay::{Overlay, TxTree};
use super::trees::*;
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{LiveVersion, Release};
use crate::store::audit::{AuditDraft, AuditEntry, GENESIS};
use crate::store::tx::{TxError, TxResult};
use crate::store::{StoreError, StoreResult};

pub struct SledTx<'a> {
    pub(super) db: &'a ::sled::Db,
    pub(super) trees: &'a [::sled::Tree],
    /// The transaction's writes, which its reads see first.
    pub(super) overlay: &'a Overlay,
    /// Announcements it queued, with their bytes: the store keeps them
    /// decoded once it commits, so the notifier does not decode them.
    pub(super) announced: &'a std::cell::RefCell<Vec<(u64, ::sled::IVec, Announcement)>>,
    /// Committed reads that sled's transactional trees cannot make (scans).
    pub(super) reads: &'a CommittedReads,
}

/// A committed read a transaction asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Read {
    Freezes(Name),
    Scheduled(DateTime<Utc>, DateTime<Utc>),
    Target(Name, Name),
}

#[derive(Debug, Clone)]
enum Answer {
    Freezes(Vec<Freeze>),
    Releases(Vec<Release>),
}

/// Scans a transaction needs, made by the store's own read methods. A
/// transaction that asks for a scan not made yet stops; the store makes the
/// scans and runs it again. The store's one writer is held throughout, so
/// no other transaction commits between scan and commit.
#[derive(Default)]
pub(super) struct CommittedReads {
    made: std::cell::RefCell<std::collections::HashMap<Read, Answer>>,
    wanted: std::cell::RefCell<Vec<Read>>,
}

impl CommittedReads {
    fn get(&self, read: Read) -> TxResult<Answer> {
        if let Some(answer) = self.made.borrow().get(&read) {
            return Ok(answer.clone());
        }
        self.wanted.borrow_mut().push(read);
        Err(TxError::backend(std::io::Error::other(
            "a committed read is needed first",
        )))
    }

    /// Whether the last try stopped for reads it asked for.
    pub(super) fn wanted(&self) -> bool {
        !self.wanted.borrow().is_empty()
    }

    /// Makes the reads the last try asked for.
    pub(super) fn make(&self, store: &super::SledStore) -> StoreResult<()> {
        for read in self.wanted.borrow_mut().drain(..) {
            let answer = match &read {
                Read::Freezes(environment) => Answer::Freezes(store.freezes(Some(environment))?),
                Read::Scheduled(from, to) => Answer::Releases(store.scheduled_between(*from, *to)?),
                Read::Target(service, environment) => {
                    Answer::Releases(store.releases_of(service, environment)?)
                }
            };
            self.made.borrow_mut().insert(read, answer);
        }
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> TxResult<T> {
    serde_json::from_slice(bytes).map_err(|e| TxError::corrupt(what, e))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records always serialize")
}

/// (user, role) pairs from role-grant keys (`user \0 role`).
pub(super) fn roles_in<E: std::fmt::Display>(
    keys: impl Iterator<Item = Result<::sled::IVec, E>>,
) -> StoreResult<Vec<(UserRef, String)>> {
    keys.map(|key| {
        let key = key.map_err(|e| StoreError::Storage(e.to_string()))?;
        let text = String::from_utf8_lossy(&key).into_owned();
        let (user, role) = text.split_once('\0').unwrap_or_default();
        let user =
            UserRef::parse(user).map_err(|e| StoreError::Corrupt(format!("role grant: {e}")))?;
        Ok((user, role.to_string()))
    })
    .collect()
}

impl SledTx<'_> {
    fn tree(&self, index: usize) -> TxTree<'_> {
        self.overlay.tree(self.trees, index)
    }

    fn bump_count(&self, release: &Release, delta: i64) -> TxResult<()> {
        let key = keys::count(release.status);
        let meta = self.tree(META);
        let current = meta.get(&key)?.map_or(0, |b| keys::u64_from(&b));
        let updated = current.saturating_add_signed(delta);
        meta.insert(key, &updated.to_be_bytes())?;
        Ok(())
    }

    fn next_key(&self, tree: usize) -> TxResult<u64> {
        self.tree(tree).generate_id(self.db)
    }

    /// Raises the counter at `key` past `id`.
    fn reserve(&self, key: &[u8], id: u64) -> TxResult<()> {
        let meta = self.tree(META);
        let next = meta.get(key)?.map_or(1, |b| keys::u64_from(&b));
        if id >= next {
            meta.insert(key, &(id + 1).to_be_bytes())?;
        }
        Ok(())
    }

    /// Appends an entry, given as the bytes it is stored as, and indexes it
    /// by release.
    fn put_audit(&self, entry: &AuditEntry, bytes: Vec<u8>) -> TxResult<()> {
        self.tree(AUDIT).insert(entry.seq.to_be_bytes(), bytes)?;
        if let Some(release) = entry.release {
            self.tree(AUDIT_BY_RELEASE)
                .insert(keys::audit_by_release(release, entry.seq), &[])?;
        }
        self.tree(META)
            .insert(keys::AUDIT_HEAD, encode(&(entry.seq, &entry.hash)))?;
        Ok(())
    }

    /// Hands out the counter at `key` and raises it.
    fn allocate(&self, key: &[u8]) -> TxResult<u64> {
        let meta = self.tree(META);
        let next = meta.get(key)?.map_or(1, |b| keys::u64_from(&b));
        meta.insert(key, &(next + 1).to_be_bytes())?;
        Ok(next)
    }

    /// Every grant, from the one record a transaction can read (a sled
    /// transaction cannot scan the `roles` tree).
    fn grant_list(&self) -> TxResult<Vec<(UserRef, String)>> {
        match self.tree(META).get(keys::GRANTS)? {
            Some(bytes) => decode("role grants", &bytes),
            None => Ok(Vec::new()),
        }
    }

    fn set_grant(&self, user: &UserRef, role: &str, granted: bool) -> TxResult<bool> {
        let mut grants = self.grant_list()?;
        let had = grants.iter().any(|(u, r)| u == user && r == role);
        if had == granted {
            return Ok(false);
        }
        if granted {
            grants.push((user.clone(), role.to_string()));
            grants.sort();
            self.tree(ROLES).insert(keys::grant(user, role), &[])?;
        } else {
            grants.retain(|(u, r)| !(u == user && r == role));
            self.tree(ROLES).remove(keys::grant(user, role))?;
        }
        self.tree(META).insert(keys::GRANTS, encode(&grants))?;
        Ok(true)
    }
}

impl TxReleases for SledTx<'_> {
    fn releases_of(&self, service: &Name, environment: &Name) -> TxResult<Vec<Release>> {
        let read = Read::Target(service.clone(), environment.clone());
        match self.reads.get(read)? {
            Answer::Releases(releases) => Ok(releases),
            Answer::Freezes(_) => unreachable!("answers are kept by their read"),
        }
    }

    fn release(&self, id: ReleaseId) -> TxResult<Option<Release>> {
        match self.tree(RELEASES).get(keys::release(id))? {
            Some(bytes) => Ok(Some(decode("release", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Hands out the next release id; concurrent transactions conflict here
    /// and are retried, so no two releases share an id.
    fn allocate_release_id(&self) -> TxResult<ReleaseId> {
        self.allocate(keys::NEXT_RELEASE_ID).map(ReleaseId::new)
    }

    fn reserve_release_id(&self, id: ReleaseId) -> TxResult<()> {
        self.reserve(keys::NEXT_RELEASE_ID, id.number())
    }

    /// Writes a release and keeps every index in step with it, touching
    /// only the index entries that change.
    fn put_release(&self, release: &Release, before: Option<&Release>) -> TxResult<()> {
        let id = release.id;
        let time_moved = before.is_none_or(|old| old.scheduled_at != release.scheduled_at);
        let target_moved = before.is_none_or(|old| {
            (&old.service, &old.environment) != (&release.service, &release.environment)
        });
        if let Some(old) = before {
            if old.status != release.status {
                self.tree(BY_STATUS)
                    .remove(keys::by_status(old.status, id))?;
                self.bump_count(old, -1)?;
            }
            if let Some(at) = old.scheduled_at.filter(|_| time_moved) {
                self.tree(BY_TIME).remove(keys::by_time(at, id))?;
            }
            if target_moved {
                self.tree(BY_TARGET)
                    .remove(keys::by_target(&old.service, &old.environment, id))?;
            }
        }
        if before.is_none_or(|old| old.status != release.status) {
            self.tree(BY_STATUS)
                .insert(keys::by_status(release.status, id), &[])?;
            self.bump_count(release, 1)?;
        }
        if let Some(at) = release.scheduled_at.filter(|_| time_moved) {
            self.tree(BY_TIME).insert(keys::by_time(at, id), &[])?;
        }
        if target_moved {
            self.tree(BY_TARGET).insert(
                keys::by_target(&release.service, &release.environment, id),
                &[],
            )?;
        }
        if before.is_none() {
            self.tree(BY_REQUESTER)
                .insert(keys::by_requester(&release.requester, id), &[])?;
        }
        self.tree(RELEASES)
            .insert(keys::release(id), encode(release))?;
        Ok(())
    }

    /// Appends to the hash chain and indexes the entry by release.
    fn audit(&self, draft: AuditDraft) -> TxResult<AuditEntry> {
        let (seq, prev_hash) = match self.tree(META).get(keys::AUDIT_HEAD)? {
            Some(bytes) => decode::<(u64, String)>("audit head", &bytes)?,
            None => (0, GENESIS.to_string()),
        };
        let (entry, bytes) = AuditEntry::chain_encoded(seq + 1, prev_hash, draft);
        self.put_audit(&entry, bytes)?;
        Ok(entry)
    }

    fn append_audit(&self, entry: &AuditEntry) -> TxResult<()> {
        self.put_audit(entry, encode(entry))
    }

    fn live(&self, service: &Name, environment: &Name) -> TxResult<Option<LiveVersion>> {
        match self.tree(META).get(keys::live(service, environment))? {
            Some(bytes) => Ok(Some(decode("live version", &bytes)?)),
            None => Ok(None),
        }
    }

    fn set_live(&self, service: &Name, environment: &Name, live: &LiveVersion) -> TxResult<()> {
        self.tree(META)
            .insert(keys::live(service, environment), encode(live))?;
        Ok(())
    }

    /// The release with a CI job running in this service+environment, if any.
    fn in_flight(&self, service: &Name, environment: &Name) -> TxResult<Option<ReleaseId>> {
        Ok(self
            .tree(META)
            .get(keys::in_flight(service, environment))?
            .and_then(|b| keys::release_from(&b)))
    }

    fn set_in_flight(
        &self,
        service: &Name,
        environment: &Name,
        release: Option<ReleaseId>,
    ) -> TxResult<()> {
        let key = keys::in_flight(service, environment);
        match release {
            Some(id) => self.tree(META).insert(key, &keys::release(id))?,
            None => self.tree(META).remove(key)?,
        };
        Ok(())
    }
}

impl TxCalendar for SledTx<'_> {
    fn freezes(&self, environment: &Name) -> TxResult<Vec<Freeze>> {
        match self.reads.get(Read::Freezes(environment.clone()))? {
            Answer::Freezes(freezes) => Ok(freezes),
            Answer::Releases(_) => unreachable!("answers are kept by their read"),
        }
    }

    fn scheduled_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TxResult<Vec<Release>> {
        match self.reads.get(Read::Scheduled(from, to))? {
            Answer::Releases(releases) => Ok(releases),
            Answer::Freezes(_) => unreachable!("answers are kept by their read"),
        }
    }

    fn allocate_freeze_id(&self) -> TxResult<u64> {
        self.allocate(keys::NEXT_FREEZE_ID)
    }

    fn reserve_freeze_id(&self, id: u64) -> TxResult<()> {
        self.reserve(keys::NEXT_FREEZE_ID, id)
    }

    fn put_freeze(&self, freeze: &Freeze) -> TxResult<()> {
        self.tree(FREEZES)
            .insert(freeze.id.to_be_bytes(), encode(freeze))?;
        Ok(())
    }

    fn freeze(&self, id: u64) -> TxResult<Option<Freeze>> {
        match self.tree(FREEZES).get(id.to_be_bytes())? {
            Some(bytes) => Ok(Some(decode("freeze", &bytes)?)),
            None => Ok(None),
        }
    }

    fn remove_freeze(&self, id: u64) -> TxResult<()> {
        self.tree(FREEZES).remove(id.to_be_bytes())?;
        Ok(())
    }

    fn lock(&self, service: &Name, environment: &Name) -> TxResult<Option<Lock>> {
        match self
            .tree(LOCKS)
            .get(keys::target_prefix(service, environment))?
        {
            Some(bytes) => Ok(Some(decode("lock", &bytes)?)),
            None => Ok(None),
        }
    }

    fn set_lock(&self, service: &Name, environment: &Name, lock: Option<&Lock>) -> TxResult<()> {
        let key = keys::target_prefix(service, environment);
        match lock {
            Some(lock) => self.tree(LOCKS).insert(key, encode(lock))?,
            None => self.tree(LOCKS).remove(key)?,
        };
        Ok(())
    }
}

impl TxOutboxes for SledTx<'_> {
    fn post_digest(&self, digest: &Digest) -> TxResult<()> {
        let key = self.next_key(OUTBOX_DIGEST)?;
        self.tree(OUTBOX_DIGEST)
            .insert(key.to_be_bytes(), encode(digest))?;
        Ok(())
    }

    fn announce(&self, announcement: Announcement) -> TxResult<()> {
        let key = self.next_key(OUTBOX_NOTIFY)?;
        let bytes = ::sled::IVec::from(encode(&announcement));
        self.tree(OUTBOX_NOTIFY)
            .insert(key.to_be_bytes(), bytes.clone())?;
        self.announced.borrow_mut().push((key, bytes, announcement));
        Ok(())
    }

    fn job(&self, key: &str) -> TxResult<Option<CiJob>> {
        match self.tree(OUTBOX_CI).get(key.as_bytes())? {
            Some(bytes) => Ok(Some(decode("ci job", &bytes)?)),
            None => Ok(None),
        }
    }

    fn put_job(&self, job: &CiJob) -> TxResult<()> {
        self.tree(OUTBOX_CI)
            .insert(job.key.as_bytes(), encode(job))?;
        Ok(())
    }

    fn remove_job(&self, key: &str) -> TxResult<()> {
        self.tree(OUTBOX_CI).remove(key.as_bytes())?;
        Ok(())
    }

    fn put_posted(&self, id: ReleaseId, channel: &ChannelRef, message: &str) -> TxResult<()> {
        let posted = keys::posted(id, channel.as_str());
        if !message.is_empty() {
            self.tree(THREADS)
                .insert(keys::thread(channel.as_str(), message), &keys::release(id))?;
        }
        self.tree(POSTED).insert(posted, message.as_bytes())?;
        Ok(())
    }
}

impl TxScheduler for SledTx<'_> {
    /// Replaces a release's timers: removes `old`, adds `new`.
    fn replace_timers(&self, old: &[Timer], new: &[Timer]) -> TxResult<()> {
        for timer in old.iter().filter(|t| !new.contains(t)) {
            self.tree(TIMERS).remove(keys::timer(timer))?;
        }
        for timer in new {
            self.tree(TIMERS).insert(keys::timer(timer), &[])?;
        }
        Ok(())
    }

    /// When a scheduler key last fired, inside the transaction.
    fn last_fired(&self, key: &str) -> TxResult<Option<DateTime<Utc>>> {
        match self.tree(SCHEDULER).get(key.as_bytes())? {
            Some(bytes) => Ok(Some(decode("scheduler state", &bytes)?)),
            None => Ok(None),
        }
    }

    fn set_last_fired(&self, key: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.tree(SCHEDULER).insert(key.as_bytes(), encode(&at))?;
        Ok(())
    }

    fn take_timer(&self, timer: &Timer) -> TxResult<bool> {
        self.tree(TIMERS).take(keys::timer(timer))
    }

    fn record_slot(&self, key: &str, slot: DateTime<Utc>) -> TxResult<bool> {
        let slot_key = keys::slot(key, slot);
        let slots = self.tree(SLOTS);
        if slots.get(&slot_key)?.is_some() {
            return Ok(false);
        }
        slots.insert(slot_key, &[])?;
        Ok(true)
    }
}

impl TxAdmin for SledTx<'_> {
    /// Marks an inbound chat delivery (`slack:event:Ev…`) handled, in the
    /// same transaction as the command's effect: the effect and the mark
    /// commit together or not at all. Fails the transaction when the
    /// delivery was marked before (a redelivery racing the first).
    fn mark_delivery(&self, delivery: &str, now: DateTime<Utc>) -> TxResult<()> {
        let seen = self.tree(SEEN);
        if seen.get(delivery.as_bytes())?.is_some() {
            return Err(TxError::duplicate());
        }
        seen.insert(delivery.as_bytes(), &now.timestamp().to_be_bytes())?;
        Ok(())
    }

    fn granted_roles(&self, user: &UserRef) -> TxResult<BTreeSet<String>> {
        Ok(self
            .grant_list()?
            .into_iter()
            .filter(|(u, _)| u == user)
            .map(|(_, role)| role)
            .collect())
    }

    fn grants(&self) -> TxResult<Vec<(UserRef, String)>> {
        self.grant_list()
    }

    fn grant(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        self.set_grant(user, role, true)
    }

    fn revoke(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        self.set_grant(user, role, false)
    }

    fn put_seen(&self, delivery: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.tree(SEEN)
            .insert(delivery.as_bytes(), &at.timestamp().to_be_bytes())?;
        Ok(())
    }
}

impl TxRecords for SledTx<'_> {
    fn record(&self, kind: &str, key: &str) -> TxResult<Option<Vec<u8>>> {
        Ok(self
            .tree(RECORDS)
            .get(keys::record(kind, key))?
            .map(|bytes| bytes.to_vec()))
    }

    fn put_record(&self, kind: &str, key: &str, body: Option<&[u8]>) -> TxResult<()> {
        let key = keys::record(kind, key);
        match body {
            Some(body) => self.tree(RECORDS).insert(key, body)?,
            None => self.tree(RECORDS).remove(key)?,
        };
        Ok(())
    }

    fn allocate_record_id(&self, kind: &str) -> TxResult<u64> {
        self.allocate(&keys::record_counter(kind))
    }

    fn reserve_record_id(&self, kind: &str, id: u64) -> TxResult<()> {
        self.reserve(&keys::record_counter(kind), id)
    }

    fn next_record_id(&self, kind: &str) -> TxResult<u64> {
        let counter = self.tree(META).get(keys::record_counter(kind))?;
        Ok(counter.map_or(1, |b| keys::u64_from(&b)))
    }
}
