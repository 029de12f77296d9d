//! Records kept by kind and key, each a JSON body, with a counter per kind
//! for ids: incidents and their indexes, cached release notes. Typed access
//! lives beside the domain type's user (`store::incidents`,
//! `store::notes_cache`); backends only store bytes.

use crate::store::{StoreResult, TxResult};

/// Records, outside a transaction.
pub trait RecordStore: Send + Sync {
    fn record(&self, kind: &str, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Every record of one kind, as (key, body), in key order.
    fn records(&self, kind: &str) -> StoreResult<Vec<(String, Vec<u8>)>>;

    /// Every kind that has records (copy).
    fn record_kinds(&self) -> StoreResult<Vec<String>>;
}

/// Records, inside one transaction: what it reads is what it commits
/// against.
pub trait TxRecords {
    fn record(&self, kind: &str, key: &str) -> TxResult<Option<Vec<u8>>>;

    /// Writes a record, or removes it (`None`).
    fn put_record(&self, kind: &str, key: &str, body: Option<&[u8]>) -> TxResult<()>;

    /// Hands out the next id of a kind, from 1; no two records share one.
    fn allocate_record_id(&self, kind: &str) -> TxResult<u64>;

    /// Raises a kind's counter past `id` (copy).
    fn reserve_record_id(&self, kind: &str, id: u64) -> TxResult<()>;

    /// The next id a kind would hand out (copy reads it to carry counters).
    fn next_record_id(&self, kind: &str) -> TxResult<u64>;
}
