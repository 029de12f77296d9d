//! The calendar: freezes and locks (bookings are releases with a time).

use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::Name;
use crate::domain::release::Release;
use crate::store::{StoreResult, TxResult};
use chrono::{DateTime, Utc};

/// The calendar, outside a transaction.
pub trait CalendarStore: Send + Sync {
    /// Freezes of one environment (all when `None`), in start order.
    fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>>;

    fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>>;
}

/// The calendar, inside one transaction: what it reads is what it commits
/// against.
pub trait TxCalendar {
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
}
