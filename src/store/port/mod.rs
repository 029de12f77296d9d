//! The store's two ports: `Backend`, what the engine, the workers and the
//! CLI read and run through, and `TxPort`, what one transaction may do. The
//! sled and PostgreSQL backends implement both; nothing outside `store/`
//! knows which one it talks to.

mod admin;
mod calendar;
mod outbox;
mod records;
mod releases;
mod scheduler;

pub use admin::{AdminStore, TxAdmin};
pub use calendar::{CalendarStore, TxCalendar};
pub use outbox::{OutboxStore, TxOutboxes};
pub use records::{RecordStore, TxRecords};
pub use releases::{ReleaseStore, TxReleases};
pub use scheduler::{SchedulerStore, TxScheduler};

use super::feed::Feed;
use super::{Health, StoreResult, TxResult};
use crate::domain::calendar::Lock;
use crate::domain::ids::{Name, ReleaseId};
use crate::domain::release::LiveVersion;

/// One transaction's view of the store: everything a command changes
/// (release, indexes, audit entry, outboxes) goes through here, so it
/// commits or fails as one. Reads see the transaction's own writes.
pub trait TxPort: TxReleases + TxCalendar + TxOutboxes + TxScheduler + TxAdmin + TxRecords {}

impl<T: TxReleases + TxCalendar + TxOutboxes + TxScheduler + TxAdmin + TxRecords> TxPort for T {}

/// A transaction, as the engine's closures see it.
pub type Tx<'a> = dyn TxPort + 'a;

/// What a backend does outside a transaction. Outbox reads come in two
/// kinds: `pending_*` look (views, tests), `claim_*` take entries for this
/// instance's workers under a lease, so that two instances never deliver the
/// same entry; on a backend only one process can open, a claim is a look.
/// What every concern may ask of the store it lives in.
pub trait Durable: Send + Sync {
    /// Makes every change so far durable.
    fn flush(&self) -> StoreResult<()>;

    /// Whether other processes share this store (then workers poll, to
    /// renew their claims and take over those of an instance that died).
    fn shared(&self) -> bool;
}

pub trait Backend:
    Durable
    + ReleaseStore
    + CalendarStore
    + OutboxStore
    + SchedulerStore
    + AdminStore
    + RecordStore
    + Send
    + Sync
{
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

    /// Starts passing other instances' changes to `feed` (a shared store).
    fn listen(&self, _feed: Feed) {}

    /// Whether the store answers, and which leases this instance holds.
    fn health(&self) -> Health;
}

/// Per service+environment state outside releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub locks: Vec<(Name, Name, Lock)>,
    pub live: Vec<(Name, Name, LiveVersion)>,
    pub in_flight: Vec<(Name, Name, ReleaseId)>,
}
