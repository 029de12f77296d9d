//! Releases and their indexes, and the audit log.

use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::release::{LiveVersion, Release, ReleaseStatus};
use crate::store::audit::{AuditDraft, AuditEntry};
use crate::store::{Page, StoreResult, TxResult};
use chrono::{DateTime, Utc};

/// Releases and their indexes, and the audit log, outside a transaction.
pub trait ReleaseStore: Send + Sync {
    /// Every release of a service to one environment, in id order: its
    /// history there (soak reads it).
    fn releases_of(&self, service: &Name, environment: &Name) -> StoreResult<Vec<Release>>;

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

    /// The releases older than `id` (lower ids), newest first: the next
    /// page after `newest`.
    fn older_than(&self, id: ReleaseId, limit: usize) -> StoreResult<Vec<Release>>;

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
}

/// Releases and their indexes, and the audit log, inside one transaction: what
/// it reads is what it commits against.
pub trait TxReleases {
    /// A service's releases to one environment, in id order, as this
    /// transaction commits against them (the soak guard reads them here).
    fn releases_of(&self, service: &Name, environment: &Name) -> TxResult<Vec<Release>>;

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
}
