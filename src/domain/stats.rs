//! The figures release managers report upward, per service over a period:
//! DORA's five (dora.dev) from the releases' deployment records, each
//! deployment with its intent (planned, an incident's fix, a rollback).
//! A failure and its recovery are linked, not guessed from timestamps: a
//! deploy is failed when its job failed, it was rolled back, or an
//! incident was put down to it; it is recovered by its own rollback or by
//! the deploy of a release marked as the fix of its incident.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::incident::IncidentId;
use super::release::{DeployAction, Deployment, Intent, JobOutcome, Release};

/// What happened to one service in the period.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ServiceStats {
    /// Deploys that went live (every intent).
    pub deploys: u32,
    /// Deploys whose job failed.
    pub failed_jobs: u32,
    /// Deploys that went live and were then rolled back or had an
    /// incident put down to them.
    pub failed_live: u32,
    /// Rollbacks that went live.
    pub rollbacks: u32,
    /// Deploys made as an incident's fix.
    pub fixes: u32,
    pub lead_times: Vec<Duration>,
    /// How many lead times start at the first commit (the rest at the request).
    pub from_commit: u32,
    pub restore_times: Vec<Duration>,
}

impl ServiceStats {
    pub fn merge(&mut self, other: &ServiceStats) {
        self.deploys += other.deploys;
        self.failed_jobs += other.failed_jobs;
        self.failed_live += other.failed_live;
        self.rollbacks += other.rollbacks;
        self.fixes += other.fixes;
        self.from_commit += other.from_commit;
        self.lead_times.extend(other.lead_times.iter().copied());
        self.restore_times
            .extend(other.restore_times.iter().copied());
    }

    /// Deployment rework rate: unplanned deployments made because of a
    /// failure (rollbacks and fixes) ÷ all deployments.
    pub fn rework_rate(&self) -> Option<f64> {
        let all = self.deploys + self.failed_jobs + self.rollbacks;
        (all > 0).then(|| f64::from(self.rollbacks + self.fixes) / f64::from(all))
    }

    /// Change fail rate: deploys that failed or led to an incident or a
    /// rollback ÷ deploy attempts.
    pub fn change_failure_rate(&self) -> Option<f64> {
        let attempts = self.deploys + self.failed_jobs;
        (attempts > 0).then(|| f64::from(self.failed_jobs + self.failed_live) / f64::from(attempts))
    }
}

pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

fn succeeded(d: &Deployment) -> Option<DateTime<Utc>> {
    (d.outcome == Some(JobOutcome::Succeeded)).then_some(d.finished_at?)
}

/// Per service, over `(from, to]`.
pub fn compute(
    releases: &[Release],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<String, ServiceStats> {
    // `(from, to]`: "the last N days" takes in what happened just now.
    let in_period = |at: DateTime<Utc>| from < at && at <= to;
    // Fix deploys that went live, by the incident they fix.
    let mut fixed: BTreeMap<IncidentId, Vec<DateTime<Utc>>> = BTreeMap::new();
    for release in releases {
        for d in &release.deployments {
            if let (Intent::Fix(incident), Some(at)) = (release.intent(d), succeeded(d)) {
                fixed.entry(incident).or_default().push(at);
            }
        }
    }
    let mut stats: BTreeMap<String, ServiceStats> = BTreeMap::new();
    for release in releases {
        let entry = stats.entry(release.service.to_string()).or_default();
        for (at, d) in release.deployments.iter().enumerate() {
            let finished = d.finished_at.unwrap_or(d.started_at);
            if !in_period(finished) || d.outcome.is_none() {
                continue;
            }
            let intent = release.intent(d);
            match (d.action, d.outcome) {
                (DeployAction::Rollback, Some(JobOutcome::Succeeded)) => entry.rollbacks += 1,
                (DeployAction::Deploy, Some(JobOutcome::Failed)) => {
                    entry.failed_jobs += 1;
                    entry
                        .restore_times
                        .extend(recovery(release, at, finished, &fixed).map(|r| r - finished));
                }
                (DeployAction::Deploy, Some(JobOutcome::Succeeded)) => {
                    entry.deploys += 1;
                    if matches!(intent, Intent::Fix(_)) {
                        entry.fixes += 1;
                    }
                    let start = release.changes.as_ref().and_then(|c| c.first_commit_at);
                    entry.from_commit += u32::from(start.is_some());
                    entry
                        .lead_times
                        .push(finished - start.unwrap_or(release.requested_at));
                    let rolled_back = release.deployments[at + 1..]
                        .iter()
                        .any(|r| r.action == DeployAction::Rollback && r.outcome.is_some());
                    if rolled_back || release.incident.is_some() {
                        entry.failed_live += 1;
                        entry
                            .restore_times
                            .extend(recovery(release, at, finished, &fixed).map(|r| r - finished));
                    }
                }
                _ => {}
            }
        }
    }
    stats.retain(|_, s| s.deploys + s.failed_jobs + s.rollbacks > 0);
    stats
}

/// When the failure of `release`'s deployment `at` (at `failed_at`) was
/// recovered: its own next rollback that went live, or the fix of its
/// incident, whichever came first.
fn recovery(
    release: &Release,
    at: usize,
    failed_at: DateTime<Utc>,
    fixed: &BTreeMap<IncidentId, Vec<DateTime<Utc>>>,
) -> Option<DateTime<Utc>> {
    let rollback = release.deployments[at + 1..]
        .iter()
        .filter(|d| d.action == DeployAction::Rollback)
        .find_map(succeeded);
    let fix = release
        .incident
        .and_then(|incident| fixed.get(&incident))
        .and_then(|times| times.iter().filter(|t| **t >= failed_at).min().copied());
    match (rollback, fix) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
