//! The calendar, on this backend.

use super::*;
use crate::store::prelude::*;

impl CalendarStore for PgStore {
    fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>> {
        let rows = match environment {
            Some(environment) => self.rows(
                "SELECT body FROM freezes WHERE environment = $1 ORDER BY starts, id",
                params![environment.to_string()],
            )?,
            None => self.rows("SELECT body FROM freezes ORDER BY starts, id", params![])?,
        };
        bodies("freeze", &rows)
    }

    fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>> {
        let rows = self.rows(
            "SELECT body FROM locks WHERE service = $1 AND environment = $2",
            params![service.to_string(), environment.to_string()],
        )?;
        Ok(bodies("lock", &rows)?.pop())
    }
}
