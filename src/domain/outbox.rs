//! Side effects waiting to happen: announcements for the notifier and CI jobs
//! for the relay. Written in the same transaction as the state change that
//! causes them, delivered after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{ChannelRef, Name, ReleaseId, UserRef, Version};
use super::message::Message;
use super::release::{DeployAction, JobOutcome};
use super::text::Text;

/// Post (or edit in place) one release's announcement in one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub channel: ChannelRef,
    pub message: Message,
    /// One line for the announcement's thread, describing this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_line: Option<Text>,
}

/// Where a CI job stands in the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Not yet accepted by the CI system.
    Pending,
    /// The CI system took it; waiting for its report.
    Accepted {
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_url: Option<String>,
        /// For the `simulate` kind: when it reports, and what.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        simulated: Option<(DateTime<Utc>, JobOutcome)>,
    },
}

/// A deploy or rollback to relay to the environment's CI target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiJob {
    /// Idempotency key, the same across retries: `R-7-deploy-1`.
    pub key: String,
    pub release: ReleaseId,
    pub action: DeployAction,
    pub service: Name,
    pub environment: Name,
    /// The version the job puts live (for a rollback: the one rolled back to).
    pub version: Version,
    /// The release's own version (for a rollback: the one rolled back from).
    pub release_version: Version,
    pub requested_by: UserRef,
    pub started_by: UserRef,
    pub approvers: Vec<UserRef>,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, for status and the final failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Set, durably, before each request; cleared when the CI system
    /// answers. Found set (after a crash mid-request, or a timeout), the job
    /// may have been taken: the relay looks for it before sending again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
    pub state: JobState,
}

/// A message for a channel that belongs to no release: a scheduled digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub channel: ChannelRef,
    pub text: Text,
}

/// What a per-release timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKind {
    /// Before the deploy window, if the release is not ready.
    WindowReminder,
    /// A request has waited too long for approval.
    ApprovalNudge,
    /// An approval runs out.
    ApprovalExpiry,
}

/// Lanes: entries that must go out in order, one after another. The
/// notifier and relay deliver a lane at a time; a shared store claims whole
/// lanes for one instance. One definition for both.
impl Announcement {
    /// A release's steps in one channel.
    pub fn lane(&self) -> String {
        format!("{}@{}", self.message.release, self.channel)
    }
}

impl Digest {
    /// A channel's digests.
    pub fn lane(&self) -> String {
        format!("digest@{}", self.channel)
    }
}

impl CiJob {
    /// A service's jobs in one environment.
    pub fn lane(&self) -> String {
        format!("{}@{}", self.service, self.environment)
    }
}

impl TimerKind {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<TimerKind> {
        [
            TimerKind::WindowReminder,
            TimerKind::ApprovalNudge,
            TimerKind::ApprovalExpiry,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// A per-release timer in the store's timer index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timer {
    pub due: DateTime<Utc>,
    pub kind: TimerKind,
    pub release: ReleaseId,
}
