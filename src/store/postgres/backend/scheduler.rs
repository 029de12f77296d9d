//! Scheduler state, on this backend.

use super::*;
use crate::store::prelude::*;

impl SchedulerStore for PgStore {
    fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let rows = self.rows(
            "SELECT fired_at FROM scheduler WHERE key = $1",
            params![key.to_string()],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn all_fired(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows = self.rows(
            "SELECT key, fired_at FROM scheduler ORDER BY key",
            params![],
        )?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>> {
        // Whole seconds, as the sled index keeps them.
        let end = now + chrono::Duration::seconds(1);
        let rows = self.rows(
            "SELECT due, kind, release FROM timers WHERE due < date_trunc('second', $1::timestamptz)
             ORDER BY due, kind, release LIMIT $2",
            params![end, cap(limit)],
        )?;
        rows.iter().map(timer).collect()
    }

    fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let rows = self.rows("SELECT min(due) FROM timers", params![])?;
        Ok(rows.first().and_then(|row| row.get(0)))
    }

    fn all_timers(&self) -> StoreResult<Vec<Timer>> {
        let rows = self.rows(
            "SELECT due, kind, release FROM timers ORDER BY due, kind, release",
            params![],
        )?;
        rows.iter().map(timer).collect()
    }

    fn timer_count(&self) -> StoreResult<usize> {
        let rows = self.rows("SELECT count(*) FROM timers", params![])?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as usize))
    }
}
