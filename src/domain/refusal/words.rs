//! Every refusal's words, by group: one match per group, so that each reads
//! in one screen; `write` sends each variant to its group.

use std::fmt::{self, Write as _};

use chrono::NaiveDateTime;

use super::{Act, Refusal};
use crate::domain::ids::Name;
use crate::domain::text::Text;
use crate::domain::when::format_local;

impl Refusal {
    /// Each refusal's words, written by the group it belongs to.
    pub(super) fn write(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
            NotPermitted { .. }
            | NotAdmin { .. }
            | NotParticipant { .. }
            | MayNotCancel { .. }
            | SelfApproval { .. }
            | MayNotMoveTo { .. } => self.write_who(t),
            Ended { .. }
            | AlreadyApproved { .. }
            | NotApprovedYet { .. }
            | ApprovalsStale { .. } => self.write_state(t),
            AlreadyRunning { .. }
            | NotDeployable { .. }
            | ChecklistOpen { .. }
            | NotRollbackable { .. }
            | NothingToRollBackTo { .. } => self.write_deploys(t),
            NoDeployTime { .. }
            | NothingToChange { .. }
            | NoChecklistItem { .. }
            | ChecklistAlready { .. }
            | TargetBusy { .. } => self.write_schedule(t),
            NoSuchRelease(..)
            | NoSuchService { .. }
            | NoSuchEnvironment { .. }
            | EnvironmentGone { .. }
            | NotReleasedTo { .. }
            | NoEnvironmentGiven { .. }
            | NoSuchJob { .. }
            | JobNotRunning { .. }
            | NoSuchCommand { .. }
            | NoSuchRole { .. }
            | NoSuchFreeze(..) => self.write_unknown(t),
            SkippedTime { .. }
            | TooFarAhead { .. }
            | InThePast { .. }
            | NoSuchLocalTime
            | OutOfCalendar { .. }
            | SlotTaken { .. }
            | Frozen { .. }
            | FreezeBackwards { .. }
            | FreezeInPast { .. }
            | FreezeOverlaps { .. } => self.write_time(t),
            Locked { .. }
            | AlreadyLocked { .. }
            | NotLocked { .. }
            | LockHeldByOther { .. }
            | AlreadyHasRole { .. }
            | RoleFromConfig { .. }
            | NotGranted { .. }
            | ImportClash(..) => self.write_held(t),
            NotSoaked { .. }
            | NotPromotable { .. }
            | NoNextEnvironment { .. }
            | NoSuchAudience { .. }
            | NoTemplate { .. } => self.write_promotion(t),
            NoSuchIncident(..)
            | NoOpenIncident { .. }
            | IncidentResolved { .. }
            | FixElsewhere { .. }
            | IncidentLocked { .. }
            | FixNeedsManager { .. }
            | HeldBack { .. }
            | IncidentAlreadyOpen { .. }
            | NotIncidentHandler { .. }
            | NoSource { .. }
            | NothingLive { .. } => self.write_incident(t),
        }
    }

    /// Who may do what: roles, participants, self-approval.
    fn write_who(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
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
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// What the release's state allows: approvals and its end.
    fn write_state(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
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
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// Deploys and rollbacks.
    fn write_deploys(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
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
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// Deploy times, changes, the checklist, a busy target.
    fn write_schedule(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
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
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// Names that point at nothing.
    fn write_unknown(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
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
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// Times, windows and freezes.
    fn write_time(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
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
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// Locks, granted roles, imports.
    fn write_held(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
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
            _ => unreachable!("dispatched by `write`"),
        }
    }
}

/// A local time as refusals write it.
fn minute(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}
