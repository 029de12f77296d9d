//! Where incidents meet releases: a fix must name an open incident of its
//! own service and environment; a deploy there waits for the incident
//! (its fix excepted, as break-glass in a release manager's hands) and may
//! not put back a version a rollback took out; a rollback opens an
//! incident, or joins the open one.

use chrono::{DateTime, Utc};

use crate::domain::ids::{Name, UserRef};
use crate::domain::incident::{Cause, Event, EventKind, Incident, IncidentId};
use crate::domain::release::{Deployment, Release};
use crate::domain::Refusal;
use crate::store::prelude::*;
use crate::store::{Tx, TxResult};

use super::{ChangeContext, Engine};

impl Engine {
    /// A release may be the fix of an open incident of its own service and
    /// environment only.
    pub(super) fn check_fix_target(
        &self,
        tx: &Tx<'_>,
        id: IncidentId,
        service: &Name,
        environment: &Name,
    ) -> TxResult<()> {
        let incident = tx.incident(id)?.ok_or(Refusal::NoSuchIncident(id))?;
        if !incident.is_open() {
            return Err(Refusal::IncidentResolved { incident: id }.into());
        }
        if &incident.service != service || &incident.environment != environment {
            return Err(Refusal::FixElsewhere {
                incident: id,
                target: incident.target(),
            }
            .into());
        }
        Ok(())
    }

    /// The incident rules for a deploy, inside its transaction. Returns the
    /// words for the audit log and thread when the deploy passes by a
    /// release manager's hand (a fix through the lock, a held-back version
    /// cleared by `override <reason>`).
    pub(super) fn check_incidents(
        &self,
        ctx: &ChangeContext<'_, '_>,
        release: &Release,
        override_reason: Option<&str>,
    ) -> TxResult<Option<String>> {
        let (service, environment) = (&release.service, &release.environment);
        let manager = self.config.admin.allows(ctx.actor.roles);
        let mut passed = Vec::new();
        if let Some(mut held) = ctx
            .tx
            .holding_back(service, environment, &release.version)?
        {
            let refusal = Refusal::HeldBack {
                release: release.id,
                version: release.version.to_string(),
                incident: held.id,
                open: held.is_open(),
            };
            let reason = override_reason.filter(|_| manager && !held.is_open());
            let Some(reason) = reason else {
                return Err(refusal.into());
            };
            held.cleared.push(release.version.clone());
            let text = format!("{} may go out again: {reason}", release.version);
            held.push(ctx.now, ctx.actor.user, EventKind::Cleared, text);
            ctx.tx.put_incident(&held)?;
            passed.push(format!(
                "clearing {}, rolled back in {}: {reason}",
                release.version, held.id
            ));
        }
        if let Some(mut open) = ctx.tx.open_incident(service, environment)? {
            if release.fixes != Some(open.id) {
                return Err(Refusal::IncidentLocked {
                    release: release.id,
                    incident: open.id,
                    severity: open.severity,
                    target: open.target(),
                    lead: open.lead.clone(),
                }
                .into());
            }
            if !manager {
                return Err(Refusal::FixNeedsManager {
                    release: release.id,
                    incident: open.id,
                    needs: self.config.admin.describe(),
                }
                .into());
            }
            open.events.push(Event {
                at: ctx.now,
                by: ctx.actor.user.clone(),
                kind: EventKind::Fix,
                text: format!("deploying {} {}", release.id, release.version),
                release: Some(release.id),
            });
            ctx.tx.put_incident(&open)?;
            passed.push(format!("🔓 break-glass: the fix of {}", open.id));
        }
        Ok((!passed.is_empty()).then(|| passed.join("; ")))
    }

    /// A rollback opens an incident on its service and environment (or
    /// joins the open one), and holds the version it takes out back.
    /// Returns the incident and whether it is new.
    pub(super) fn incident_for_rollback(
        &self,
        tx: &Tx<'_>,
        release: &mut Release,
        deployment: &Deployment,
        user: &UserRef,
        reason: &str,
        now: DateTime<Utc>,
    ) -> TxResult<(Incident, bool)> {
        let step = Event {
            at: now,
            by: user.clone(),
            kind: EventKind::Rollback,
            text: format!(
                "rollback of {} {} to {}: {reason}",
                release.id, release.version, deployment.version
            ),
            release: Some(release.id),
        };
        let (mut incident, new) = match tx.open_incident(&release.service, &release.environment)? {
            Some(open) => (open, false),
            None => {
                let id = tx.allocate_incident_id()?;
                let severity = self.config.incidents.rollback_severity;
                let cause = Cause {
                    release: release.id,
                    version: release.version.clone(),
                    previous: Some(deployment.version.clone()),
                };
                let target = (&release.service, &release.environment);
                let mut opened = opening(id, target, severity, reason, user, now);
                opened.cause = Some(cause);
                (opened, true)
            }
        };
        incident.events.push(step);
        if !incident.rolled_back.contains(&release.version) {
            incident.rolled_back.push(release.version.clone());
        }
        tx.put_incident(&incident)?;
        release.incident.get_or_insert(incident.id);
        Ok((incident, new))
    }
}

/// A new incident on a service and environment, led by who opened it.
pub(super) fn opening(
    id: IncidentId,
    (service, environment): (&Name, &Name),
    severity: crate::domain::incident::Severity,
    summary: &str,
    user: &UserRef,
    now: DateTime<Utc>,
) -> Incident {
    let mut incident = Incident {
        id,
        service: service.clone(),
        environment: environment.clone(),
        severity,
        summary: summary.to_string(),
        lead: user.clone(),
        opened_at: now,
        cause: None,
        events: Vec::new(),
        rolled_back: Vec::new(),
        cleared: Vec::new(),
        nudged_at: None,
        resolved_at: None,
    };
    incident.push(now, user, EventKind::Opened, summary.to_string());
    incident
}

impl Engine {
    /// What a rollback's thread line adds about its incident; a new one is
    /// also told to its audiences.
    pub(super) fn rollback_incident_words(
        &self,
        tx: &Tx<'_>,
        incident: &Incident,
        new: bool,
    ) -> TxResult<String> {
        if !new {
            return Ok(format!(" · part of incident {}", incident.id));
        }
        self.tell_audiences(tx, incident, "incident")?;
        Ok(format!(
            " · {} opened incident {} ({}); deploys of {} are locked until `resolve {} <summary>`",
            incident.severity.emoji(),
            incident.id,
            incident.severity,
            incident.target(),
            incident.id
        ))
    }
}
