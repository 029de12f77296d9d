//! Records by kind and key, on this backend.

use super::*;
use crate::store::prelude::*;

impl RecordStore for PgStore {
    fn record(&self, kind: &str, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let rows = self.rows(
            "SELECT body FROM records WHERE kind = $1 AND key = $2",
            params![kind.to_string(), key.to_string()],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn records(&self, kind: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let rows = self.rows(
            "SELECT key, body FROM records WHERE kind = $1 ORDER BY key COLLATE \"C\"",
            params![kind.to_string()],
        )?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn record_kinds(&self) -> StoreResult<Vec<String>> {
        let rows = self.rows(
            "SELECT kind FROM records GROUP BY kind ORDER BY kind COLLATE \"C\"",
            params![],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}
