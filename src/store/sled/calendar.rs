//! The calendar, on this backend.

use super::*;

impl CalendarStore for SledStore {
    fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>> {
        let mut freezes: Vec<Freeze> = self.values(FREEZES, "freeze")?;
        freezes.retain(|f| environment.is_none_or(|e| &f.environment == e));
        freezes.sort_by_key(|f| f.start);
        Ok(freezes)
    }

    fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>> {
        match self
            .tree(LOCKS)
            .get(keys::target_prefix(service, environment))
            .map_err(storage)?
        {
            Some(bytes) => Ok(Some(decode("lock", &bytes)?)),
            None => Ok(None),
        }
    }
}
