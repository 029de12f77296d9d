//! Why a command was refused: one variant per reason, carrying its data.
//! Their words are written here and nowhere else ([`Refusal::text`]); code
//! and tests match the variants.

use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::ids::{Name, ReleaseId, UserRef};
use super::release::ReleaseStatus;
use super::text::Text;
use super::when::format_local;

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
            | Act::Revoke => "changed",
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
}

impl Refusal {
    /// The words its author reads.
    pub fn text(&self) -> Text {
        let mut t = Text::new();
        // Writing to a `Text` cannot fail.
        let _ = self.write(&mut t);
        t
    }

    fn write(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        let minute = |at: &NaiveDateTime| at.format("%Y-%m-%d %H:%M").to_string();
        match self {
            NotPermitted {
                act: Act::Lock,
                environment,
                needs,
            } => write!(t, "You can't lock {environment}: that takes {needs}."),
            NotPermitted {
                act,
                environment,
                needs,
            } => write!(t, "You can't {} {environment}: that takes {needs}.", act.verb()),
            NotAdmin { act, needs } => write!(t, "You can't {}: that takes {needs}.", act.verb()),
            NotParticipant {
                act,
                release,
                requester,
                environment,
            } => {
                write!(t, "You can't {} {release}: only its requester (", act.verb())?;
                t.push_person(requester);
                write!(
                    t,
                    ") or someone who may approve or deploy to {environment} can."
                )
            }
            MayNotCancel {
                release,
                requester,
                approvers,
            } => {
                write!(t, "You can't cancel {release}: only its requester (")?;
                t.push_person(requester);
                write!(t, ") or an approver ({approvers}) can.")
            }
            SelfApproval {
                release,
                environment,
            } => write!(
                t,
                "You requested {release}, so you can't approve it ({environment}: self-approval is off)."
            ),
            MayNotMoveTo {
                release,
                environment,
                needs,
            } => write!(
                t,
                "You can't move {release} to {environment}: requesting there takes {needs}."
            ),
            Ended {
                release,
                status,
                act,
            } => write!(
                t,
                "{release} is {status}, so it can't be {} any more.",
                act.done()
            ),
            AlreadyApproved { release, at } => write!(
                t,
                "You already approved {release} at {} UTC; an approver counts once.",
                at.format("%Y-%m-%d %H:%M")
            ),
            NotApprovedYet { release, missing } => write!(
                t,
                "{release} isn't approved yet: it still needs {}.",
                missing.join(" and ")
            ),
            ApprovalsStale {
                release,
                missing,
                expired,
                environment,
                hours,
            } => {
                write!(
                    t,
                    "{release} needs fresh approvals before it can deploy: missing {}",
                    missing.join(" and ")
                )?;
                if !expired.is_empty() {
                    t.write_str(" (approvals from ")?;
                    for (at, user) in expired.iter().enumerate() {
                        if at > 0 {
                            t.write_str(", ")?;
                        }
                        t.push_person(user);
                    }
                    write!(t, " expired: {environment} approvals last {hours} h)")?;
                }
                t.write_str(".")
            }
            AlreadyRunning {
                release,
                status,
                by,
                at,
            } => {
                write!(t, "{release} is already {status} (started by ")?;
                match by {
                    Some(by) => t.push_person(by),
                    None => t.write_str("someone")?,
                }
                let at = at.map_or("?".to_string(), |at| at.format("%H:%M").to_string());
                write!(t, " at {at} UTC).")
            }
            NotDeployable { release, status } => write!(
                t,
                "{release} is {status}; only approved, scheduled or failed releases can be deployed."
            ),
            ChecklistOpen {
                release,
                done,
                total,
                open,
            } => write!(
                t,
                "{release}'s checklist is not done ({done}/{total}): still open: {}.",
                open.join(", ")
            ),
            NotRollbackable { release, status } => write!(
                t,
                "{release} is {status}; only a deployed or failed release can be rolled back."
            ),
            NothingToRollBackTo {
                release,
                service,
                environment,
            } => write!(
                t,
                "{release} has nothing to roll back to: no earlier successful deploy of {service} to {environment} is on record. Deploy a fixed version instead."
            ),
            NoDeployTime {
                release,
                act: Act::Bump,
            } => write!(t, "{release} has no deploy time to bump it from."),
            NoDeployTime { release, .. } => write!(t, "{release} has no deploy time to clear."),
            NothingToChange { release, title } => {
                write!(t, "{release} already is {title}; nothing to change.")
            }
            NoChecklistItem {
                release,
                item,
                items,
            } => {
                let items = if items.is_empty() {
                    "none".to_string()
                } else {
                    items.join(", ")
                };
                write!(t, "{release} has no checklist item `{item}`. Its items: {items}.")
            }
            ChecklistAlready {
                release,
                item,
                done,
            } => {
                let state = if *done { "checked" } else { "unchecked" };
                write!(t, "`{item}` is already {state} on {release}.")
            }
            TargetBusy {
                release,
                other,
                service,
                environment,
            } => write!(
                t,
                "{release} can't start: {other} is deploying {service} to {environment} right now. Wait for it to finish (`status {other}`)."
            ),
            NoSuchRelease(id) => write!(
                t,
                "There is no release {id}. `list all` shows the latest releases."
            ),
            NoSuchService { service, known } => {
                write!(t, "Unknown service `{service}`. Known services: {known}.")
            }
            NoSuchEnvironment { environment, known } => write!(
                t,
                "Unknown environment `{environment}`. Known environments: {known}."
            ),
            EnvironmentGone { environment, known } => write!(
                t,
                "Environment `{environment}` is not configured (any more); known: {known}."
            ),
            NotReleasedTo {
                service,
                environment,
                allowed,
            } => {
                let allowed: Vec<&str> = allowed.iter().map(Name::as_str).collect();
                write!(
                    t,
                    "{service} is not released to {environment}; its environments: {}.",
                    allowed.join(", ")
                )
            }
            NoEnvironmentGiven { known } => write!(
                t,
                "Say where it goes: add `to <environment>` (known: {known})."
            ),
            NoSuchJob { release, job } => write!(t, "{release} has no CI job `{job}`."),
            JobNotRunning { job } => write!(t, "job {job} is not running"),
            NoSuchCommand { topic } => write!(
                t,
                "There is no command `{topic}`. Type `help` for the list."
            ),
            NoSuchRole { role, known } => {
                write!(t, "There is no role `{role}`. Roles: {}.", known.join(", "))
            }
            NoSuchFreeze(id) => write!(t, "There is no freeze F-{id}. `freezes` lists them."),
            SkippedTime { local, tz } => write!(
                t,
                "{} does not exist in {tz}: the clocks skip it that day. Pick another time.",
                minute(local)
            ),
            TooFarAhead {
                local,
                years,
                horizon,
            } => write!(
                t,
                "{} is more than {years} years ahead; pick a time before {horizon}.",
                minute(local)
            ),
            InThePast { local, tz, now } => write!(
                t,
                "{} ({tz}) is in the past; it is now {}.",
                minute(local),
                now.with_timezone(tz).format("%Y-%m-%d %H:%M")
            ),
            NoSuchLocalTime => t.write_str(
                "That time does not exist in the environment's timezone (a clock change); pick another.",
            ),
            OutOfCalendar { day } => write!(t, "{day} is out of the calendar's range."),
            SlotTaken { why } => write!(t, "Can't schedule {why}"),
            Frozen {
                release,
                environment,
                why,
            } => write!(
                t,
                "{release} can't deploy to {environment} now: {why}. Rollbacks stay allowed."
            ),
            FreezeBackwards { start, end, tz } => write!(
                t,
                "The freeze would end ({}) before it starts ({}).",
                format_local(*end, *tz),
                format_local(*start, *tz)
            ),
            FreezeInPast { now, tz } => write!(
                t,
                "That freeze starts in the past; it is now {}.",
                format_local(*now, *tz)
            ),
            FreezeOverlaps {
                label,
                reason,
                start,
                end,
                tz,
            } => write!(
                t,
                "That overlaps {label} “{reason}” ({} to {}); change or `unfreeze {label}` first.",
                format_local(*start, *tz),
                format_local(*end, *tz)
            ),
            Locked {
                service,
                environment,
                by,
                held_for,
                reason,
            } => {
                write!(t, "{service} is locked in {environment} by ")?;
                t.push_person(by);
                write!(
                    t,
                    " for {held_for}: {reason}. Ask them to `unlock {service} {environment}`."
                )
            }
            AlreadyLocked {
                service,
                environment,
                by,
                reason,
            } => {
                write!(t, "{service} is already locked in {environment} by ")?;
                t.push_person(by);
                write!(t, ": {reason}.")
            }
            NotLocked {
                service,
                environment,
            } => write!(t, "{service} is not locked in {environment}."),
            LockHeldByOther { by, admins } => {
                t.push_person(by);
                write!(t, " holds that lock; only they or {admins} can lift it.")
            }
            AlreadyHasRole {
                user,
                role,
                in_config,
            } => {
                t.push_person(user);
                let origin = if *in_config { " (in the config file)" } else { "" };
                write!(t, " already is {role}{origin}.")
            }
            RoleFromConfig { user, role } => {
                t.push_person(user);
                write!(
                    t,
                    "'s {role} role comes from the config file; change it there."
                )
            }
            NotGranted { user, role } => {
                t.push_person(user);
                write!(t, " was not granted {role}.")
            }
            ImportClash(id) => write!(
                t,
                "{id} already exists in this store; import only into a store that does not hold those ids."
            ),
        }
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
mod tests {
    use super::*;

    #[test]
    fn people_in_a_refusal_are_named_not_pinged() {
        let alice = UserRef::parse("slack:U0ALICE001").unwrap();
        let refusal = Refusal::NotParticipant {
            act: Act::Schedule,
            release: ReleaseId::new(3),
            requester: alice.clone(),
            environment: Name::parse("production").unwrap(),
        };
        let text = refusal.text();
        assert!(text.pinged().is_empty());
        assert_eq!(
            text.to_string(),
            "You can't schedule R-3: only its requester (U0ALICE001) or someone who may approve or deploy to production can."
        );
    }

    #[test]
    fn expired_approvers_are_named_and_the_sentence_ends_once() {
        let refusal = Refusal::ApprovalsStale {
            release: ReleaseId::new(2),
            missing: vec!["1 more approval".into()],
            expired: vec![
                UserRef::parse("shell:bob").unwrap(),
                UserRef::parse("shell:carol").unwrap(),
            ],
            environment: Name::parse("production").unwrap(),
            hours: 24,
        };
        assert_eq!(
            refusal.to_string(),
            "R-2 needs fresh approvals before it can deploy: missing 1 more approval (approvals from bob, carol expired: production approvals last 24 h)."
        );
        assert!(refusal.text().pinged().is_empty());
    }
}
