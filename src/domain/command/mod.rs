//! The command language shared by every chat surface: the command values,
//! and the readers each command's grammar (in `crate::commands`) is built
//! from. A parse error is a value with a position; its `Display` is the
//! chat reply.

use std::fmt;

use super::ids::{Name, ReleaseId, UserRef, Version};
use super::incident::{IncidentId, Severity};
use super::release::{Priority, ReleaseStatus};
use super::when::{Day, When};

mod cursor;
mod fields;

pub use cursor::{error_at, tokenize, Parser, Token};
pub use fields::Fields;

/// What a caller needs before `help` shows them a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Anyone,
    Request,
    Approve,
    Deploy,
    Rollback,
    /// May grant and revoke roles.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestArgs {
    pub service: Name,
    pub version: Version,
    pub environment: Option<Name>,
    pub at: Option<When>,
    pub notes: Option<String>,
    pub priority: Priority,
    /// The incident this release fixes (`fix I-1`).
    pub fixes: Option<IncidentId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// Everything not finished: requested through deploying.
    Open,
    Status(ReleaseStatus),
    Mine,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Request(RequestArgs),
    Approve {
        id: ReleaseId,
        comment: Option<String>,
    },
    Reject {
        id: ReleaseId,
        reason: String,
    },
    Cancel {
        id: ReleaseId,
        reason: Option<String>,
    },
    Schedule {
        id: ReleaseId,
        at: When,
    },
    Unschedule {
        id: ReleaseId,
    },
    Change {
        id: ReleaseId,
        version: Option<Version>,
        environment: Option<Name>,
    },
    Checklist {
        id: ReleaseId,
    },
    Check {
        id: ReleaseId,
        item: String,
    },
    Uncheck {
        id: ReleaseId,
        item: String,
    },
    Deploy {
        id: ReleaseId,
        /// A release manager's reason to deploy before the soak rule is met.
        override_soak: Option<String>,
    },
    Rollback {
        id: ReleaseId,
        reason: String,
    },
    Status {
        id: ReleaseId,
    },
    List(ListFilter),
    History {
        id: ReleaseId,
    },
    Notes {
        id: ReleaseId,
        /// One audience's words (`[audiences.*]`) instead of the Markdown.
        audience: Option<Name>,
    },
    /// The changes between two versions or environments of a service
    /// (`notes staging..production api`).
    NotesRange {
        from: String,
        to: String,
        service: Name,
    },
    Help {
        topic: Option<String>,
    },
    Grant {
        user: UserRef,
        role: String,
    },
    Revoke {
        user: UserRef,
        role: String,
    },
    Roles,
    Calendar {
        range: CalendarRange,
    },
    Freeze {
        environment: Name,
        from: FreezeBound,
        to: FreezeBound,
        reason: String,
    },
    Freezes,
    Unfreeze {
        id: u64,
    },
    Lock {
        service: Name,
        environment: Name,
        reason: String,
    },
    Unlock {
        service: Name,
        environment: Name,
    },
    Bump {
        id: ReleaseId,
        reason: String,
    },
    Stats {
        period: StatsPeriod,
        /// Environments and services to count (default: production).
        scope: Vec<Name>,
    },
    /// The same service and version, requested for the next environment.
    Promote {
        id: ReleaseId,
        to: Option<Name>,
    },
    IncidentOpen {
        service: Name,
        environment: Name,
        severity: Severity,
        summary: String,
    },
    /// Hands an incident's lead on.
    IncidentLead {
        subject: Subject,
        lead: UserRef,
    },
    /// One incident, or every open one.
    Incidents {
        subject: Option<Subject>,
    },
    /// Words for the incident's stakeholders (`update I-1 "…"`).
    Update {
        subject: Subject,
        text: String,
    },
    Resolve {
        subject: Subject,
        summary: String,
    },
    /// A personal sign-in link to the dashboard.
    Dashboard,
    /// Ends every dashboard session (a key rotation): admins only.
    SignOutEveryone,
}

/// What an incident command names: the incident, or the release whose
/// rollback opened it (`update R-3 …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Incident(IncidentId),
    Release(ReleaseId),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Incident(id) => id.fmt(f),
            Subject::Release(id) => id.fmt(f),
        }
    }
}

/// Which days `calendar` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarRange {
    Today,
    Week,
    Month,
    /// The week containing this day.
    Around(chrono::NaiveDate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsPeriod {
    Week,
    Month,
    Quarter,
}

impl StatsPeriod {
    pub fn days(self) -> i64 {
        match self {
            StatsPeriod::Week => 7,
            StatsPeriod::Month => 30,
            StatsPeriod::Quarter => 91,
        }
    }
}

/// One end of a freeze: a day, and a time or not (a start without a time
/// begins at midnight; an end without one lasts through that day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreezeBound {
    pub day: Day,
    pub time: Option<chrono::NaiveTime>,
}

/// A command that is ours but malformed, with where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// Character offsets into `input` of the offending part.
    pub start: usize,
    pub end: usize,
    pub input: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        // The excerpt helps on one screen line; a long line would only wrap.
        if self.input.chars().count() <= 120 && !self.input.trim().is_empty() {
            let width = self.end.saturating_sub(self.start).max(1);
            write!(
                f,
                "\n    {}\n    {}{}",
                self.input,
                " ".repeat(self.start),
                "^".repeat(width)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}
