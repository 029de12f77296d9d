//! `stats`: DORA's five metrics (`domain::stats`) over a period, for one
//! environment (production unless another is named) and optionally one
//! service, with a weekly trend, as a view.

use chrono::Duration;

use crate::domain::command::StatsPeriod;
use crate::domain::ids::Name;
use crate::domain::release::Release;
use crate::domain::stats::{compute, ServiceStats};
use crate::domain::Refusal;
use crate::view::{StatsView, View};

use super::{Engine, EngineResult, Reply};

/// How long before the period a release may have been requested and still
/// count (a deploy long after its request): older requests are not read.
const REQUEST_LEAD: Duration = Duration::days(90);

/// The fewest weeks a trend shows.
const TREND_WEEKS: i64 = 4;

impl Engine {
    pub(crate) fn stats(&self, period: StatsPeriod, scope: &[Name]) -> EngineResult<Reply> {
        let (environment, service) = self.stats_scope(scope)?;
        let to = self.clock.now();
        let weeks = (period.days() / 7).max(TREND_WEEKS);
        let earliest = to - Duration::days(period.days().max(weeks * 7)) - REQUEST_LEAD;
        let releases: Vec<Release> = self
            .recent_releases(earliest)?
            .into_iter()
            .filter(|r| {
                environment.as_ref().is_none_or(|e| &r.environment == e)
                    && service.as_ref().is_none_or(|s| &r.service == s)
            })
            .collect();
        let per_service = compute(&releases, to - Duration::days(period.days()), to);
        let overall = merged(per_service.values());
        let trend = (0..weeks)
            .rev()
            .map(|w| {
                let end = to - Duration::weeks(w);
                merged(compute(&releases, end - Duration::weeks(1), end).values())
            })
            .collect();
        let scope = match (&environment, &service) {
            (Some(e), Some(s)) => format!("{s} in {e}"),
            (Some(e), None) => e.to_string(),
            (None, Some(s)) => format!("{s} in every environment"),
            (None, None) => "every environment".to_string(),
        };
        Ok(Reply::view(View::Stats(StatsView {
            days: period.days(),
            scope,
            per_service,
            overall,
            trend,
        })))
    }

    /// The releases behind `stats`' numbers: each with a deployment that
    /// finished in the period, in the same scope, newest first.
    pub(crate) fn stats_releases(
        &self,
        period: StatsPeriod,
        scope: &[Name],
    ) -> EngineResult<Vec<Release>> {
        let (environment, service) = self.stats_scope(scope)?;
        let to = self.clock.now();
        let from = to - Duration::days(period.days());
        Ok(self
            .recent_releases(from - REQUEST_LEAD)?
            .into_iter()
            .filter(|r| {
                environment.as_ref().is_none_or(|e| &r.environment == e)
                    && service.as_ref().is_none_or(|s| &r.service == s)
                    && r.deployments.iter().any(|d| {
                        d.outcome.is_some() && d.finished_at.is_some_and(|at| from < at && at <= to)
                    })
            })
            .collect())
    }

    /// The releases requested since `earliest`, newest first: ids follow
    /// request order, so reading back from the newest, a page at a time,
    /// stops there instead of reading the whole store.
    fn recent_releases(
        &self,
        earliest: chrono::DateTime<chrono::Utc>,
    ) -> EngineResult<Vec<Release>> {
        const PAGE: usize = 1024;
        let mut found = Vec::new();
        let mut page = self.store.newest(PAGE)?;
        loop {
            let more = match page.last() {
                Some(last) if page.len() == PAGE && last.requested_at >= earliest => Some(last.id),
                _ => None,
            };
            found.extend(page.into_iter().filter(|r| r.requested_at >= earliest));
            match more {
                Some(oldest) => page = self.store.older_than(oldest, PAGE)?,
                None => return Ok(found),
            }
        }
    }

    /// Which environment and service `stats` counts: each word names one
    /// or the other; the environment is `production` when it exists and
    /// none is named.
    fn stats_scope(&self, scope: &[Name]) -> Result<(Option<Name>, Option<Name>), Refusal> {
        let (mut environment, mut service) = (None, None);
        for name in scope {
            if self.config.environments.contains_key(name) {
                environment = Some(name.clone());
            } else if self.config.services.contains_key(name) {
                service = Some(name.clone());
            } else {
                return Err(Refusal::NoSuchEnvironment {
                    environment: name.to_string(),
                    known: format!(
                        "{} (environments), {} (services)",
                        self.config.environment_names(),
                        self.config.service_names()
                    ),
                });
            }
        }
        let production = Name::parse("production").ok();
        if environment.is_none() {
            environment = production.filter(|p| self.config.environments.contains_key(p));
        }
        Ok((environment, service))
    }
}

fn merged<'a>(stats: impl Iterator<Item = &'a ServiceStats>) -> ServiceStats {
    let mut all = ServiceStats::default();
    for s in stats {
        all.merge(s);
    }
    all
}
