//! Typed access to the store inside one sled transaction. Everything a
//! command changes (release, indexes, audit entry, outboxes) goes through here,
//! so it commits or fails as one.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::audit::{AuditDraft, AuditEntry, GENESIS};
use super::keys;
use super::trees::*;
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{Name, ReleaseId, UserRef};
use chrono::{DateTime, Utc};

use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{LiveVersion, Release};
use crate::domain::Refusal;

/// Why a transaction closure stopped: a refusal for the user, or something
/// that broke (the store retries conflicts itself).
#[derive(Debug)]
pub struct TxError(pub(super) TxFailure);

#[derive(Debug)]
pub(super) enum TxFailure {
    Refused(Refusal),
    Sled(UnabortableTransactionError),
    Corrupt(String),
    /// The inbound delivery this transaction would mark was handled already.
    Duplicate,
}

impl From<Refusal> for TxError {
    fn from(refusal: Refusal) -> Self {
        TxError(TxFailure::Refused(refusal))
    }
}

impl From<UnabortableTransactionError> for TxError {
    fn from(error: UnabortableTransactionError) -> Self {
        TxError(TxFailure::Sled(error))
    }
}

pub type TxResult<T> = Result<T, TxError>;

pub struct Tx<'a> {
    pub(super) trees: &'a [TransactionalTree],
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> TxResult<T> {
    serde_json::from_slice(bytes).map_err(|e| TxError(TxFailure::Corrupt(format!("{what}: {e}"))))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records always serialize")
}

impl Tx<'_> {
    fn tree(&self, index: usize) -> &TransactionalTree {
        &self.trees[index]
    }

    /// Marks an inbound chat delivery (`slack:event:Ev…`) handled, in the
    /// same transaction as the command's effect: the effect and the mark
    /// commit together or not at all. Fails the transaction when the
    /// delivery was marked before (a redelivery racing the first).
    pub fn mark_delivery(&self, delivery: &str, now: DateTime<Utc>) -> TxResult<()> {
        let seen = self.tree(SEEN);
        if seen.get(delivery.as_bytes())?.is_some() {
            return Err(TxError(TxFailure::Duplicate));
        }
        seen.insert(delivery.as_bytes(), &now.timestamp().to_be_bytes())?;
        Ok(())
    }

    pub fn release(&self, id: ReleaseId) -> TxResult<Option<Release>> {
        match self.tree(RELEASES).get(keys::release(id))? {
            Some(bytes) => Ok(Some(decode("release", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Hands out the next release id; concurrent transactions conflict here
    /// and are retried, so no two releases share an id.
    pub fn allocate_release_id(&self) -> TxResult<ReleaseId> {
        let meta = self.tree(META);
        let next = meta
            .get(keys::NEXT_RELEASE_ID)?
            .map_or(1, |b| keys::u64_from(&b));
        meta.insert(keys::NEXT_RELEASE_ID, &(next + 1).to_be_bytes())?;
        Ok(ReleaseId::new(next))
    }

    /// Raises the id counter past `id` (used by import).
    pub fn reserve_release_id(&self, id: ReleaseId) -> TxResult<()> {
        let meta = self.tree(META);
        let next = meta
            .get(keys::NEXT_RELEASE_ID)?
            .map_or(1, |b| keys::u64_from(&b));
        if id.number() >= next {
            meta.insert(keys::NEXT_RELEASE_ID, &(id.number() + 1).to_be_bytes())?;
        }
        Ok(())
    }

    /// Writes a release and keeps every index in step with it.
    pub fn put_release(&self, release: &Release, before: Option<&Release>) -> TxResult<()> {
        let id = release.id;
        if let Some(old) = before {
            if old.status != release.status {
                self.tree(BY_STATUS)
                    .remove(keys::by_status(old.status, id))?;
                self.bump_count(old, -1)?;
            }
            if let Some(at) = old.scheduled_at {
                self.tree(BY_TIME).remove(keys::by_time(at, id))?;
            }
            if (&old.service, &old.environment) != (&release.service, &release.environment) {
                self.tree(BY_TARGET)
                    .remove(keys::by_target(&old.service, &old.environment, id))?;
            }
        }
        if before.is_none_or(|old| old.status != release.status) {
            self.tree(BY_STATUS)
                .insert(keys::by_status(release.status, id), &[])?;
            self.bump_count(release, 1)?;
        }
        if let Some(at) = release.scheduled_at {
            self.tree(BY_TIME).insert(keys::by_time(at, id), &[])?;
        }
        self.tree(BY_TARGET).insert(
            keys::by_target(&release.service, &release.environment, id),
            &[],
        )?;
        if before.is_none() {
            self.tree(BY_REQUESTER)
                .insert(keys::by_requester(&release.requester, id), &[])?;
        }
        // Every change raises the revision; a new or imported release keeps its own.
        let revised;
        let stored = match before {
            Some(old) => {
                revised = Release {
                    revision: old.revision + 1,
                    ..release.clone()
                };
                &revised
            }
            None => release,
        };
        self.tree(RELEASES)
            .insert(&keys::release(id), encode(stored))?;
        Ok(())
    }

    fn bump_count(&self, release: &Release, delta: i64) -> TxResult<()> {
        let key = keys::count(release.status);
        let meta = self.tree(META);
        let current = meta.get(&key)?.map_or(0, |b| keys::u64_from(&b));
        let updated = current.saturating_add_signed(delta);
        meta.insert(key, &updated.to_be_bytes())?;
        Ok(())
    }

    /// Appends to the hash chain and indexes the entry by release.
    pub fn audit(&self, draft: AuditDraft) -> TxResult<AuditEntry> {
        let meta = self.tree(META);
        let (seq, prev_hash) = match meta.get(keys::AUDIT_HEAD)? {
            Some(bytes) => decode::<(u64, String)>("audit head", &bytes)?,
            None => (0, GENESIS.to_string()),
        };
        let entry = AuditEntry::chain(seq + 1, prev_hash, draft);
        self.tree(AUDIT)
            .insert(&entry.seq.to_be_bytes(), encode(&entry))?;
        if let Some(release) = entry.release {
            self.tree(AUDIT_BY_RELEASE)
                .insert(keys::audit_by_release(release, entry.seq), &[])?;
        }
        meta.insert(keys::AUDIT_HEAD, encode(&(entry.seq, &entry.hash)))?;
        Ok(entry)
    }

    /// Grants a role; `false` when the user already had it.
    pub fn grant(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        Ok(self
            .tree(ROLES)
            .insert(keys::grant(user, role), &[])?
            .is_none())
    }

    /// Revokes a granted role; `false` when it was not granted.
    pub fn revoke(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        Ok(self.tree(ROLES).remove(keys::grant(user, role))?.is_some())
    }

    /// Hands out the next freeze number.
    pub fn allocate_freeze_id(&self) -> TxResult<u64> {
        let meta = self.tree(META);
        let next = meta
            .get(keys::NEXT_FREEZE_ID)?
            .map_or(1, |b| keys::u64_from(&b));
        meta.insert(keys::NEXT_FREEZE_ID, &(next + 1).to_be_bytes())?;
        Ok(next)
    }

    pub fn put_freeze(&self, freeze: &Freeze) -> TxResult<()> {
        self.tree(FREEZES)
            .insert(&freeze.id.to_be_bytes(), encode(freeze))?;
        Ok(())
    }

    pub fn freeze(&self, id: u64) -> TxResult<Option<Freeze>> {
        match self.tree(FREEZES).get(id.to_be_bytes())? {
            Some(bytes) => Ok(Some(decode("freeze", &bytes)?)),
            None => Ok(None),
        }
    }

    pub fn remove_freeze(&self, id: u64) -> TxResult<()> {
        self.tree(FREEZES).remove(&id.to_be_bytes())?;
        Ok(())
    }

    pub fn lock(&self, service: &Name, environment: &Name) -> TxResult<Option<Lock>> {
        match self
            .tree(LOCKS)
            .get(keys::target_prefix(service, environment))?
        {
            Some(bytes) => Ok(Some(decode("lock", &bytes)?)),
            None => Ok(None),
        }
    }

    pub fn set_lock(
        &self,
        service: &Name,
        environment: &Name,
        lock: Option<&Lock>,
    ) -> TxResult<()> {
        let key = keys::target_prefix(service, environment);
        match lock {
            Some(lock) => self.tree(LOCKS).insert(key, encode(lock))?,
            None => self.tree(LOCKS).remove(key)?,
        };
        Ok(())
    }

    /// Replaces a release's timers: removes `old`, adds `new`.
    pub fn replace_timers(&self, old: &[Timer], new: &[Timer]) -> TxResult<()> {
        for timer in old.iter().filter(|t| !new.contains(t)) {
            self.tree(TIMERS).remove(keys::timer(timer))?;
        }
        for timer in new {
            self.tree(TIMERS).insert(keys::timer(timer), &[])?;
        }
        Ok(())
    }

    /// When a scheduler key last fired, inside the transaction.
    pub fn last_fired(&self, key: &str) -> TxResult<Option<DateTime<Utc>>> {
        match self.tree(SCHEDULER).get(key.as_bytes())? {
            Some(bytes) => Ok(Some(decode("scheduler state", &bytes)?)),
            None => Ok(None),
        }
    }

    pub fn set_last_fired(&self, key: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.tree(SCHEDULER).insert(key.as_bytes(), encode(&at))?;
        Ok(())
    }

    pub fn post_digest(&self, digest: &Digest) -> TxResult<()> {
        let tree = self.tree(OUTBOX_DIGEST);
        let key = tree
            .generate_id()
            .map_err(|e| TxError(TxFailure::Sled(UnabortableTransactionError::Storage(e))))?;
        tree.insert(&key.to_be_bytes(), encode(digest))?;
        Ok(())
    }

    pub fn announce(&self, announcement: &Announcement) -> TxResult<()> {
        let tree = self.tree(OUTBOX_NOTIFY);
        let key = tree
            .generate_id()
            .map_err(|e| TxError(TxFailure::Sled(UnabortableTransactionError::Storage(e))))?;
        tree.insert(&key.to_be_bytes(), encode(announcement))?;
        Ok(())
    }

    pub fn job(&self, key: &str) -> TxResult<Option<CiJob>> {
        match self.tree(OUTBOX_CI).get(key.as_bytes())? {
            Some(bytes) => Ok(Some(decode("ci job", &bytes)?)),
            None => Ok(None),
        }
    }

    pub fn put_job(&self, job: &CiJob) -> TxResult<()> {
        self.tree(OUTBOX_CI)
            .insert(job.key.as_bytes(), encode(job))?;
        Ok(())
    }

    pub fn remove_job(&self, key: &str) -> TxResult<()> {
        self.tree(OUTBOX_CI).remove(key.as_bytes())?;
        Ok(())
    }

    pub fn live(&self, service: &Name, environment: &Name) -> TxResult<Option<LiveVersion>> {
        match self.tree(META).get(keys::live(service, environment))? {
            Some(bytes) => Ok(Some(decode("live version", &bytes)?)),
            None => Ok(None),
        }
    }

    pub fn set_live(&self, service: &Name, environment: &Name, live: &LiveVersion) -> TxResult<()> {
        self.tree(META)
            .insert(keys::live(service, environment), encode(live))?;
        Ok(())
    }

    /// The release with a CI job running in this service+environment, if any.
    pub fn in_flight(&self, service: &Name, environment: &Name) -> TxResult<Option<ReleaseId>> {
        Ok(self
            .tree(META)
            .get(keys::in_flight(service, environment))?
            .and_then(|b| keys::release_from(&b)))
    }

    pub fn set_in_flight(
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
