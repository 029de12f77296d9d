//! Scheduler state: when each key last fired, slots, per-release timers.

use crate::domain::outbox::Timer;
use crate::store::{StoreResult, TxResult};
use chrono::{DateTime, Utc};

/// Scheduler state, outside a transaction.
pub trait SchedulerStore: Send + Sync {
    /// When a scheduler key (a cron job, a reminder) last fired.
    fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>>;

    /// Every scheduler key and when it last fired.
    fn all_fired(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;

    /// Per-release timers due at or before `now`, earliest first.
    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>>;

    fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>>;

    fn all_timers(&self) -> StoreResult<Vec<Timer>>;

    fn timer_count(&self) -> StoreResult<usize>;
}

/// Scheduler state, inside one transaction: what it reads is what it commits
/// against.
pub trait TxScheduler {
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
}
