//! Copying everything from one store into an empty one (`releasebot store
//! copy`): sled → PostgreSQL, or back. The bot must be stopped while it
//! runs. The audit log is copied entry by entry, hashes unchanged, and its
//! chain is verified in the target afterwards.

use super::audit;
use super::{Store, StoreError, StoreResult};

/// Releases and audit entries per transaction.
const BATCH: usize = 500;

/// What a copy carried over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub releases: usize,
    pub audit_entries: u64,
    pub announcements: usize,
    pub digests: usize,
    pub ci_jobs: usize,
    pub grants: usize,
    pub freezes: usize,
    pub targets: usize,
    pub posts: usize,
    pub deliveries: usize,
    pub scheduler_keys: usize,
    pub timers: usize,
    pub records: usize,
}

impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} releases, {} audit entries (chain verified), {} announcements, {} digests and {} CI jobs waiting, {} role grants, {} freezes, {} locks/live versions/running jobs, {} posted messages, {} delivery marks, {} scheduler keys, {} timers, {} records (incidents, cached notes)",
            self.releases,
            self.audit_entries,
            self.announcements,
            self.digests,
            self.ci_jobs,
            self.grants,
            self.freezes,
            self.targets,
            self.posts,
            self.deliveries,
            self.scheduler_keys,
            self.timers,
            self.records
        )
    }
}

/// Whether a store holds nothing a copy would overwrite.
fn is_empty(store: &Store) -> StoreResult<bool> {
    let (notify, ci) = store.outbox_depths()?;
    Ok(store.release_count()? == 0
        && store.audit_log().next().is_none()
        && store.grants()?.is_empty()
        && store.freezes(None)?.is_empty()
        && notify == 0
        && ci == 0)
}

/// Copies `from` into `to`, which must be empty.
pub fn copy(from: &Store, to: &Store) -> StoreResult<CopyReport> {
    if !is_empty(to)? {
        return Err(StoreError::Rejected(format!(
            "the target ({}) is not empty; copy only into a new, empty store",
            to.kind()
        )));
    }
    let mut report = CopyReport {
        releases: copy_releases(from, to)?,
        audit_entries: copy_audit(from, to)?,
        ..CopyReport::default()
    };
    copy_the_rest(from, to, &mut report)?;
    report.records = copy_records(from, to)?;
    to.flush()?;
    Ok(report)
}

/// Releases, a batch per transaction; how many.
fn copy_releases(from: &Store, to: &Store) -> StoreResult<usize> {
    let mut copied = 0;
    let mut batch = Vec::with_capacity(BATCH);
    let mut releases = from.all_releases();
    loop {
        batch.clear();
        for release in releases.by_ref().take(BATCH) {
            batch.push(release?);
        }
        if batch.is_empty() {
            break;
        }
        to.transaction(|tx| {
            for release in &batch {
                tx.put_release(release, None)?;
                tx.reserve_release_id(release.id)?;
            }
            Ok(())
        })?;
        copied += batch.len();
    }
    Ok(copied)
}

/// The audit log entry by entry, as it was; how many, once the copy verifies.
fn copy_audit(from: &Store, to: &Store) -> StoreResult<u64> {
    let mut entries = from.audit_log();
    let mut chunk = Vec::with_capacity(BATCH);
    loop {
        chunk.clear();
        for entry in entries.by_ref().take(BATCH) {
            chunk.push(entry?);
        }
        if chunk.is_empty() {
            break;
        }
        to.transaction(|tx| chunk.iter().try_for_each(|entry| tx.append_audit(entry)))?;
    }
    drop(entries);
    let copied: Vec<_> = to.audit_log().collect::<StoreResult<_>>()?;
    audit::verify(&copied).map_err(|broken| {
        StoreError::Corrupt(format!(
            "the copied audit log does not verify at entry #{}: {}",
            broken.seq, broken.why
        ))
    })
}

/// Records of every kind, with each kind's id counter; how many.
fn copy_records(from: &Store, to: &Store) -> StoreResult<usize> {
    let mut copied = 0;
    for kind in from.record_kinds()? {
        let records = from.records(&kind)?;
        let next = from.transaction(|tx| tx.next_record_id(&kind))?;
        to.transaction(|tx| {
            for (key, body) in &records {
                tx.put_record(&kind, key, Some(body))?;
            }
            if next > 1 {
                tx.reserve_record_id(&kind, next - 1)?;
            }
            Ok(())
        })?;
        copied += records.len();
    }
    Ok(copied)
}

/// Outboxes, grants, freezes, per-target state, posts, delivery marks and
/// scheduler state, in one transaction.
fn copy_the_rest(from: &Store, to: &Store, report: &mut CopyReport) -> StoreResult<()> {
    let announcements = from.pending_announcements(usize::MAX)?;
    let digests = from.pending_digests(usize::MAX)?;
    let jobs = from.jobs()?;
    let grants = from.grants()?;
    let freezes = from.freezes(None)?;
    let targets = from.targets()?;
    let posted = from.all_posted()?;
    let seen = from.all_seen()?;
    let fired = from.all_fired()?;
    let timers = from.all_timers()?;
    to.transaction(|tx| {
        for (_, announcement) in &announcements {
            tx.announce(announcement.as_ref().clone())?;
        }
        for (_, digest) in &digests {
            tx.post_digest(digest)?;
        }
        for job in &jobs {
            tx.put_job(job)?;
        }
        for (user, role) in &grants {
            tx.grant(user, role)?;
        }
        for freeze in &freezes {
            tx.put_freeze(freeze)?;
            tx.reserve_freeze_id(freeze.id)?;
        }
        for (service, environment, lock) in &targets.locks {
            tx.set_lock(service, environment, Some(lock))?;
        }
        for (service, environment, live) in &targets.live {
            tx.set_live(service, environment, live)?;
        }
        for (service, environment, release) in &targets.in_flight {
            tx.set_in_flight(service, environment, Some(*release))?;
        }
        for (release, channel, message) in &posted {
            tx.put_posted(*release, channel, message)?;
        }
        for (delivery, at) in &seen {
            tx.put_seen(delivery, *at)?;
        }
        for (key, at) in &fired {
            tx.set_last_fired(key, *at)?;
        }
        tx.replace_timers(&[], &timers)
    })?;
    report.announcements = announcements.len();
    report.digests = digests.len();
    report.ci_jobs = jobs.len();
    report.grants = grants.len();
    report.freezes = freezes.len();
    report.targets = targets.locks.len() + targets.live.len() + targets.in_flight.len();
    report.posts = posted.len();
    report.deliveries = seen.len();
    report.scheduler_keys = fired.len();
    report.timers = timers.len();
    Ok(())
}
