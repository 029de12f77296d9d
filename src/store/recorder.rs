//! The rules every backend shares, kept above them: a transaction's writes
//! go through `Recorder`, which raises a changed release's revision and
//! notes what the transaction changed for the feed. Backends store what
//! they are given.

use crate::store::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::audit::{AuditDraft, AuditEntry};
use super::feed::Change;
use super::port::Tx;
use super::TxResult;
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{LiveVersion, Release};

pub(super) struct Recorder<'a> {
    inner: &'a Tx<'a>,
    change: RefCell<Change>,
}

impl<'a> Recorder<'a> {
    pub(super) fn new(inner: &'a Tx<'a>) -> Recorder<'a> {
        Recorder {
            inner,
            change: RefCell::default(),
        }
    }

    /// What the transaction changed so far.
    pub(super) fn finish(self) -> Change {
        self.change.into_inner()
    }

    fn note(&self, mark: impl FnOnce(&mut Change)) {
        mark(&mut self.change.borrow_mut());
    }
}

impl TxReleases for Recorder<'_> {
    fn releases_of(&self, service: &Name, environment: &Name) -> TxResult<Vec<Release>> {
        self.inner.releases_of(service, environment)
    }

    fn release(&self, id: ReleaseId) -> TxResult<Option<Release>> {
        self.inner.release(id)
    }

    fn allocate_release_id(&self) -> TxResult<ReleaseId> {
        self.inner.allocate_release_id()
    }

    fn reserve_release_id(&self, id: ReleaseId) -> TxResult<()> {
        self.inner.reserve_release_id(id)
    }

    /// Every change raises the revision; a new or imported release keeps its own.
    fn put_release(&self, release: &Release, before: Option<&Release>) -> TxResult<()> {
        let revised;
        let stored = if before.is_some() {
            revised = Release {
                revision: release.revision_over(before),
                ..release.clone()
            };
            &revised
        } else {
            release
        };
        self.inner.put_release(stored, before)?;
        self.note(|c| c.release(stored.id, stored.revision));
        Ok(())
    }

    fn audit(&self, draft: AuditDraft) -> TxResult<AuditEntry> {
        self.inner.audit(draft)
    }

    fn append_audit(&self, entry: &AuditEntry) -> TxResult<()> {
        self.inner.append_audit(entry)
    }

    fn live(&self, service: &Name, environment: &Name) -> TxResult<Option<LiveVersion>> {
        self.inner.live(service, environment)
    }

    fn set_live(&self, service: &Name, environment: &Name, live: &LiveVersion) -> TxResult<()> {
        self.inner.set_live(service, environment, live)
    }

    fn in_flight(&self, service: &Name, environment: &Name) -> TxResult<Option<ReleaseId>> {
        self.inner.in_flight(service, environment)
    }

    fn set_in_flight(
        &self,
        service: &Name,
        environment: &Name,
        release: Option<ReleaseId>,
    ) -> TxResult<()> {
        self.inner.set_in_flight(service, environment, release)
    }
}

impl TxCalendar for Recorder<'_> {
    fn allocate_freeze_id(&self) -> TxResult<u64> {
        self.inner.allocate_freeze_id()
    }

    fn reserve_freeze_id(&self, id: u64) -> TxResult<()> {
        self.inner.reserve_freeze_id(id)
    }

    fn put_freeze(&self, freeze: &Freeze) -> TxResult<()> {
        self.inner.put_freeze(freeze)?;
        self.note(|c| c.calendar = true);
        Ok(())
    }

    fn freeze(&self, id: u64) -> TxResult<Option<Freeze>> {
        self.inner.freeze(id)
    }

    fn remove_freeze(&self, id: u64) -> TxResult<()> {
        self.inner.remove_freeze(id)?;
        self.note(|c| c.calendar = true);
        Ok(())
    }

    fn lock(&self, service: &Name, environment: &Name) -> TxResult<Option<Lock>> {
        self.inner.lock(service, environment)
    }

    fn freezes(&self, environment: &Name) -> TxResult<Vec<Freeze>> {
        self.inner.freezes(environment)
    }

    fn scheduled_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TxResult<Vec<Release>> {
        self.inner.scheduled_between(from, to)
    }

    fn set_lock(&self, service: &Name, environment: &Name, lock: Option<&Lock>) -> TxResult<()> {
        self.inner.set_lock(service, environment, lock)?;
        self.note(|c| c.calendar = true);
        Ok(())
    }
}

impl TxOutboxes for Recorder<'_> {
    fn post_digest(&self, digest: &Digest) -> TxResult<()> {
        self.inner.post_digest(digest)?;
        self.note(|c| c.announcements = true);
        Ok(())
    }

    fn announce(&self, announcement: Announcement) -> TxResult<()> {
        self.inner.announce(announcement)?;
        self.note(|c| c.announcements = true);
        Ok(())
    }

    fn job(&self, key: &str) -> TxResult<Option<CiJob>> {
        self.inner.job(key)
    }

    fn put_job(&self, job: &CiJob) -> TxResult<()> {
        self.inner.put_job(job)?;
        self.note(|c| c.jobs = true);
        Ok(())
    }

    fn remove_job(&self, key: &str) -> TxResult<()> {
        self.inner.remove_job(key)?;
        self.note(|c| c.jobs = true);
        Ok(())
    }

    fn put_posted(&self, id: ReleaseId, channel: &ChannelRef, message: &str) -> TxResult<()> {
        self.inner.put_posted(id, channel, message)
    }

    fn publish(&self, change: &Change) -> TxResult<Option<u64>> {
        self.inner.publish(change)
    }
}

impl TxScheduler for Recorder<'_> {
    fn replace_timers(&self, old: &[Timer], new: &[Timer]) -> TxResult<()> {
        self.inner.replace_timers(old, new)?;
        self.note(|c| c.timers |= !(old.is_empty() && new.is_empty()));
        Ok(())
    }

    fn take_timer(&self, timer: &Timer) -> TxResult<bool> {
        self.inner.take_timer(timer)
    }

    fn last_fired(&self, key: &str) -> TxResult<Option<DateTime<Utc>>> {
        self.inner.last_fired(key)
    }

    fn set_last_fired(&self, key: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.inner.set_last_fired(key, at)
    }

    fn record_slot(&self, key: &str, slot: DateTime<Utc>) -> TxResult<bool> {
        self.inner.record_slot(key, slot)
    }
}

impl TxAdmin for Recorder<'_> {
    fn mark_delivery(&self, delivery: &str, now: DateTime<Utc>) -> TxResult<()> {
        self.inner.mark_delivery(delivery, now)
    }

    fn granted_roles(&self, user: &UserRef) -> TxResult<BTreeSet<String>> {
        self.inner.granted_roles(user)
    }

    fn grants(&self) -> TxResult<Vec<(UserRef, String)>> {
        self.inner.grants()
    }

    fn grant(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        let granted = self.inner.grant(user, role)?;
        self.note(|c| c.grants |= granted);
        Ok(granted)
    }

    fn revoke(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        let revoked = self.inner.revoke(user, role)?;
        self.note(|c| c.grants |= revoked);
        Ok(revoked)
    }

    fn put_seen(&self, delivery: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.inner.put_seen(delivery, at)
    }
}

impl TxRecords for Recorder<'_> {
    fn record(&self, kind: &str, key: &str) -> TxResult<Option<Vec<u8>>> {
        self.inner.record(kind, key)
    }

    fn put_record(&self, kind: &str, key: &str, body: Option<&[u8]>) -> TxResult<()> {
        self.inner.put_record(kind, key, body)?;
        let kind = kind.to_string();
        self.note(|c| {
            if !c.records.contains(&kind) {
                c.records.push(kind);
            }
        });
        Ok(())
    }

    fn allocate_record_id(&self, kind: &str) -> TxResult<u64> {
        self.inner.allocate_record_id(kind)
    }

    fn reserve_record_id(&self, kind: &str, id: u64) -> TxResult<()> {
        self.inner.reserve_record_id(kind, id)
    }

    fn next_record_id(&self, kind: &str) -> TxResult<u64> {
        self.inner.next_record_id(kind)
    }
}
