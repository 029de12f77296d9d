//! Incident commands: `incident open`, `incident lead`, `update`, `resolve`,
//! `incident [I-n]`, and the scheduler's nudge when an update is due. Each
//! step is one transaction: the incident, its audit entry (on the release
//! that caused it, so `history` shows it), its line in that release's
//! thread (or the service's channels) and each audience's own words.

use chrono::{DateTime, Utc};

use crate::domain::command::Subject;
use crate::domain::ids::{Name, UserRef};
use crate::domain::incident::{Cause, EventKind, Incident, Severity};
use crate::domain::text::Text;
use crate::domain::{Act, Refusal};
use crate::store::prelude::*;
use crate::store::{Tx, TxResult};
use crate::view::{IncidentsView, View};

use super::incident_guards::opening;
use super::{Engine, EngineResult, Reply};

/// What one step on an incident did, for the audit log and the thread.
pub(super) struct IncidentStep {
    pub action: &'static str,
    pub detail: String,
    pub line: Text,
    /// The audiences' template this step speaks through.
    pub kind: Option<&'static str>,
}

impl Engine {
    pub(crate) fn open_incident(
        &self,
        user: &UserRef,
        service: &Name,
        environment: &Name,
        severity: Severity,
        summary: &str,
    ) -> EngineResult<Reply> {
        self.known_service(service)?;
        self.known_environment(environment)?;
        let policy = self.policy(environment)?;
        let now = self.clock.now();
        let incident = self.commit(|tx| {
            let roles = self.directory_in(tx)?.roles_of(user);
            if !policy.rollback.allows(&roles) && !self.config.admin.allows(&roles) {
                return Err(Refusal::NotPermitted {
                    act: Act::Incident,
                    environment: environment.clone(),
                    needs: policy.rollback.describe(),
                }
                .into());
            }
            if let Some(open) = tx.open_incident(service, environment)? {
                return Err(Refusal::IncidentAlreadyOpen {
                    incident: open.id,
                    target: open.target(),
                }
                .into());
            }
            let id = tx.allocate_incident_id()?;
            let mut incident = opening(id, (service, environment), severity, summary, user, now);
            // Put down to what is live there now.
            let live = tx.live(service, environment)?;
            if let Some(mut cause) = live.map(|l| tx.release(l.release)).transpose()?.flatten() {
                incident.cause = Some(Cause {
                    release: cause.id,
                    version: cause.version.clone(),
                    previous: cause.previous.as_ref().map(|p| p.version.clone()),
                });
                let before = cause.clone();
                cause.incident.get_or_insert(id);
                tx.put_release(&cause, Some(&before))?;
            }
            tx.put_incident(&incident)?;
            let step = self.opened_step(&incident);
            self.note_incident_step(tx, &incident, user, step)?;
            Ok(incident)
        })?;
        let cause = incident
            .cause
            .as_ref()
            .map(|c| format!(", put down to {} ({})", c.release, c.version))
            .unwrap_or_default();
        Ok(Reply::new(format!(
            "{} {} opened: {} ({severity}){cause}. Deploys there are locked until it is resolved; you lead it.",
            severity.emoji(),
            incident.id,
            incident.target()
        )))
    }

    fn opened_step(&self, incident: &Incident) -> IncidentStep {
        let lead = Text::plain(format!(
            "{} {} opened ({}): {} — led by ",
            incident.severity.emoji(),
            incident.id,
            incident.severity,
            incident.summary
        ))
        .person(&incident.lead)
        .say(format!(
            "; deploys of {} are locked until it is resolved.",
            incident.target()
        ));
        IncidentStep {
            action: "incident_open",
            detail: format!(
                "{} {}: {}",
                incident.id, incident.severity, incident.summary
            ),
            line: lead,
            kind: Some("incident"),
        }
    }

    pub(crate) fn hand_lead(
        &self,
        user: &UserRef,
        subject: Subject,
        lead: &UserRef,
    ) -> EngineResult<Reply> {
        let incident = self.incident_step(user, subject, |incident, now| {
            incident.lead = lead.clone();
            incident.push(now, user, EventKind::Lead, format!("lead: {lead}"));
            Ok(IncidentStep {
                action: "incident_lead",
                detail: format!("{} led by {lead}", incident.id),
                line: Text::plain(format!("{} is now led by ", incident.id)).ping(lead),
                kind: None,
            })
        })?;
        Ok(Reply::new(
            Text::plain(format!("{} is now led by ", incident.id)).person(lead),
        ))
    }

    pub(crate) fn update_incident(
        &self,
        user: &UserRef,
        subject: Subject,
        text: &str,
    ) -> EngineResult<Reply> {
        let every = |severity| self.config.incidents.cadence(severity);
        let incident = self.incident_step(user, subject, |incident, now| {
            incident.push(now, user, EventKind::Update, text.to_string());
            Ok(IncidentStep {
                action: "incident_update",
                detail: format!("{}: {text}", incident.id),
                line: Text::plain(format!("📣 {} update from ", incident.id))
                    .person(user)
                    .say(format!(": {text}")),
                kind: Some("incident_update"),
            })
        })?;
        let tz = self.timezone_of(&incident.environment);
        let next = incident
            .update_due(every(incident.severity))
            .map(|at| {
                format!(
                    " Next update due {}.",
                    crate::domain::when::format_local(at, tz)
                )
            })
            .unwrap_or_default();
        Ok(Reply::new(format!(
            "Update posted to {}'s stakeholders.{next}",
            incident.id
        )))
    }

    /// Runs one step on the open incident `subject` names, as the lead or
    /// someone who may roll back there.
    pub(super) fn incident_step(
        &self,
        user: &UserRef,
        subject: Subject,
        change: impl Fn(&mut Incident, DateTime<Utc>) -> TxResult<IncidentStep>,
    ) -> EngineResult<Incident> {
        let now = self.clock.now();
        Ok(self.commit(|tx| {
            let mut incident = self.open_incident_of(tx, subject)?;
            let roles = self.directory_in(tx)?.roles_of(user);
            let may = self
                .policy(&incident.environment)
                .is_ok_and(|p| p.rollback.allows(&roles));
            if &incident.lead != user && !may && !self.config.admin.allows(&roles) {
                return Err(Refusal::NotIncidentHandler {
                    incident: incident.id,
                    lead: incident.lead.clone(),
                    needs: self
                        .policy(&incident.environment)
                        .map_or_else(|_| self.config.admin.describe(), |p| p.rollback.describe()),
                }
                .into());
            }
            let step = change(&mut incident, now)?;
            tx.put_incident(&incident)?;
            self.note_incident_step(tx, &incident, user, step)?;
            Ok(incident)
        })?)
    }

    /// The open incident `subject` names: an incident id, or a release
    /// whose deploy an incident was put down to.
    fn open_incident_of(&self, tx: &Tx<'_>, subject: Subject) -> TxResult<Incident> {
        let id = match subject {
            Subject::Incident(id) => id,
            Subject::Release(release) => tx
                .release(release)?
                .ok_or(Refusal::NoSuchRelease(release))?
                .incident
                .ok_or(Refusal::NoOpenIncident {
                    subject: subject.to_string(),
                    resolved: None,
                })?,
        };
        let incident = tx.incident(id)?.ok_or(Refusal::NoSuchIncident(id))?;
        if !incident.is_open() {
            return Err(Refusal::NoOpenIncident {
                subject: subject.to_string(),
                resolved: Some(id),
            }
            .into());
        }
        Ok(incident)
    }

    /// `incident` (every open one) or `incident I-2`.
    pub(crate) fn incidents(&self, subject: Option<Subject>) -> EngineResult<Reply> {
        let incidents = match subject {
            None => self.store.open_incidents()?,
            Some(Subject::Incident(id)) => {
                vec![Incidents::incident(&*self.store, id)?.ok_or(Refusal::NoSuchIncident(id))?]
            }
            Some(Subject::Release(id)) => {
                let release = self.get(id)?;
                let id = release.incident.ok_or(Refusal::NoOpenIncident {
                    subject: id.to_string(),
                    resolved: None,
                })?;
                vec![Incidents::incident(&*self.store, id)?.ok_or(Refusal::NoSuchIncident(id))?]
            }
        };
        let due = incidents
            .iter()
            .map(|i| i.update_due(self.config.incidents.cadence(i.severity)))
            .collect();
        Ok(Reply::view(View::Incidents(IncidentsView {
            incidents,
            due,
            tz: self.config.timezone,
            listing: subject.is_none(),
        })))
    }

    /// Reminds each open incident's lead whose update is due (once per due
    /// time); the lines posted.
    pub fn nudge_incident_leads(&self, now: DateTime<Utc>) -> EngineResult<Vec<Text>> {
        let mut lines = Vec::new();
        for incident in self.store.open_incidents()? {
            let every = self.config.incidents.cadence(incident.severity);
            if !incident.needs_nudge(every, now) {
                continue;
            }
            let line = self.commit(|tx| {
                let Some(mut incident) = tx.incident(incident.id)? else {
                    return Ok(None);
                };
                if !incident.needs_nudge(every, now) {
                    return Ok(None);
                }
                incident.nudged_at = Some(now);
                tx.put_incident(&incident)?;
                let minutes = (now - incident.last_word_at()).num_minutes();
                let line = Text::plain("⏰ ")
                    .ping(&incident.lead)
                    .say(format!(
                        ": {} ({}) is due an update; stakeholders last heard {minutes} min ago. ",
                        incident.id, incident.severity
                    ))
                    .code(format!("update {} \"…\"", incident.id));
                self.tell_engineering(tx, &incident, line.clone())?;
                Ok(Some(line))
            })?;
            lines.extend(line);
        }
        Ok(lines)
    }
}
