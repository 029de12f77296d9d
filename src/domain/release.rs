//! A release, its status and the legal transitions between statuses.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{Name, ReleaseId, UserRef, Version};
use super::incident::IncidentId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStatus {
    Requested,
    Approved,
    Scheduled,
    Deploying,
    Deployed,
    Failed,
    RollingBack,
    RolledBack,
    Rejected,
    Cancelled,
}

impl ReleaseStatus {
    pub const ALL: [ReleaseStatus; 10] = [
        ReleaseStatus::Requested,
        ReleaseStatus::Approved,
        ReleaseStatus::Scheduled,
        ReleaseStatus::Deploying,
        ReleaseStatus::Deployed,
        ReleaseStatus::Failed,
        ReleaseStatus::RollingBack,
        ReleaseStatus::RolledBack,
        ReleaseStatus::Rejected,
        ReleaseStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Requested => "requested",
            ReleaseStatus::Approved => "approved",
            ReleaseStatus::Scheduled => "scheduled",
            ReleaseStatus::Deploying => "deploying",
            ReleaseStatus::Deployed => "deployed",
            ReleaseStatus::Failed => "failed",
            ReleaseStatus::RollingBack => "rolling_back",
            ReleaseStatus::RolledBack => "rolled_back",
            ReleaseStatus::Rejected => "rejected",
            ReleaseStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let wanted = text.to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|s| s.as_str() == wanted)
    }

    /// A stable one-byte code for index keys; never renumber.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Before the approval phase ends: approvals, schedule and changes still apply.
    pub fn is_awaiting_deploy(self) -> bool {
        matches!(
            self,
            ReleaseStatus::Requested | ReleaseStatus::Approved | ReleaseStatus::Scheduled
        )
    }

    /// A CI job is running for the release.
    pub fn is_in_flight(self) -> bool {
        matches!(self, ReleaseStatus::Deploying | ReleaseStatus::RollingBack)
    }

    pub fn emoji(self) -> &'static str {
        match self {
            ReleaseStatus::Requested => "🚦",
            ReleaseStatus::Approved => "✅",
            ReleaseStatus::Scheduled => "📅",
            ReleaseStatus::Deploying => "🚀",
            ReleaseStatus::Deployed => "🎉",
            ReleaseStatus::Failed => "💥",
            ReleaseStatus::RollingBack => "⏪",
            ReleaseStatus::RolledBack => "↩️",
            ReleaseStatus::Rejected => "⛔",
            ReleaseStatus::Cancelled => "🚫",
        }
    }
}

impl fmt::Display for ReleaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declared low to high, so that ordering by priority is ordering by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

impl Priority {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "low" => Some(Priority::Low),
            "normal" => Some(Priority::Normal),
            "high" => Some(Priority::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: UserRef,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Who ended a release early (rejected or cancelled), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub by: UserRef,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub item: String,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<UserRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployAction {
    Deploy,
    Rollback,
}

impl DeployAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployAction::Deploy => "deploy",
            DeployAction::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    Succeeded,
    Failed,
}

/// Why a deployment was made, set when the release is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Planned,
    Fix(IncidentId),
    Rollback,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Planned => "planned",
            Intent::Fix(_) => "fix",
            Intent::Rollback => "rollback",
        }
    }

    /// Made because of a failure (DORA's rework).
    pub fn is_unplanned(self) -> bool {
        !matches!(self, Intent::Planned)
    }
}

/// One deploy or rollback run of a release, as relayed to CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The CI job's idempotency key; the same across retries.
    pub job: String,
    pub action: DeployAction,
    /// The version this run puts live.
    pub version: Version,
    pub by: UserRef,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<JobOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What was live in one service+environment before this release's deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveVersion {
    pub version: Version,
    pub release: ReleaseId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub id: ReleaseId,
    pub service: Name,
    pub version: Version,
    pub environment: Name,
    pub status: ReleaseStatus,
    pub requester: UserRef,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub approvals: Vec<Approval>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// The version that was live before this release was deployed: the rollback target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<LiveVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Closure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Closure>,
    /// The release this one promotes (`promote R-1 to production`): same
    /// service and version, from the environment before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<ReleaseId>,
    /// The incident this release is the fix of (`request … fix I-1`): its
    /// deploy may pass the incident's lock, by a release manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixes: Option<IncidentId>,
    /// The incident this release's deploy was put down to (its rollback
    /// opened it, or `incident open` named it as the cause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
    /// Its notes from the code (`[services.*.source]`): the range and the
    /// summary, or why they are missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<super::notes::Changes>,
    /// How many times the release has been changed since it was requested;
    /// the store raises it on every write, so the calendar feed's SEQUENCE
    /// rises with every change, whatever the clock says.
    #[serde(default)]
    pub revision: u64,
}

impl Release {
    /// The revision a write of this release over `before` stores: one more
    /// than `before`'s; a new or imported release keeps its own.
    pub fn revision_over(&self, before: Option<&Release>) -> u64 {
        before.map_or(self.revision, |old| old.revision + 1)
    }

    pub fn checklist_done(&self) -> usize {
        self.checklist.iter().filter(|c| c.done).count()
    }

    pub fn checklist_complete(&self) -> bool {
        self.checklist.iter().all(|c| c.done)
    }

    pub fn has_approved(&self, user: &UserRef) -> Option<&Approval> {
        self.approvals.iter().find(|a| &a.by == user)
    }

    pub fn current_job(&self) -> Option<&Deployment> {
        self.deployments.last().filter(|d| d.outcome.is_none())
    }

    pub fn last_deployment(&self) -> Option<&Deployment> {
        self.deployments.last()
    }

    /// Why a deployment of this release was made (DORA's rework): planned,
    /// the fix of an incident, or a rollback.
    pub fn intent(&self, deployment: &Deployment) -> Intent {
        match (deployment.action, self.fixes) {
            (DeployAction::Rollback, _) => Intent::Rollback,
            (DeployAction::Deploy, Some(incident)) => Intent::Fix(incident),
            (DeployAction::Deploy, None) => Intent::Planned,
        }
    }

    /// `api 2.4.0 → production`
    pub fn title(&self) -> String {
        format!("{} {} → {}", self.service, self.version, self.environment)
    }

    /// Finds a checklist item by 1-based number or by (case-insensitive) name or prefix.
    pub fn find_checklist_item(&self, wanted: &str) -> Option<usize> {
        if let Ok(number) = wanted.parse::<usize>() {
            return (1..=self.checklist.len())
                .contains(&number)
                .then(|| number - 1);
        }
        let wanted = wanted.to_lowercase();
        let exact = self
            .checklist
            .iter()
            .position(|c| c.item.to_lowercase() == wanted);
        exact.or_else(|| {
            let matching: Vec<usize> = (0..self.checklist.len())
                .filter(|i| self.checklist[*i].item.to_lowercase().contains(&wanted))
                .collect();
            (matching.len() == 1).then(|| matching[0])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_snake_case_names() {
        for status in ReleaseStatus::ALL {
            assert_eq!(ReleaseStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(
            ReleaseStatus::parse("rolling-back"),
            Some(ReleaseStatus::RollingBack)
        );
    }

    #[test]
    fn status_codes_are_distinct() {
        let codes: std::collections::BTreeSet<u8> =
            ReleaseStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), ReleaseStatus::ALL.len());
    }
}
