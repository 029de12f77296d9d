//! Copy and admin: inbound delivery marks, roles granted in chat, per-target
//! state, the fingerprint.

use super::Targets;
use crate::domain::ids::UserRef;
use crate::store::{StoreResult, TxResult};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Copy and admin, outside a transaction.
pub trait AdminStore: Send + Sync {
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

    /// Every lock, live version and running job, for copying a store.
    fn targets(&self) -> StoreResult<Targets>;

    /// A checksum of everything stored, to show that something did not change.
    fn fingerprint(&self) -> StoreResult<u32>;

    /// Forgets the record of changes published before `before` (kept for
    /// listeners that reconnect); returns how many.
    fn forget_changes(&self, _before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(0)
    }
}

/// Copy and admin, inside one transaction: what it reads is what it commits
/// against.
pub trait TxAdmin {
    /// Marks an inbound chat delivery (`slack:event:Ev…`) handled, with the
    /// command's effect; fails the transaction with a duplicate when it was
    /// marked before (a redelivery racing the first, on any instance).
    fn mark_delivery(&self, delivery: &str, now: DateTime<Utc>) -> TxResult<()>;

    /// Roles granted to `user` in chat.
    fn granted_roles(&self, user: &UserRef) -> TxResult<BTreeSet<String>>;

    /// Every role granted in chat, as (user, role).
    fn grants(&self) -> TxResult<Vec<(UserRef, String)>>;

    /// Grants a role; `false` when the user already had it.
    fn grant(&self, user: &UserRef, role: &str) -> TxResult<bool>;

    /// Revokes a granted role; `false` when it was not granted.
    fn revoke(&self, user: &UserRef, role: &str) -> TxResult<bool>;

    /// Marks an inbound delivery handled as of `at`, whatever was there (copy).
    fn put_seen(&self, delivery: &str, at: DateTime<Utc>) -> TxResult<()>;
}
