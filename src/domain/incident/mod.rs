//! Incidents: what broke after a deploy, who leads the response, what was
//! said and done, and when it ended. An incident locks deploys of its
//! service and environment (a release marked as its fix excepted), and
//! keeps the version a rollback took out from going straight back.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{InvalidId, Name, ReleaseId, UserRef, Version};
use super::release::{DeployAction, JobOutcome, Release};

mod summary;

pub use summary::{postmortem, span, Moment};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IncidentId(u64);

impl IncidentId {
    pub fn new(number: u64) -> Self {
        IncidentId(number)
    }

    pub fn number(self) -> u64 {
        self.0
    }

    /// Accepts `I-3` and `i-3`.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let digits = text
            .strip_prefix("I-")
            .or_else(|| text.strip_prefix("i-"))
            .unwrap_or("");
        match digits.parse::<u64>() {
            Ok(number) if number > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(IncidentId(number))
            }
            _ => Err(InvalidId(format!(
                "`{text}` is not an incident id; incident ids look like I-3"
            ))),
        }
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "I-{}", self.0)
    }
}

impl TryFrom<String> for IncidentId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        IncidentId::parse(&value)
    }
}

impl From<IncidentId> for String {
    fn from(id: IncidentId) -> String {
        id.to_string()
    }
}

/// Declared most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Sev1, Severity::Sev2, Severity::Sev3];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        let wanted = text.to_ascii_lowercase();
        Self::ALL.into_iter().find(|s| s.as_str() == wanted)
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Severity::Sev1 => "🔴",
            Severity::Sev2 => "🟠",
            Severity::Sev3 => "🟡",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The deployment an incident is put down to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub release: ReleaseId,
    /// The version it put live.
    pub version: Version,
    /// The version before it: the change range is `previous..version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Version>,
}

/// What happened in an incident, in its own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Opened,
    Lead,
    Update,
    Rollback,
    Fix,
    Resolved,
    /// A release manager let a rolled-back version go out again.
    Cleared,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub by: UserRef,
    pub kind: EventKind,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub service: Name,
    pub environment: Name,
    pub severity: Severity,
    pub summary: String,
    pub lead: UserRef,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Every step, oldest first; the first is the opening.
    pub events: Vec<Event>,
    /// Versions rollbacks took out while it was open: they may not go out
    /// again until a release manager clears them.
    #[serde(default)]
    pub rolled_back: Vec<Version>,
    #[serde(default)]
    pub cleared: Vec<Version>,
    /// When the lead was last reminded that an update is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nudged_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }

    pub fn opened_by(&self) -> &UserRef {
        self.events.first().map_or(&self.lead, |e| &e.by)
    }

    /// `api in production`
    pub fn target(&self) -> String {
        format!("{} in {}", self.service, self.environment)
    }

    /// When stakeholders last heard: the opening or the latest update.
    pub fn last_word_at(&self) -> DateTime<Utc> {
        self.events
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EventKind::Opened | EventKind::Update))
            .map_or(self.opened_at, |e| e.at)
    }

    /// When the next update is due, for a cadence; `None` once resolved.
    pub fn update_due(&self, every: Duration) -> Option<DateTime<Utc>> {
        self.is_open().then(|| self.last_word_at() + every)
    }

    /// Whether the lead should be reminded now: an update is due and they
    /// were not reminded since it fell due.
    pub fn needs_nudge(&self, every: Duration, now: DateTime<Utc>) -> bool {
        self.update_due(every)
            .is_some_and(|due| due <= now && self.nudged_at.is_none_or(|n| n < due))
    }

    /// Whether `version` was rolled back in this incident and not cleared.
    pub fn holds_back(&self, version: &Version) -> bool {
        self.rolled_back.contains(version) && !self.cleared.contains(version)
    }

    /// `🟠 I-1 sev2, open, led by dave: error rate falling` (the latest
    /// update, else the summary), or `✅ I-1 resolved`.
    pub fn state_line(&self) -> String {
        if !self.is_open() {
            return format!("✅ {} resolved", self.id);
        }
        let latest = self.latest_update().map_or(&self.summary, |e| &e.text);
        format!(
            "{} {} {}, open, led by {}: {latest}",
            self.severity.emoji(),
            self.id,
            self.severity,
            self.lead.local()
        )
    }

    pub fn latest_update(&self) -> Option<&Event> {
        self.events
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::Update)
    }

    pub fn push(&mut self, at: DateTime<Utc>, by: &UserRef, kind: EventKind, text: String) {
        self.events.push(Event {
            at,
            by: by.clone(),
            kind,
            text,
            release: None,
        });
    }

    /// When service was restored: the first successful rollback of the
    /// cause, or deploy of a release that fixes this incident, after it
    /// began; `releases` are the cause and the fixes.
    pub fn restored_at(&self, releases: &[Release]) -> Option<DateTime<Utc>> {
        releases
            .iter()
            .flat_map(|r| {
                r.deployments.iter().filter(move |d| {
                    d.outcome == Some(JobOutcome::Succeeded)
                        && match d.action {
                            DeployAction::Rollback => {
                                self.cause.as_ref().is_some_and(|c| c.release == r.id)
                            }
                            DeployAction::Deploy => r.fixes == Some(self.id),
                        }
                })
            })
            .filter_map(|d| d.finished_at)
            .filter(|at| *at >= self.began_at(releases))
            .min()
    }

    /// When the bad change went live (the cause's deploy finishing), else
    /// when the incident was opened.
    pub fn began_at(&self, releases: &[Release]) -> DateTime<Utc> {
        self.cause
            .as_ref()
            .and_then(|cause| releases.iter().find(|r| r.id == cause.release))
            .and_then(|r| {
                r.deployments
                    .iter()
                    .filter(|d| d.action == DeployAction::Deploy)
                    .filter(|d| d.outcome == Some(JobOutcome::Succeeded))
                    .filter_map(|d| d.finished_at)
                    .next_back()
            })
            .filter(|at| *at <= self.opened_at)
            .unwrap_or(self.opened_at)
    }
}

#[cfg(test)]
mod tests;
