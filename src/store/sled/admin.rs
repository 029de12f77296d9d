//! Copy and admin, on this backend.

use super::*;

impl AdminStore for SledStore {
    fn delivery_seen(&self, delivery: &str) -> StoreResult<bool> {
        self.tree(SEEN)
            .contains_key(delivery.as_bytes())
            .map_err(storage)
    }

    fn all_seen(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let mut out = Vec::new();
        for item in self.tree(SEEN).iter() {
            let (key, value) = item.map_err(storage)?;
            let at = DateTime::from_timestamp(keys::u64_from(&value) as i64, 0)
                .ok_or_else(|| StoreError::Corrupt("delivery mark".into()))?;
            out.push((String::from_utf8_lossy(&key).into_owned(), at));
        }
        Ok(out)
    }

    fn first_delivery(&self, delivery: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let stamp = now.timestamp().to_be_bytes();
        let _writing = self.write_lock();
        Ok(self
            .tree(SEEN)
            .compare_and_swap(delivery.as_bytes(), None::<&[u8]>, Some(&stamp[..]))
            .map_err(storage)?
            .is_ok())
    }

    fn forget_deliveries(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        let cutoff = before.timestamp();
        let mut forgotten = 0;
        for entry in self.tree(SEEN).iter() {
            let (key, value) = entry.map_err(storage)?;
            let marked = <[u8; 8]>::try_from(value.as_ref())
                .map(i64::from_be_bytes)
                .unwrap_or(i64::MIN);
            if marked < cutoff {
                let _writing = self.write_lock();
                self.tree(SEEN).remove(key).map_err(storage)?;
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }

    fn granted_roles(&self, user: &UserRef) -> StoreResult<BTreeSet<String>> {
        tx::roles_in(self.tree(ROLES).scan_prefix(keys::user_prefix(user)).keys())
            .map(|grants| grants.into_iter().map(|(_, role)| role).collect())
    }

    fn grants(&self) -> StoreResult<Vec<(UserRef, String)>> {
        tx::roles_in(self.tree(ROLES).iter().keys())
    }

    fn targets(&self) -> StoreResult<Targets> {
        Ok(Targets {
            locks: self.target_values(LOCKS, "", "lock", |b| decode("lock", b))?,
            live: self.target_values(META, "live\0", "live version", |b| {
                decode("live version", b)
            })?,
            in_flight: self.target_values(META, "busy\0", "running job", |b| {
                keys::release_from(b).ok_or_else(|| StoreError::Corrupt("running job".into()))
            })?,
        })
    }

    fn fingerprint(&self) -> StoreResult<u32> {
        self.db.checksum().map_err(storage)
    }
}
