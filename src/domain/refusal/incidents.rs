//! The words of incidents' refusals (the lock, the held-back version, a fix
//! or an update that has nothing to act on) and of notes from the code.

use std::fmt::{self, Write as _};

use super::Refusal;
use crate::domain::text::Text;

impl Refusal {
    pub(super) fn write_incident(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
            NoSuchIncident(id) => write!(t, "There is no incident {id}."),
            NoOpenIncident { subject, resolved } => match resolved {
                Some(incident) => write!(
                    t,
                    "{subject}'s incident {incident} is resolved already; nothing is open to update or resolve."
                ),
                None => write!(
                    t,
                    "{subject} has no open incident: `incident open <service> <env> sev1|sev2|sev3 <summary>` opens one."
                ),
            },
            IncidentResolved { incident } => write!(
                t,
                "{incident} is resolved already, so nothing can be its fix: request the release without `fix`."
            ),
            FixElsewhere { incident, target } => write!(
                t,
                "{incident} is about {target}: its fix must be a release of that service to that environment."
            ),
            IncidentLocked { .. } | FixNeedsManager { .. } | HeldBack { .. } => self.write_lock(t),
            IncidentAlreadyOpen { incident, target } => write!(
                t,
                "{target} already has an open incident, {incident}: `incident update {incident} \"…\"` adds to it."
            ),
            NotIncidentHandler {
                incident,
                lead,
                needs,
            } => {
                write!(t, "Only {incident}'s lead (")?;
                t.push_person(lead);
                write!(t, ") or {needs} may do that.")
            }
            NoSource { service } => write!(
                t,
                "{service} has no source configured, so there are no notes from its code: add [services.{service}.source] with kind and repository."
            ),
            NothingLive {
                service,
                environment,
            } => write!(
                t,
                "{service} runs nowhere in {environment} yet, so that end of the range has no version: give a version instead."
            ),
            _ => unreachable!("dispatched by `write`"),
        }
    }

    /// The lock, the fix that passes it, the version held back.
    fn write_lock(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
            IncidentLocked {
                release,
                incident,
                severity,
                target,
                lead,
            } => {
                write!(
                    t,
                    "{release} can't deploy: {target} is locked by incident {incident} ({severity}, led by "
                )?;
                t.push_person(lead);
                write!(
                    t,
                    "). Only its fix may go out: `request … fix {incident}`, deployed by a release manager; `resolve {incident} <summary>` unlocks."
                )
            }
            FixNeedsManager {
                release,
                incident,
                needs,
            } => write!(
                t,
                "{release} is the fix of {incident}, but deploying through an incident's lock is break-glass: it takes {needs}."
            ),
            HeldBack {
                release,
                version,
                incident,
                open: true,
            } => write!(
                t,
                "{release} can't deploy {version}: it was rolled back in {incident}, which is still open. Ship a fix version instead."
            ),
            HeldBack {
                release,
                version,
                incident,
                open: false,
            } => write!(
                t,
                "{release} can't deploy {version}: it was rolled back in {incident}. A release manager may confirm it is safe again: `deploy {release} override <reason>`."
            ),
            _ => unreachable!("dispatched by `write_incident`"),
        }
    }
}
