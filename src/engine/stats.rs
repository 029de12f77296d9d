//! `stats`: the figures of `domain::stats` over a period, as a view.

use chrono::Duration;

use crate::domain::command::StatsPeriod;
use crate::domain::stats::{compute, ServiceStats};
use crate::view::{StatsView, View};

use super::{Engine, EngineResult, Reply};

impl Engine {
    pub(crate) fn stats(&self, period: StatsPeriod) -> EngineResult<Reply> {
        let to = self.clock.now();
        let from = to - Duration::days(period.days());
        let releases = self.store.all_releases().collect::<Result<Vec<_>, _>>()?;
        let per_service = compute(&releases, from, to);
        let mut overall = ServiceStats::default();
        for s in per_service.values() {
            overall.merge(s);
        }
        Ok(Reply::view(View::Stats(StatsView {
            days: period.days(),
            per_service,
            overall,
        })))
    }
}
