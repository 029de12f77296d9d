//! The store's two ports: `Backend`, what the engine, the workers and the
//! CLI read and run through, and `TxPort`, what one transaction may do. The
//! sled and PostgreSQL backends implement both; nothing outside `store/`
//! knows which one it talks to.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::audit::{AuditDraft, AuditEntry};
use super::feed::{Change, Feed};
use super::{Health, LeaseCounts, Page, StoreResult, TxResult};
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{LiveVersion, Release, ReleaseStatus};

/// One transaction's view of the store: everything a command changes
/// (release, indexes, audit entry, outboxes) goes through here, so it
/// commits or fails as one. Reads see the transaction's own writes.
pub trait TxPort {
    /// Marks an inbound chat delivery (`slack:event:Ev…`) handled, with the
    /// command's effect; fails the transaction with a duplicate when it was
    /// marked before (a redelivery racing the first, on any instance).
    fn mark_delivery(&self, delivery: &str, now: DateTime<Utc>) -> TxResult<()>;
    fn release(&self, id: ReleaseId) -> TxResult<Option<Release>>;
    /// Hands out the next release id; no two releases share one.
    fn allocate_release_id(&self) -> TxResult<ReleaseId>;
    /// Raises the id counter past `id` (used by import and copy).
    fn reserve_release_id(&self, id: ReleaseId) -> TxResult<()>;
    /// Writes a release as given and keeps every index in step with it
    /// (`before` is what was stored). Through `Store::transaction`, a change
    /// has raised the revision already (see `recorder`).
    fn put_release(&self, release: &Release, before: Option<&Release>) -> TxResult<()>;
    /// Appends to the one hash chain (appends are serialised) and indexes the
    /// entry by release.
    fn audit(&self, draft: AuditDraft) -> TxResult<AuditEntry>;
    /// Appends an entry exactly as it was (for copying a store); the chain
    /// head moves to it.
    fn append_audit(&self, entry: &AuditEntry) -> TxResult<()>;
    /// Roles granted to `user` in chat.
    fn granted_roles(&self, user: &UserRef) -> TxResult<BTreeSet<String>>;
    /// Every role granted in chat, as (user, role).
    fn grants(&self) -> TxResult<Vec<(UserRef, String)>>;
    /// Grants a role; `false` when the user already had it.
    fn grant(&self, user: &UserRef, role: &str) -> TxResult<bool>;
    /// Revokes a granted role; `false` when it was not granted.
    fn revoke(&self, user: &UserRef, role: &str) -> TxResult<bool>;
    fn allocate_freeze_id(&self) -> TxResult<u64>;
    /// Raises the freeze counter past `id` (copy).
    fn reserve_freeze_id(&self, id: u64) -> TxResult<()>;
    fn put_freeze(&self, freeze: &Freeze) -> TxResult<()>;
    fn freeze(&self, id: u64) -> TxResult<Option<Freeze>>;
    fn remove_freeze(&self, id: u64) -> TxResult<()>;
    fn lock(&self, service: &Name, environment: &Name) -> TxResult<Option<Lock>>;
    /// An environment's freezes, in start order, as this transaction
    /// commits against them: a guard that reads them here cannot be passed
    /// by two writers at once.
    fn freezes(&self, environment: &Name) -> TxResult<Vec<Freeze>>;
    /// Releases with a deploy time in `[from, to)`, in time order, as this
    /// transaction commits against them (capacity guards read them here).
    /// Releases this transaction itself wrote may not be among them.
    fn scheduled_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TxResult<Vec<Release>>;
    fn set_lock(&self, service: &Name, environment: &Name, lock: Option<&Lock>) -> TxResult<()>;
    /// Replaces a release's timers: removes `old`, adds `new`.
    fn replace_timers(&self, old: &[Timer], new: &[Timer]) -> TxResult<()>;
    /// Removes a due timer; `false` when it was gone already (fired by
    /// another instance, or replaced).
    fn take_timer(&self, timer: &Timer) -> TxResult<bool>;
    /// When a scheduler key last fired, inside the transaction.
    fn last_fired(&self, key: &str) -> TxResult<Option<DateTime<Utc>>>;
    fn set_last_fired(&self, key: &str, at: DateTime<Utc>) -> TxResult<()>;
    /// Records that a scheduler key fired for `slot`, under a unique key;
    /// `false` when that slot was recorded before.
    fn record_slot(&self, key: &str, slot: DateTime<Utc>) -> TxResult<bool>;
    fn post_digest(&self, digest: &Digest) -> TxResult<()>;
    fn announce(&self, announcement: &Announcement) -> TxResult<()>;
    fn job(&self, key: &str) -> TxResult<Option<CiJob>>;
    fn put_job(&self, job: &CiJob) -> TxResult<()>;
    fn remove_job(&self, key: &str) -> TxResult<()>;
    fn live(&self, service: &Name, environment: &Name) -> TxResult<Option<LiveVersion>>;
    fn set_live(&self, service: &Name, environment: &Name, live: &LiveVersion) -> TxResult<()>;
    /// The release with a CI job running in this service+environment, if any.
    fn in_flight(&self, service: &Name, environment: &Name) -> TxResult<Option<ReleaseId>>;
    fn set_in_flight(
        &self,
        service: &Name,
        environment: &Name,
        release: Option<ReleaseId>,
    ) -> TxResult<()>;
    /// Records which chat message carries a release's announcement (copy).
    fn put_posted(&self, id: ReleaseId, channel: &ChannelRef, message: &str) -> TxResult<()>;
    /// Marks an inbound delivery handled as of `at`, whatever was there (copy).
    fn put_seen(&self, delivery: &str, at: DateTime<Utc>) -> TxResult<()>;
    /// Sends what this transaction changed to other instances, at commit
    /// (the last step of a transaction that changed something); the store's
    /// sequence number for it, where it keeps one. A store only one process
    /// opens has no one to tell.
    fn publish(&self, _change: &Change) -> TxResult<Option<u64>> {
        Ok(None)
    }
}

/// A transaction, as the engine's closures see it.
pub type Tx<'a> = dyn TxPort + 'a;

/// What a backend does outside a transaction. Outbox reads come in two
/// kinds: `pending_*` look (views, tests), `claim_*` take entries for this
/// instance's workers under a lease, so that two instances never deliver the
/// same entry; on a backend only one process can open, a claim is a look.
pub trait Backend: Send + Sync {
    /// `sled` or `postgres`.
    fn kind(&self) -> &'static str;
    /// Runs `change` as one serializable transaction, retrying conflicts.
    /// With `durable`, it survives a crash once this returns `Ok`; without,
    /// only after the next `flush` (group commit).
    fn run(
        &self,
        change: &mut dyn FnMut(&Tx<'_>) -> TxResult<()>,
        durable: bool,
    ) -> StoreResult<()>;
    /// Makes every change so far durable.
    fn flush(&self) -> StoreResult<()>;

    fn release(&self, id: ReleaseId) -> StoreResult<Option<Release>>;
    fn count(&self, status: ReleaseStatus) -> StoreResult<u64>;
    /// Releases in `status`, oldest first, and how many there are.
    fn with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Page>;
    /// The newest releases with a status, newest first.
    fn newest_with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Vec<Release>>;
    /// The newest releases a user requested, newest first.
    fn requested_by(&self, user: &UserRef, limit: usize) -> StoreResult<Vec<Release>>;
    /// The newest releases, newest first.
    fn newest(&self, limit: usize) -> StoreResult<Vec<Release>>;
    /// How many releases exist (ids are handed out densely from 1).
    fn release_count(&self) -> StoreResult<u64>;
    /// Every release, in id order.
    fn all_releases(&self) -> Box<dyn Iterator<Item = StoreResult<Release>> + '_>;
    /// Releases with a deploy time in `[from, to)`, in time order.
    fn scheduled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Release>>;

    fn audit_for(&self, id: ReleaseId) -> StoreResult<Vec<AuditEntry>>;
    /// The whole audit log, in sequence order.
    fn audit_log(&self) -> Box<dyn Iterator<Item = StoreResult<AuditEntry>> + '_>;

    /// Announcements waiting, oldest first, with their keys.
    fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Announcement)>>;
    /// Announcements this instance may deliver now, oldest first: whole
    /// lanes (release and channel), so one lane's steps keep their order.
    fn claim_announcements(
        &self,
        platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Announcement)>>;
    fn posted(&self, id: ReleaseId, channel: &ChannelRef) -> StoreResult<Option<String>>;
    /// Every recorded post, as (release, channel, message).
    fn all_posted(&self) -> StoreResult<Vec<(ReleaseId, ChannelRef, String)>>;
    /// Marks an announcement delivered, remembering the message it lives in.
    /// The message is recorded before the entry goes, so a crash in between
    /// re-sends the step as an edit of the same message, never a second post.
    fn delivered(
        &self,
        key: u64,
        id: ReleaseId,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<()>;
    /// Marks, durably, that a release's announcement is about to be posted
    /// to a channel. When an earlier try was marked and never recorded (its
    /// outcome is unknown, so the caller looks for the post first), returns
    /// when that try began: the lookup pages back that far.
    fn begin_post(&self, id: ReleaseId, channel: &ChannelRef)
        -> StoreResult<Option<DateTime<Utc>>>;
    /// The release whose announcement is `message` in `channel`.
    fn release_for_thread(
        &self,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<Option<ReleaseId>>;

    /// Whether an inbound chat delivery was handled already.
    fn delivery_seen(&self, delivery: &str) -> StoreResult<bool>;
    /// Every delivery mark, as (delivery, when).
    fn all_seen(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
    /// Records an inbound delivery handled outside any command; false when
    /// it already was.
    fn first_delivery(&self, delivery: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Forgets deliveries marked before `before`; returns how many.
    fn forget_deliveries(&self, before: DateTime<Utc>) -> StoreResult<usize>;

    fn granted_roles(&self, user: &UserRef) -> StoreResult<BTreeSet<String>>;
    fn grants(&self) -> StoreResult<Vec<(UserRef, String)>>;
    /// Freezes of one environment (all when `None`), in start order.
    fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>>;
    fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>>;
    /// Every lock, live version and running job, for copying a store.
    fn targets(&self) -> StoreResult<Targets>;

    /// When a scheduler key (a cron job, a reminder) last fired.
    fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>>;
    /// Every scheduler key and when it last fired.
    fn all_fired(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
    /// Per-release timers due at or before `now`, earliest first.
    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>>;
    fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>>;
    fn all_timers(&self) -> StoreResult<Vec<Timer>>;
    fn timer_count(&self) -> StoreResult<usize>;

    fn pending_digests(&self, limit: usize) -> StoreResult<Vec<(u64, Digest)>>;
    /// Digests this instance may post now (whole channels, in order).
    fn claim_digests(&self, platforms: &[String], limit: usize) -> StoreResult<Vec<(u64, Digest)>>;
    fn digest_delivered(&self, key: u64) -> StoreResult<()>;

    /// Every CI job in the outbox, in outbox order.
    fn jobs(&self) -> StoreResult<Vec<CiJob>>;
    /// The CI jobs this instance may relay now: whole lanes (service and
    /// environment), in outbox order.
    fn claim_jobs(&self) -> StoreResult<Vec<CiJob>>;

    /// Announcements (and digests) waiting, and CI jobs waiting.
    fn outbox_depths(&self) -> StoreResult<(usize, usize)>;
    /// A checksum of everything stored, to show that something did not change.
    fn fingerprint(&self) -> StoreResult<u32>;

    /// Whether other processes share this store (then workers poll, to
    /// renew their claims and take over those of an instance that died).
    fn shared(&self) -> bool;
    /// Takes or renews the lease `name` for this instance; its epoch while
    /// held, `None` while another instance holds it.
    fn hold_lease(&self, name: &str) -> StoreResult<Option<u64>>;
    /// How long until the earliest claim or lease another instance holds
    /// runs out, so that workers wake to take it over then rather than at
    /// their next poll; `None` when no other instance holds one (always,
    /// on a store only one process opens).
    fn next_takeover(&self) -> StoreResult<Option<std::time::Duration>> {
        Ok(None)
    }
    /// Starts passing other instances' changes to `feed` (a shared store).
    fn listen(&self, _feed: Feed) {}
    /// Forgets the record of changes published before `before` (kept for
    /// listeners that reconnect); returns how many.
    fn forget_changes(&self, _before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(0)
    }
    /// Gives back every claim and lease this instance holds (a clean stop).
    fn release_claims(&self) -> StoreResult<()>;
    /// Whether the store answers, and which leases this instance holds.
    fn health(&self) -> Health;
    /// Claims and takeovers so far, for `/metrics`.
    fn lease_counts(&self) -> LeaseCounts;
}

/// Per service+environment state outside releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub locks: Vec<(Name, Name, Lock)>,
    pub live: Vec<(Name, Name, LiveVersion)>,
    pub in_flight: Vec<(Name, Name, ReleaseId)>,
}
