//! What the workers, `/healthz` and `/metrics` read through the engine
//! rather than the store: outbox depths, health, lease activity.

use super::Engine;
use crate::store::{Health, LeaseCounts, StoreResult};

impl Engine {
    /// Announcements (and digests) waiting, and CI jobs waiting.
    pub fn outbox_depths(&self) -> StoreResult<(usize, usize)> {
        self.store.outbox_depths()
    }

    /// Whether the store answers, which backend it is, which leases this
    /// instance holds, and how many releases there are.
    pub fn health(&self) -> (Health, Option<u64>) {
        let health = self.store.health();
        let releases = match &health.problem {
            None => self.store.release_count().ok(),
            Some(_) => None,
        };
        (health, releases)
    }

    pub fn lease_counts(&self) -> LeaseCounts {
        self.store.lease_counts()
    }

    /// One release as stored (the CI callback checks who may report on it).
    pub fn release(
        &self,
        id: crate::domain::ids::ReleaseId,
    ) -> StoreResult<Option<crate::domain::release::Release>> {
        self.store.release(id)
    }

    /// Whether other instances share the store: workers then poll.
    pub fn shared_store(&self) -> bool {
        self.store.shared()
    }

    /// Gives back this instance's outbox claims and leases (at shutdown).
    pub fn release_claims(&self) -> StoreResult<()> {
        self.store.release_claims()
    }

    /// Takes or renews a named lease (`scheduler`); its epoch while held.
    pub fn hold_lease(&self, name: &str) -> StoreResult<Option<u64>> {
        self.store.hold_lease(name)
    }
}
