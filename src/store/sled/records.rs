//! Records by kind and key, on this backend.

use super::*;

impl RecordStore for SledStore {
    fn record(&self, kind: &str, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .tree(RECORDS)
            .get(keys::record(kind, key))
            .map_err(storage)?
            .map(|bytes| bytes.to_vec()))
    }

    fn records(&self, kind: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let prefix = keys::record_prefix(kind);
        self.tree(RECORDS)
            .scan_prefix(&prefix)
            .map(|item| {
                let (key, body) = item.map_err(storage)?;
                let key = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                Ok((key, body.to_vec()))
            })
            .collect()
    }

    fn record_kinds(&self) -> StoreResult<Vec<String>> {
        let mut kinds = BTreeSet::new();
        for key in self.tree(RECORDS).iter().keys() {
            let key = key.map_err(storage)?;
            let kind = key.split(|b| *b == 0).next().unwrap_or_default();
            kinds.insert(String::from_utf8_lossy(kind).into_owned());
        }
        Ok(kinds.into_iter().collect())
    }
}
