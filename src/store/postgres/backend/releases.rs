//! Releases and their indexes, and the audit log, on this backend.

use super::*;
use crate::store::prelude::*;

impl ReleaseStore for PgStore {
    fn releases_of(&self, service: &Name, environment: &Name) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE service = $1 AND environment = $2 ORDER BY id",
            params![service.to_string(), environment.to_string()],
        )
    }

    fn release(&self, id: ReleaseId) -> StoreResult<Option<Release>> {
        Ok(self
            .releases(
                "SELECT body FROM releases WHERE id = $1",
                params![id.number() as i64],
            )?
            .pop())
    }

    fn count(&self, status: ReleaseStatus) -> StoreResult<u64> {
        let rows = self.rows(
            "SELECT count(*) FROM releases WHERE status = $1",
            params![status.code() as i16],
        )?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    fn with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Page> {
        let releases = self.releases(
            "SELECT body FROM releases WHERE status = $1 ORDER BY id LIMIT $2",
            params![status.code() as i16, cap(limit)],
        )?;
        Ok(Page {
            releases,
            total: self.count(status)?,
        })
    }

    fn newest_with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE status = $1 ORDER BY id DESC LIMIT $2",
            params![status.code() as i16, cap(limit)],
        )
    }

    fn requested_by(&self, user: &UserRef, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE requester = $1 ORDER BY id DESC LIMIT $2",
            params![user.to_string(), cap(limit)],
        )
    }

    fn newest(&self, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases ORDER BY id DESC LIMIT $1",
            params![cap(limit)],
        )
    }

    fn older_than(&self, id: ReleaseId, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE id < $1 ORDER BY id DESC LIMIT $2",
            params![id.number() as i64, cap(limit)],
        )
    }

    fn release_count(&self) -> StoreResult<u64> {
        let rows = self.rows(
            "SELECT value - 1 FROM counters WHERE name = 'next_release_id'",
            params![],
        )?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    fn all_releases(&self) -> Box<dyn Iterator<Item = StoreResult<Release>> + '_> {
        paged(
            move |after| {
                self.releases(
                    "SELECT body FROM releases WHERE id > $1 ORDER BY id LIMIT $2",
                    params![after, PAGE],
                )
            },
            |release: &Release| release.id.number() as i64,
        )
    }

    fn scheduled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE scheduled_at >= $1 AND scheduled_at < $2
             ORDER BY scheduled_at, id",
            params![from, to],
        )
    }

    fn audit_for(&self, id: ReleaseId) -> StoreResult<Vec<AuditEntry>> {
        let rows = self.rows(
            "SELECT entry AS body FROM audit WHERE release = $1 ORDER BY seq",
            params![id.number() as i64],
        )?;
        bodies("audit entry", &rows)
    }

    fn audit_log(&self) -> Box<dyn Iterator<Item = StoreResult<AuditEntry>> + '_> {
        paged(
            move |after| {
                let rows = self.rows(
                    "SELECT entry AS body FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                    params![after, PAGE],
                )?;
                bodies("audit entry", &rows)
            },
            |entry: &AuditEntry| entry.seq as i64,
        )
    }
}
