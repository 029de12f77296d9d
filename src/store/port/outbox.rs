//! The outboxes (announcements, digests, CI jobs), the posts they made, and the
//! claims and leases that share them between instances.

use std::sync::Arc;

use crate::domain::ids::{ChannelRef, ReleaseId};
use crate::domain::outbox::{Announcement, CiJob, Digest};
use crate::store::feed::Change;
use crate::store::{LeaseCounts, StoreResult, TxResult};
use chrono::{DateTime, Utc};

/// The outboxes (announcements, digests, CI jobs), the posts they made, and the
/// claims and leases that share them between instances, outside a transaction.
pub trait OutboxStore: super::Durable {
    /// Announcements waiting, oldest first, with their keys (shared: a
    /// store may keep what it decoded for the next read).
    fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Arc<Announcement>)>>;

    /// Announcements this instance may deliver now, oldest first: whole
    /// lanes (release and channel), so one lane's steps keep their order.
    fn claim_announcements(
        &self,
        platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Arc<Announcement>)>>;

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

    /// Gives back every claim and lease this instance holds (a clean stop).
    fn release_claims(&self) -> StoreResult<()>;

    /// Claims and takeovers so far, for `/metrics`.
    fn lease_counts(&self) -> LeaseCounts;
}

/// The outboxes (announcements, digests, CI jobs), the posts they made, and the
/// claims and leases that share them between instances, inside one transaction:
/// what it reads is what it commits against.
pub trait TxOutboxes {
    fn post_digest(&self, digest: &Digest) -> TxResult<()>;

    fn announce(&self, announcement: Announcement) -> TxResult<()>;

    fn job(&self, key: &str) -> TxResult<Option<CiJob>>;

    fn put_job(&self, job: &CiJob) -> TxResult<()>;

    fn remove_job(&self, key: &str) -> TxResult<()>;

    /// Records which chat message carries a release's announcement (copy).
    fn put_posted(&self, id: ReleaseId, channel: &ChannelRef, message: &str) -> TxResult<()>;

    /// Sends what this transaction changed to other instances, at commit
    /// (the last step of a transaction that changed something); the store's
    /// sequence number for it, where it keeps one. A store only one process
    /// opens has no one to tell.
    fn publish(&self, _change: &Change) -> TxResult<Option<u64>> {
        Ok(None)
    }
}
