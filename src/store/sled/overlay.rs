//! Our own transactions over sled: writes wait in an overlay that the
//! transaction's reads see first; a commit writes them as one journal
//! record, applies them to their trees, then drops the record.
//!
//! Why not sled's transactions: each one rolls sled's log buffer twice (a
//! batch manifest in a buffer of its own), so a command that was durable
//! cost three buffer writes, each with its own `sync_file_range`, and every
//! transactional insert read its key first. Here a command and the records
//! of the deliveries before it share one buffer and one sync.
//!
//! Atomicity: the journal record is one sled insert, so it is in the log
//! whole or not at all, and sled recovers its log as a prefix: whatever of
//! the writes after it survived a crash, the record survived too, and
//! opening the store applies it again (every write is a whole value, so
//! applying twice is applying once). The store's one writer commits, so no
//! other transaction sees an overlay or a half-applied commit; plain writes
//! elsewhere in the store take the writer too. A read outside any
//! transaction (a listing, a page) may land within the few microseconds of
//! an apply and see a record ahead of its index entries; the next read
//! agrees again.

use std::cell::RefCell;
use std::collections::BTreeMap;

use ::sled::IVec;

use crate::store::tx::{TxError, TxResult};
use crate::store::{StoreError, StoreResult};

/// Pending writes: (tree, key) → value, `None` removes.
type Pending = BTreeMap<(usize, Vec<u8>), Option<IVec>>;

/// A transaction's pending writes.
#[derive(Default)]
pub(super) struct Overlay {
    writes: RefCell<Pending>,
}

/// One tree as a transaction sees it: its own writes over what is committed.
pub(super) struct TxTree<'a> {
    index: usize,
    tree: &'a ::sled::Tree,
    overlay: &'a Overlay,
}

fn backend(error: ::sled::Error) -> TxError {
    TxError::backend(error)
}

impl Overlay {
    pub(super) fn tree<'a>(&'a self, trees: &'a [::sled::Tree], index: usize) -> TxTree<'a> {
        TxTree {
            index,
            tree: &trees[index],
            overlay: self,
        }
    }

    /// Forgets a try's writes (the transaction runs again, or gave up).
    pub(super) fn clear(&self) {
        self.writes.borrow_mut().clear();
    }

    /// Journals the writes, applies them, then drops the journal record;
    /// nothing here waits for the disk. Returns how many writes there were.
    pub(super) fn commit(
        &self,
        trees: &[::sled::Tree],
        journal: &::sled::Tree,
        seq: u64,
    ) -> StoreResult<usize> {
        let writes = self.writes.take();
        if writes.is_empty() {
            return Ok(0);
        }
        let count = writes.len();
        let storage = |e: ::sled::Error| StoreError::Storage(e.to_string());
        journal
            .insert(seq.to_be_bytes(), encode(&writes))
            .map_err(storage)?;
        let mut writes = writes.into_iter();
        let half = writes.len() / 2;
        apply(trees, writes.by_ref().take(half)).map_err(storage)?;
        if crate::failpoint::aborts_at("sled.half_applied") {
            // The worst a crash can find: the record and half its writes
            // on disk (sled's flusher or a full buffer can write any time).
            journal.flush().map_err(storage)?;
            crate::failpoint::hit("sled.half_applied", "");
        }
        apply(trees, writes).map_err(storage)?;
        journal.remove(seq.to_be_bytes()).map_err(storage)?;
        Ok(count)
    }
}

impl TxTree<'_> {
    pub(super) fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
        let key = key.as_ref();
        if let Some(pending) = self
            .overlay
            .writes
            .borrow()
            .get(&(self.index, key.to_vec()))
        {
            return Ok(pending.clone());
        }
        self.tree.get(key).map_err(backend)
    }

    pub(super) fn insert(&self, key: impl AsRef<[u8]>, value: impl Into<IVec>) -> TxResult<()> {
        self.overlay
            .writes
            .borrow_mut()
            .insert((self.index, key.as_ref().to_vec()), Some(value.into()));
        Ok(())
    }

    pub(super) fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<()> {
        self.overlay
            .writes
            .borrow_mut()
            .insert((self.index, key.as_ref().to_vec()), None);
        Ok(())
    }

    /// Removes `key`, saying whether it was there.
    pub(super) fn take(&self, key: impl AsRef<[u8]>) -> TxResult<bool> {
        let key = key.as_ref();
        let was = self.get(key)?.is_some();
        self.remove(key)?;
        Ok(was)
    }

    /// A fresh number from sled's id generator (unique, increasing).
    pub(super) fn generate_id(&self, db: &::sled::Db) -> TxResult<u64> {
        db.generate_id().map_err(backend)
    }
}

/// Applies writes to their trees.
fn apply(
    trees: &[::sled::Tree],
    writes: impl Iterator<Item = ((usize, Vec<u8>), Option<IVec>)>,
) -> Result<(), ::sled::Error> {
    for ((index, key), value) in writes {
        match value {
            Some(value) => trees[index].insert(key, value)?,
            None => trees[index].remove(key)?,
        };
    }
    Ok(())
}

/// Applies the journal records a crash left behind, oldest first, and drops
/// them; returns how many there were and the next sequence number.
pub(super) fn recover(trees: &[::sled::Tree], journal: &::sled::Tree) -> StoreResult<(usize, u64)> {
    let storage = |e: ::sled::Error| StoreError::Storage(e.to_string());
    let mut count = 0;
    let mut next = 1;
    for record in journal.iter() {
        let (key, bytes) = record.map_err(storage)?;
        let writes = decode(&bytes).ok_or_else(|| {
            StoreError::Corrupt(format!("journal record {}", super::keys::u64_from(&key)))
        })?;
        apply(trees, writes.into_iter()).map_err(storage)?;
        journal.remove(&key).map_err(storage)?;
        count += 1;
        next = super::keys::u64_from(&key) + 1;
    }
    Ok((count, next))
}

/// `tree u8 | key len u32 | key | present u8 | value len u32 | value`, repeated.
fn encode(writes: &Pending) -> Vec<u8> {
    let size: usize = writes
        .iter()
        .map(|((_, k), v)| 10 + k.len() + v.as_ref().map_or(0, |v| v.len()))
        .sum();
    let mut out = Vec::with_capacity(size);
    for ((index, key), value) in writes {
        out.push(u8::try_from(*index).expect("fewer than 256 trees"));
        out.extend_from_slice(&u32::try_from(key.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(key);
        match value {
            Some(value) => {
                out.push(1);
                out.extend_from_slice(
                    &u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes(),
                );
                out.extend_from_slice(value);
            }
            None => out.push(0),
        }
    }
    out
}

type Writes = Vec<((usize, Vec<u8>), Option<IVec>)>;

fn decode(mut bytes: &[u8]) -> Option<Writes> {
    fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
        let (head, rest) = (bytes.get(..n)?, bytes.get(n..)?);
        *bytes = rest;
        Some(head)
    }
    fn length(bytes: &mut &[u8]) -> Option<usize> {
        let raw = take(bytes, 4)?;
        usize::try_from(u32::from_be_bytes(raw.try_into().ok()?)).ok()
    }
    let mut writes = Vec::new();
    while !bytes.is_empty() {
        let index = usize::from(*take(&mut bytes, 1)?.first()?);
        let len = length(&mut bytes)?;
        let key = take(&mut bytes, len)?.to_vec();
        let value = match take(&mut bytes, 1)?.first()? {
            1 => {
                let len = length(&mut bytes)?;
                Some(IVec::from(take(&mut bytes, len)?))
            }
            _ => None,
        };
        writes.push(((index, key), value));
    }
    Some(writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_record_reads_back_as_written() {
        let mut writes = BTreeMap::new();
        writes.insert((3, b"key".to_vec()), Some(IVec::from(&b"value"[..])));
        writes.insert((21, b"gone".to_vec()), None);
        writes.insert((0, Vec::new()), Some(IVec::from(&[0u8; 300][..])));
        let decoded = decode(&encode(&writes)).unwrap();
        assert_eq!(decoded, writes.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn a_cut_journal_record_is_refused() {
        let mut writes = BTreeMap::new();
        writes.insert((3, b"key".to_vec()), Some(IVec::from(&b"value"[..])));
        let bytes = encode(&writes);
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
    }

    #[test]
    fn a_crash_between_journal_and_apply_is_applied_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = ::sled::open(dir.path()).unwrap();
        let trees = vec![db.open_tree("a").unwrap(), db.open_tree("b").unwrap()];
        let journal = db.open_tree("journal").unwrap();
        trees[1].insert(b"old", &b"x"[..]).unwrap();
        let mut writes = BTreeMap::new();
        writes.insert((0, b"new".to_vec()), Some(IVec::from(&b"1"[..])));
        writes.insert((1, b"old".to_vec()), None);
        // As a crash after the journal insert leaves it: nothing applied.
        journal.insert(7u64.to_be_bytes(), encode(&writes)).unwrap();
        assert_eq!(recover(&trees, &journal).unwrap(), (1, 8));
        assert_eq!(trees[0].get(b"new").unwrap().as_deref(), Some(&b"1"[..]));
        assert!(trees[1].get(b"old").unwrap().is_none());
        assert!(journal.is_empty());
        assert_eq!(recover(&trees, &journal).unwrap(), (0, 1));
    }
}
