//! The dashboard's board: what runs where, now or at a past moment (built
//! from the releases' deployment records, the facts the audit log's CI
//! entries record), with badges and the next allowed window.

use chrono::{DateTime, Utc};

use crate::domain::ids::Name;
use crate::domain::release::{JobOutcome, Release, ReleaseStatus};
use crate::domain::when::format_local;
use crate::domain::Refusal;
use crate::store::prelude::*;
use crate::view::board::{Badge, BoardView, Cell};

use super::{Engine, EngineResult};

/// What the present board reads once for all its cells.
struct Present {
    targets: crate::store::Targets,
    incidents: Vec<crate::domain::incident::Incident>,
    waiting: Vec<Release>,
    failed: Vec<Release>,
    freezes: std::collections::BTreeMap<Name, Vec<crate::domain::calendar::Freeze>>,
}

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
        let present = match at {
            None => Some(self.present()?),
            Some(_) => None,
        };
        let mut rows = Vec::new();
        for service in &services {
            let mut cells = Vec::new();
            for environment in &environments {
                cells.push(match (&present, at) {
                    (Some(present), _) => self.cell_now(service, environment, present)?,
                    (None, Some(at)) => self.cell(service, environment, at)?,
                    (None, None) => unreachable!("the present is read when no moment is asked"),
                });
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

    /// What the present board reads once, for every cell: indexes and
    /// short lists, never a target's whole history.
    fn present(&self) -> EngineResult<Present> {
        let mut freezes = std::collections::BTreeMap::new();
        for environment in self.config.environments.keys() {
            freezes.insert(environment.clone(), self.store.freezes(Some(environment))?);
        }
        Ok(Present {
            targets: self.store.targets()?,
            incidents: self.store.open_incidents()?,
            waiting: self
                .store
                .with_status(ReleaseStatus::Requested, 500)?
                .releases,
            failed: self.store.newest_with_status(ReleaseStatus::Failed, 100)?,
            freezes,
        })
    }

    fn cell_now(
        &self,
        service: &Name,
        environment: &Name,
        present: &Present,
    ) -> EngineResult<Cell> {
        let mut cell = Cell::default();
        let here = |s: &Name, e: &Name| s == service && e == environment;
        let live = present.targets.live.iter().find(|(s, e, _)| here(s, e));
        if let Some((_, _, live)) = live {
            cell.live = Some(live.version.clone());
            cell.release = Some(live.release);
            let release = self.store.release(live.release)?;
            let went_live = release.as_ref().and_then(|r| {
                r.deployments
                    .iter()
                    .rev()
                    .find(|d| d.outcome == Some(JobOutcome::Succeeded) && d.version == live.version)
            });
            cell.since = went_live.and_then(|d| d.finished_at);
            cell.by = went_live.map(|d| d.by.clone());
        }
        cell.behind = self.behind(service, environment, cell.live.as_ref())?;
        let badges = [
            (
                present.targets.in_flight.iter().any(|(s, e, _)| here(s, e)),
                Badge::Deploying,
            ),
            (
                present.failed.iter().any(|r| {
                    here(&r.service, &r.environment)
                        && live.is_none_or(|(_, _, l)| r.id > l.release)
                }),
                Badge::Failed,
            ),
            (
                present.targets.locks.iter().any(|(s, e, _)| here(s, e)),
                Badge::Locked,
            ),
            (
                present
                    .incidents
                    .iter()
                    .any(|i| here(&i.service, &i.environment)),
                Badge::Incident,
            ),
            (
                present
                    .waiting
                    .iter()
                    .any(|r| here(&r.service, &r.environment)),
                Badge::AwaitingApproval,
            ),
        ];
        cell.badges = badges
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, b)| b)
            .collect();
        if let Some(env) = self.config.environment(environment) {
            let policy = &env.policy;
            let now = self.clock.now();
            let freezes = present
                .freezes
                .get(environment)
                .map_or(&[][..], Vec::as_slice);
            if policy.slots.open_at(now, policy.timezone, freezes).is_err() {
                cell.badges.push(Badge::Frozen);
            }
            cell.next_window = policy
                .slots
                .next_free(now, policy.timezone, service, freezes, &[], 1)
                .first()
                .map(|at| format_local(*at, policy.timezone));
        }
        Ok(cell)
    }

    /// A cell as it stood at `at`, from the target's deployment records.
    fn cell(&self, service: &Name, environment: &Name, at: DateTime<Utc>) -> EngineResult<Cell> {
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
        Ok(cell)
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
