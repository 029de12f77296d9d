//! Promotion with soak: a version must have been live and healthy in the
//! environment before (staging) for a while, in total, before it may
//! deploy to the next (production).
//!
//! Live: the version a successful deploy or rollback there put live, until
//! the next one put another live. Healthy: no failed deploy of it, and no
//! rollback away from it, since; time earned before such an event does not
//! count. A newer version deployed in between stops the clock but keeps what
//! was earned, so a busy staging never starves production. An incident on
//! the service there stops the clock while it is open.

use chrono::{DateTime, Duration, Utc};

use super::ids::{Name, Version};
use super::release::{DeployAction, JobOutcome, Release};

/// `requires = { environment = "staging", soak_minutes = 60 }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoakRule {
    pub environment: Name,
    pub minutes: u32,
}

impl SoakRule {
    pub fn needed(&self) -> Duration {
        Duration::minutes(i64::from(self.minutes))
    }
}

/// How `version` stands in an environment, from that environment's releases
/// of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Soak {
    /// Time live and healthy, in total.
    pub earned: Duration,
    /// Whether it is live (and healthy) there now, so its clock runs.
    pub running: bool,
}

impl Soak {
    /// When `needed` is reached: now or earlier when it is; `None` while
    /// the clock stands (another version is live there).
    pub fn done_at(&self, needed: Duration, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.earned >= needed {
            Some(now)
        } else {
            self.running.then(|| now + (needed - self.earned))
        }
    }
}

/// When each version went live in the environment `history` is from: every
/// successful deploy or rollback, in time order.
fn went_live(history: &[Release]) -> Vec<(DateTime<Utc>, &Version)> {
    let mut live: Vec<(DateTime<Utc>, &Version)> = history
        .iter()
        .flat_map(|r| &r.deployments)
        .filter(|d| d.outcome == Some(JobOutcome::Succeeded))
        .map(|d| (d.finished_at.unwrap_or(d.started_at), &d.version))
        .collect();
    live.sort_by_key(|(at, _)| *at);
    live
}

/// The latest failed deploy of `version`, or rollback away from it: its
/// time before then does not count.
fn tainted(history: &[Release], version: &Version) -> Option<DateTime<Utc>> {
    history
        .iter()
        .flat_map(|r| r.deployments.iter().map(move |d| (r, d)))
        .filter(|(release, d)| match (d.action, d.outcome) {
            (DeployAction::Rollback, Some(JobOutcome::Succeeded)) => &release.version == version,
            (DeployAction::Deploy, Some(JobOutcome::Failed)) => &d.version == version,
            _ => false,
        })
        .map(|(_, d)| d.finished_at.unwrap_or(d.started_at))
        .max()
}

/// What `version` earned in the environment `history` is from, by `now`.
pub fn soak(history: &[Release], version: &Version, now: DateTime<Utc>) -> Soak {
    soak_paused(history, version, now, None)
}

/// Like `soak`, with the clock stopped over `pause` (an incident on the
/// service there, from its opening to its resolution, or to now while it
/// is open): that time is not healthy.
pub fn soak_paused(
    history: &[Release],
    version: &Version,
    now: DateTime<Utc>,
    pause: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
) -> Soak {
    let live = went_live(history);
    let tainted = tainted(history, version);
    let mut earned = Duration::zero();
    let mut running = false;
    for (i, (start, live_version)) in live.iter().enumerate() {
        if *live_version != version {
            continue;
        }
        let until = live.get(i + 1).map_or(now, |(next, _)| *next).min(now);
        let from = tainted.map_or(*start, |t| (*start).max(t));
        if until > from {
            earned += until - from;
            if let Some((paused, resumed)) = pause {
                let overlap = until.min(resumed.unwrap_or(now)) - from.max(paused);
                earned -= overlap.max(Duration::zero());
            }
        }
        running = i + 1 == live.len();
    }
    let paused_now = pause.is_some_and(|(_, resumed)| resumed.is_none());
    Soak {
        earned,
        running: running && !paused_now,
    }
}

/// How far an environment is behind the one it requires: the versions made
/// live there (in `history`, its releases of the service) since `live`, the
/// version the later environment runs, last went live there; `None` when
/// `live` never did.
pub fn drift<'a>(history: &'a [Release], live: &Version) -> Option<Vec<&'a Version>> {
    let events = went_live(history);
    let last = events.iter().rposition(|(_, v)| *v == live)?;
    let mut ahead: Vec<&Version> = Vec::new();
    for (_, version) in &events[last + 1..] {
        if *version != live && !ahead.contains(version) {
            ahead.push(version);
        }
    }
    Some(ahead)
}

#[cfg(test)]
mod tests;
