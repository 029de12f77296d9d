//! Scheduler state, on this backend.

use super::*;

impl SchedulerStore for SledStore {
    fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
        match self.tree(SCHEDULER).get(key.as_bytes()).map_err(storage)? {
            Some(bytes) => Ok(Some(decode("scheduler state", &bytes)?)),
            None => Ok(None),
        }
    }

    fn all_fired(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        self.tree(SCHEDULER)
            .iter()
            .map(|item| {
                let (key, value) = item.map_err(storage)?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode("scheduler state", &value)?,
                ))
            })
            .collect()
    }

    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>> {
        let end = keys::by_time(now + chrono::Duration::seconds(1), ReleaseId::new(0));
        self.tree(TIMERS)
            .range(..end)
            .keys()
            .take(limit)
            .map(|key| {
                let key = key.map_err(storage)?;
                keys::timer_from(&key).ok_or_else(|| StoreError::Corrupt("timer key".into()))
            })
            .collect()
    }

    fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self
            .tree(TIMERS)
            .first()
            .map_err(storage)?
            .and_then(|(key, _)| keys::timer_from(&key))
            .map(|t| t.due))
    }

    fn all_timers(&self) -> StoreResult<Vec<Timer>> {
        self.tree(TIMERS)
            .iter()
            .keys()
            .map(|key| {
                let key = key.map_err(storage)?;
                keys::timer_from(&key).ok_or_else(|| StoreError::Corrupt("timer key".into()))
            })
            .collect()
    }

    fn timer_count(&self) -> StoreResult<usize> {
        Ok(self.tree(TIMERS).len())
    }
}
