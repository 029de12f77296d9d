//! The dashboard's board: environments × services, as it stands now or
//! stood at a moment. Only the web pages render it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::ids::{Name, ReleaseId, UserRef, Version};
use crate::domain::release::Release;

#[derive(Debug, Clone, PartialEq)]
pub struct BoardView {
    /// The moment shown, when not now (`/?at=`).
    pub at: Option<DateTime<Utc>>,
    pub timezone: Tz,
    pub environments: Vec<Name>,
    /// One row per service, a cell per environment (in `environments` order).
    pub rows: Vec<(Name, Vec<Cell>)>,
    /// Open requests waiting for approval, oldest first.
    pub waiting: Vec<Release>,
    /// Releases whose CI job runs.
    pub in_flight: Vec<Release>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    pub live: Option<Version>,
    /// The release that put it live, when, and who started that.
    pub release: Option<ReleaseId>,
    pub since: Option<DateTime<Utc>>,
    pub by: Option<UserRef>,
    /// How far it is behind the environment before it, in words.
    pub behind: Option<String>,
    pub badges: Vec<Badge>,
    /// The next time a deploy is allowed, in words.
    pub next_window: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    Deploying,
    Failed,
    Locked,
    Frozen,
    Incident,
    AwaitingApproval,
}

impl Badge {
    pub fn label(self) -> &'static str {
        match self {
            Badge::Deploying => "deploying",
            Badge::Failed => "failed",
            Badge::Locked => "locked",
            Badge::Frozen => "frozen",
            Badge::Incident => "incident",
            Badge::AwaitingApproval => "awaiting approval",
        }
    }

    /// A class for its colour; the label always says it in words too.
    pub fn class(self) -> &'static str {
        match self {
            Badge::Deploying => "b-run",
            Badge::Failed | Badge::Incident => "b-bad",
            Badge::Locked | Badge::Frozen => "b-hold",
            Badge::AwaitingApproval => "b-wait",
        }
    }
}
