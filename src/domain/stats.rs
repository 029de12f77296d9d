//! The figures release managers report upward, per service over a period:
//! deployment frequency, lead time, change failure rate and time to
//! restore, computed from the releases' deployment records.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::release::{DeployAction, JobOutcome, Release};

/// What happened to one service in the period.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ServiceStats {
    pub deploys: u32,
    pub failed_deploys: u32,
    pub rolled_back: u32,
    pub lead_times: Vec<Duration>,
    pub restore_times: Vec<Duration>,
}

impl ServiceStats {
    pub fn merge(&mut self, other: &ServiceStats) {
        self.deploys += other.deploys;
        self.failed_deploys += other.failed_deploys;
        self.rolled_back += other.rolled_back;
        self.lead_times.extend(other.lead_times.iter().copied());
        self.restore_times
            .extend(other.restore_times.iter().copied());
    }

    /// Deployment rework rate (DORA): unplanned deployments made because
    /// of a failure (rollbacks; fixes of incidents once they are recorded)
    /// ÷ all deployments.
    pub fn rework_rate(&self) -> Option<f64> {
        let all = self.deploys + self.failed_deploys + self.rolled_back;
        (all > 0).then(|| f64::from(self.rolled_back) / f64::from(all))
    }

    /// Failed or rolled back ÷ deploy attempts.
    pub fn change_failure_rate(&self) -> Option<f64> {
        let attempts = self.deploys + self.failed_deploys;
        (attempts > 0)
            .then(|| f64::from(self.failed_deploys + self.rolled_back) / f64::from(attempts))
    }
}

pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// Per service, from the releases' deployment records. A failure is a failed
/// deploy or a deploy later rolled back; it is restored by a successful
/// rollback or the next successful deploy of that service+environment.
pub fn compute(
    releases: &[Release],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<String, ServiceStats> {
    let in_period = |at: Option<DateTime<Utc>>| at.is_some_and(|t| from <= t && t < to);
    // Successful deploys per service+environment, for "next good deploy".
    let mut good: BTreeMap<(String, String), Vec<DateTime<Utc>>> = BTreeMap::new();
    for release in releases {
        for d in &release.deployments {
            if d.action == DeployAction::Deploy && d.outcome == Some(JobOutcome::Succeeded) {
                if let Some(at) = d.finished_at {
                    good.entry((release.service.to_string(), release.environment.to_string()))
                        .or_default()
                        .push(at);
                }
            }
        }
    }
    let next_good = |release: &Release, after: DateTime<Utc>| {
        good.get(&(release.service.to_string(), release.environment.to_string()))
            .and_then(|times| times.iter().filter(|t| **t > after).min().copied())
    };
    let mut stats: BTreeMap<String, ServiceStats> = BTreeMap::new();
    for release in releases {
        let entry = stats.entry(release.service.to_string()).or_default();
        for d in &release.deployments {
            match (d.action, d.outcome) {
                (DeployAction::Deploy, Some(JobOutcome::Succeeded)) if in_period(d.finished_at) => {
                    entry.deploys += 1;
                    entry
                        .lead_times
                        .push(d.finished_at.unwrap_or(d.started_at) - release.requested_at);
                }
                (DeployAction::Deploy, Some(JobOutcome::Failed)) if in_period(d.finished_at) => {
                    entry.failed_deploys += 1;
                    let failed_at = d.finished_at.unwrap_or(d.started_at);
                    let restored = release
                        .deployments
                        .iter()
                        .filter(|r| {
                            r.action == DeployAction::Rollback
                                && r.outcome == Some(JobOutcome::Succeeded)
                                && r.started_at >= failed_at
                        })
                        .filter_map(|r| r.finished_at)
                        .min()
                        .or_else(|| next_good(release, failed_at));
                    if let Some(restored) = restored {
                        entry.restore_times.push(restored - failed_at);
                    }
                }
                (DeployAction::Rollback, Some(JobOutcome::Succeeded))
                    if in_period(d.finished_at) =>
                {
                    // The deploy this undid counts as a failure, from when the rollback began.
                    entry.rolled_back += 1;
                    entry
                        .restore_times
                        .push(d.finished_at.unwrap_or(d.started_at) - d.started_at);
                }
                _ => {}
            }
        }
    }
    stats.retain(|_, s| s.deploys + s.failed_deploys + s.rolled_back > 0);
    stats
}
