//! Why a command was refused: one variant per reason, carrying its data.
//! Their words are written here and nowhere else ([`Refusal::text`]); code
//! and tests match the variants.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::ids::{Name, ReleaseId, UserRef};
use super::incident::{IncidentId, Severity};
use super::release::ReleaseStatus;
use super::text::Text;

mod incidents;
mod promotion;
mod words;

/// Where a refused deploy's soak clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoakClock {
    /// It runs: the deploy may go then.
    ReadyAt(DateTime<Utc>),
    /// The version is not live there now.
    Stands,
    /// An incident there is open.
    Incident(IncidentId),
}

/// What someone tried to do, as a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Request,
    Approve,
    Reject,
    Cancel,
    Schedule,
    Unschedule,
    Change,
    Check,
    Deploy,
    Rollback,
    Lock,
    Bump,
    Freeze,
    Unfreeze,
    Grant,
    Revoke,
    /// Deploy before the soak rule is met.
    Override,
    /// Open an incident.
    Incident,
    /// End every dashboard session.
    SignOutEveryone,
}

impl Act {
    /// "You can't {verb} …"
    fn verb(self) -> &'static str {
        match self {
            Act::Request => "request releases to",
            Act::Approve => "approve releases to",
            Act::Reject => "reject releases to",
            Act::Cancel => "cancel",
            Act::Schedule => "schedule",
            Act::Unschedule => "unschedule",
            Act::Change => "change",
            Act::Check => "tick the checklist of",
            Act::Deploy => "deploy to",
            Act::Rollback => "roll back",
            Act::Lock => "lock",
            Act::Bump => "bump releases",
            Act::Freeze => "freeze environments",
            Act::Unfreeze => "lift freezes",
            Act::Grant => "grant roles",
            Act::Revoke => "revoke roles",
            Act::Override => "deploy before a soak is done",
            Act::Incident => "open incidents in",
            Act::SignOutEveryone => "sign everyone out of the dashboard",
        }
    }

    /// "… so it can't be {done} any more."
    fn done(self) -> &'static str {
        match self {
            Act::Approve => "approved",
            Act::Reject => "rejected",
            Act::Cancel => "cancelled",
            Act::Schedule => "scheduled",
            Act::Unschedule => "unscheduled",
            Act::Change => "changed",
            Act::Check => "re-checked",
            Act::Deploy => "deployed",
            Act::Rollback => "rolled back",
            Act::Request
            | Act::Lock
            | Act::Bump
            | Act::Freeze
            | Act::Unfreeze
            | Act::Grant
            | Act::Revoke
            | Act::Override
            | Act::Incident
            | Act::SignOutEveryone => "changed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    // Who may act.
    /// The actor's roles do not allow `act` in `environment`; `needs` says
    /// who may.
    NotPermitted {
        act: Act,
        environment: Name,
        needs: String,
    },
    /// An act only the bot's admins may do.
    NotAdmin {
        act: Act,
        needs: String,
    },
    /// Only the release's requester or someone who may approve or deploy
    /// to its environment may do this.
    NotParticipant {
        act: Act,
        release: ReleaseId,
        requester: UserRef,
        environment: Name,
    },
    /// Cancelling takes the requester or an approver.
    MayNotCancel {
        release: ReleaseId,
        requester: UserRef,
        approvers: String,
    },
    SelfApproval {
        release: ReleaseId,
        environment: Name,
    },
    /// Moving a release to `environment` takes the request permission there.
    MayNotMoveTo {
        release: ReleaseId,
        environment: Name,
        needs: String,
    },

    // Where the release stands.
    /// The release has left the approval phase.
    Ended {
        release: ReleaseId,
        status: ReleaseStatus,
        act: Act,
    },
    AlreadyApproved {
        release: ReleaseId,
        at: DateTime<Utc>,
    },
    NotApprovedYet {
        release: ReleaseId,
        missing: Vec<String>,
    },
    /// Approvals ran out (or were never enough) by deploy time.
    ApprovalsStale {
        release: ReleaseId,
        missing: Vec<String>,
        expired: Vec<UserRef>,
        environment: Name,
        hours: i64,
    },
    AlreadyRunning {
        release: ReleaseId,
        status: ReleaseStatus,
        by: Option<UserRef>,
        at: Option<DateTime<Utc>>,
    },
    NotDeployable {
        release: ReleaseId,
        status: ReleaseStatus,
    },
    ChecklistOpen {
        release: ReleaseId,
        done: usize,
        total: usize,
        open: Vec<String>,
    },
    NotRollbackable {
        release: ReleaseId,
        status: ReleaseStatus,
    },
    NothingToRollBackTo {
        release: ReleaseId,
        service: Name,
        environment: Name,
    },
    /// `unschedule` or `bump` of a release with no deploy time.
    NoDeployTime {
        release: ReleaseId,
        act: Act,
    },
    NothingToChange {
        release: ReleaseId,
        title: String,
    },
    NoChecklistItem {
        release: ReleaseId,
        item: String,
        items: Vec<String>,
    },
    ChecklistAlready {
        release: ReleaseId,
        item: String,
        done: bool,
    },
    /// Another release of the same service is deploying to the same place.
    TargetBusy {
        release: ReleaseId,
        other: ReleaseId,
        service: Name,
        environment: Name,
    },

    // Things that are not there.
    NoSuchRelease(ReleaseId),
    NoSuchService {
        service: String,
        known: String,
    },
    NoSuchEnvironment {
        environment: String,
        known: String,
    },
    /// A stored release names an environment the config no longer has.
    EnvironmentGone {
        environment: Name,
        known: String,
    },
    NotReleasedTo {
        service: Name,
        environment: Name,
        allowed: Vec<Name>,
    },
    NoEnvironmentGiven {
        known: String,
    },
    NoSuchJob {
        release: ReleaseId,
        job: String,
    },
    JobNotRunning {
        job: String,
    },
    NoSuchCommand {
        topic: String,
    },
    NoSuchRole {
        role: String,
        known: Vec<String>,
    },
    NoSuchFreeze(u64),

    // Time and the calendar.
    /// A clock change skips that local time.
    SkippedTime {
        local: NaiveDateTime,
        tz: Tz,
    },
    TooFarAhead {
        local: NaiveDateTime,
        years: i32,
        horizon: NaiveDate,
    },
    InThePast {
        local: NaiveDateTime,
        tz: Tz,
        now: DateTime<Utc>,
    },
    /// A freeze's start or end falls in a clock change's gap.
    NoSuchLocalTime,
    OutOfCalendar {
        day: String,
    },
    /// The slot conflicts and the environment refuses conflicts; `why`
    /// describes the conflict and the next free slots.
    SlotTaken {
        why: String,
    },
    Frozen {
        release: ReleaseId,
        environment: Name,
        why: String,
    },
    FreezeBackwards {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        tz: Tz,
    },
    FreezeInPast {
        now: DateTime<Utc>,
        tz: Tz,
    },
    FreezeOverlaps {
        label: String,
        reason: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        tz: Tz,
    },
    /// Someone else holds the lock a deploy needs.
    Locked {
        service: Name,
        environment: Name,
        by: UserRef,
        held_for: String,
        reason: String,
    },
    AlreadyLocked {
        service: Name,
        environment: Name,
        by: UserRef,
        reason: String,
    },
    NotLocked {
        service: Name,
        environment: Name,
    },
    LockHeldByOther {
        by: UserRef,
        admins: String,
    },

    // Roles and imports.
    AlreadyHasRole {
        user: UserRef,
        role: String,
        in_config: bool,
    },
    RoleFromConfig {
        user: UserRef,
        role: String,
    },
    NotGranted {
        user: UserRef,
        role: String,
    },
    ImportClash(ReleaseId),
    // Promotion.
    /// A deploy whose version has not soaked long enough where it must
    /// first (`requires`); `ready_at` is when it will have, while its clock
    /// runs there.
    NotSoaked {
        release: ReleaseId,
        version: String,
        environment: Name,
        required: Name,
        earned_minutes: u32,
        needed_minutes: u32,
        clock: SoakClock,
        tz: Tz,
    },
    /// `promote` of a release that never reached its environment.
    NotPromotable {
        release: ReleaseId,
        environment: Name,
        status: ReleaseStatus,
    },
    /// `promote` without `to`, where no environment requires this one.
    NoNextEnvironment {
        environment: Name,
    },
    // Audiences.
    /// An audience not in `[audiences]`.
    NoSuchAudience {
        audience: String,
        known: String,
    },
    /// An audience without a template for this kind of text.
    NoTemplate {
        audience: Name,
        kind: &'static str,
    },
    // Incidents.
    NoSuchIncident(IncidentId),
    /// `update`, `resolve` or `incident lead` where no incident is open
    /// (`subject` names what was given: `I-2` or `R-3`).
    NoOpenIncident {
        subject: String,
        resolved: Option<IncidentId>,
    },
    /// A fix naming an incident already resolved.
    IncidentResolved {
        incident: IncidentId,
    },
    /// A fix for an incident of another service or environment.
    FixElsewhere {
        incident: IncidentId,
        target: String,
    },
    /// Deploys of the service and environment wait for the incident.
    IncidentLocked {
        release: ReleaseId,
        incident: IncidentId,
        severity: Severity,
        target: String,
        lead: UserRef,
    },
    /// A fix passes the incident's lock only in a release manager's hands.
    FixNeedsManager {
        release: ReleaseId,
        incident: IncidentId,
        needs: String,
    },
    /// The version a rollback took out, deployed again.
    HeldBack {
        release: ReleaseId,
        version: String,
        incident: IncidentId,
        open: bool,
    },
    IncidentAlreadyOpen {
        incident: IncidentId,
        target: String,
    },
    /// Updating, handing on or resolving takes the lead or someone who may
    /// roll back there.
    NotIncidentHandler {
        incident: IncidentId,
        lead: UserRef,
        needs: String,
    },
    // Notes from the code.
    /// `notes A..B` of a service with no `[services.*.source]`.
    NoSource {
        service: Name,
    },
    /// A range end naming an environment where the service does not run.
    NothingLive {
        service: Name,
        environment: Name,
    },
}

impl Refusal {
    /// The words its author reads.
    pub fn text(&self) -> Text {
        let mut t = Text::new();
        // Writing to a `Text` cannot fail.
        let _ = self.write(&mut t);
        t
    }
}

/// The words, with people by their local id (logs, tests, the CLI).
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.text(), f)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests;
