//! Releases and their indexes, and the audit log, on this backend.

use super::*;

impl ReleaseStore for SledStore {
    fn releases_of(&self, service: &Name, environment: &Name) -> StoreResult<Vec<Release>> {
        let prefix = keys::target_prefix(service, environment);
        let ids = self.index_ids(BY_TARGET, &prefix, false, usize::MAX)?;
        self.releases_for(ids.into_iter())
    }

    fn release(&self, id: ReleaseId) -> StoreResult<Option<Release>> {
        match self
            .tree(RELEASES)
            .get(keys::release(id))
            .map_err(storage)?
        {
            Some(bytes) => Ok(Some(decode("release", &bytes)?)),
            None => Ok(None),
        }
    }

    fn count(&self, status: ReleaseStatus) -> StoreResult<u64> {
        Ok(self
            .tree(META)
            .get(keys::count(status))
            .map_err(storage)?
            .map_or(0, |b| keys::u64_from(&b)))
    }

    fn with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Page> {
        let ids = self.index_ids(BY_STATUS, &[status.code()], false, limit)?;
        Ok(Page {
            releases: self.releases_for(ids.into_iter())?,
            total: self.count(status)?,
        })
    }

    fn newest_with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Vec<Release>> {
        let ids = self.index_ids(BY_STATUS, &[status.code()], true, limit)?;
        self.releases_for(ids.into_iter())
    }

    fn requested_by(&self, user: &UserRef, limit: usize) -> StoreResult<Vec<Release>> {
        let ids = self.index_ids(BY_REQUESTER, &keys::user_prefix(user), true, limit)?;
        self.releases_for(ids.into_iter())
    }

    fn newest(&self, limit: usize) -> StoreResult<Vec<Release>> {
        self.tree(RELEASES)
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|bytes| decode("release", &bytes.map_err(storage)?))
            .collect()
    }

    fn older_than(&self, id: ReleaseId, limit: usize) -> StoreResult<Vec<Release>> {
        self.tree(RELEASES)
            .range(..keys::release(id))
            .values()
            .rev()
            .take(limit)
            .map(|bytes| decode("release", &bytes.map_err(storage)?))
            .collect()
    }

    fn release_count(&self) -> StoreResult<u64> {
        Ok(self
            .tree(META)
            .get(keys::NEXT_RELEASE_ID)
            .map_err(storage)?
            .map_or(1, |b| keys::u64_from(&b))
            - 1)
    }

    fn all_releases(&self) -> Box<dyn Iterator<Item = StoreResult<Release>> + '_> {
        Box::new(
            self.tree(RELEASES)
                .iter()
                .values()
                .map(|bytes| decode("release", &bytes.map_err(storage)?)),
        )
    }

    fn scheduled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Release>> {
        let first = keys::by_time(from, ReleaseId::new(0));
        let last = keys::by_time(to, ReleaseId::new(0));
        let ids = self
            .tree(BY_TIME)
            .range(first..last)
            .keys()
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        self.releases_for(ids.iter().filter_map(|k| keys::release_from(k)))
    }

    fn audit_for(&self, id: ReleaseId) -> StoreResult<Vec<AuditEntry>> {
        let seqs = self
            .tree(AUDIT_BY_RELEASE)
            .scan_prefix(keys::release(id))
            .keys()
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        seqs.iter()
            .filter_map(|k| k.get(8..16))
            .filter_map(|seq| self.tree(AUDIT).get(seq).transpose())
            .map(|bytes| decode("audit entry", &bytes.map_err(storage)?))
            .collect()
    }

    fn audit_log(&self) -> Box<dyn Iterator<Item = StoreResult<AuditEntry>> + '_> {
        Box::new(
            self.tree(AUDIT)
                .iter()
                .values()
                .map(|bytes| decode("audit entry", &bytes.map_err(storage)?)),
        )
    }
}
