//! The dashboard's board: what runs where, now or at a past moment (built
//! from the releases' deployment records, the facts the audit log's CI
//! entries record), with badges and the next allowed window.

use chrono::{DateTime, Utc};

use crate::domain::ids::Name;
use crate::domain::release::{DeployAction, JobOutcome, Release, ReleaseStatus};
use crate::domain::when::format_local;
use crate::domain::Refusal;
use crate::store::prelude::*;
use crate::view::board::{Badge, BoardView, Cell};

use super::{Engine, EngineResult};

/// Rows of waiting and running releases the board lists at most.
const LISTED: usize = 50;

impl Engine {
    /// The board now, or as it stood at `at`.
    pub fn board(&self, at: Option<DateTime<Utc>>) -> EngineResult<BoardView> {
        let now = self.clock.now();
        let environments: Vec<Name> = self.config.environments.keys().cloned().collect();
        let services: Vec<Name> = self.config.services.keys().cloned().collect();
        if let Some(at) = at {
            let first = self.store.release(crate::domain::ids::ReleaseId::new(1))?;
            if first.is_none_or(|r| at < r.requested_at) || at > now {
                return Err(Refusal::OutOfCalendar {
                    day: format!(
                        "{} (the board goes back to the first release, and up to now)",
                        format_local(at, self.config.timezone)
                    ),
                }
                .into());
            }
        }
        let mut rows = Vec::new();
        for service in &services {
            let mut cells = Vec::new();
            for environment in &environments {
                cells.push(self.cell(service, environment, at.unwrap_or(now), at.is_none())?);
            }
            rows.push((service.clone(), cells));
        }
        let (waiting, in_flight) = match at {
            Some(_) => (Vec::new(), Vec::new()),
            None => (
                self.store
                    .with_status(ReleaseStatus::Requested, LISTED)?
                    .releases,
                [ReleaseStatus::Deploying, ReleaseStatus::RollingBack]
                    .into_iter()
                    .map(|s| self.store.with_status(s, LISTED).map(|p| p.releases))
                    .collect::<Result<Vec<_>, _>>()?
                    .concat(),
            ),
        };
        Ok(BoardView {
            at,
            timezone: self.config.timezone,
            environments,
            rows,
            waiting,
            in_flight,
        })
    }

    fn cell(
        &self,
        service: &Name,
        environment: &Name,
        at: DateTime<Utc>,
        now: bool,
    ) -> EngineResult<Cell> {
        let history = self.store.releases_of(service, environment)?;
        let mut cell = Cell::default();
        // What went live last, by `at`.
        let live = history
            .iter()
            .flat_map(|r| r.deployments.iter().map(move |d| (r, d)))
            .filter(|(_, d)| d.outcome == Some(JobOutcome::Succeeded))
            .filter_map(|(r, d)| Some((d.finished_at?, r, d)))
            .filter(|(finished, _, _)| *finished <= at)
            .max_by_key(|(finished, _, _)| *finished);
        if let Some((finished, release, deployment)) = live {
            cell.live = Some(deployment.version.clone());
            cell.release = Some(release.id);
            cell.since = Some(finished);
            cell.by = Some(deployment.by.clone());
        }
        cell.behind = self.behind(service, environment, cell.live.as_ref())?;
        let incident = self.store.incidents()?.into_iter().any(|i| {
            &i.service == service
                && &i.environment == environment
                && i.opened_at <= at
                && i.resolved_at.is_none_or(|r| r > at)
        });
        if incident {
            cell.badges.push(Badge::Incident);
        }
        if now {
            self.badges_now(&mut cell, service, environment, &history)?;
        }
        Ok(cell)
    }

    /// Badges only the present has, and the next allowed window.
    fn badges_now(
        &self,
        cell: &mut Cell,
        service: &Name,
        environment: &Name,
        history: &[Release],
    ) -> EngineResult<()> {
        let now = self.clock.now();
        let latest = history.last();
        if latest.is_some_and(|r| r.status.is_in_flight()) {
            cell.badges.push(Badge::Deploying);
        }
        let failed = latest.and_then(|r| r.last_deployment()).is_some_and(|d| {
            d.action == DeployAction::Deploy && d.outcome == Some(JobOutcome::Failed)
        });
        if failed {
            cell.badges.push(Badge::Failed);
        }
        if self.store.lock(service, environment)?.is_some() {
            cell.badges.push(Badge::Locked);
        }
        if history.iter().any(|r| r.status == ReleaseStatus::Requested) {
            cell.badges.push(Badge::AwaitingApproval);
        }
        if let Some(env) = self.config.environment(environment) {
            let policy = &env.policy;
            let freezes = self.store.freezes(Some(environment))?;
            if policy
                .slots
                .open_at(now, policy.timezone, &freezes)
                .is_err()
            {
                cell.badges.push(Badge::Frozen);
            }
            cell.next_window = policy
                .slots
                .next_free(now, policy.timezone, service, &freezes, &[], 1)
                .first()
                .map(|at| format_local(*at, policy.timezone));
        }
        Ok(())
    }

    /// `2 versions behind staging (2.1, 2.3), 12 changes`, where the
    /// environment has a soak rule.
    fn behind(
        &self,
        service: &Name,
        environment: &Name,
        live: Option<&crate::domain::ids::Version>,
    ) -> EngineResult<Option<String>> {
        let Some(rule) = self
            .config
            .environment(environment)
            .and_then(|e| e.policy.requires.as_ref())
        else {
            return Ok(None);
        };
        let Some(live) = live else {
            return Ok(None);
        };
        let history = self.store.releases_of(service, &rule.environment)?;
        let Some(ahead) = crate::domain::soak::drift(&history, live) else {
            return Ok(None);
        };
        if ahead.is_empty() {
            return Ok(Some(format!("level with {}", rule.environment)));
        }
        let changes = match (self.source_of(service), ahead.last()) {
            (Some(source), Some(to)) => self
                .kept_notes(&source.cache_key(live.as_str(), to.as_str()))?
                .map(|n| format!(", {} changes", n.changes()))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let versions: Vec<String> = ahead.iter().map(|v| v.to_string()).collect();
        Ok(Some(format!(
            "{} behind {} ({}){changes}",
            match ahead.len() {
                1 => "1 version".to_string(),
                n => format!("{n} versions"),
            },
            rule.environment,
            versions.join(", ")
        )))
    }
}
