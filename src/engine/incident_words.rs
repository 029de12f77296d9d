//! How an incident's steps are told: the audit entry (on the release it
//! was put down to), a line in that release's thread (or, with no such
//! release, a post in the service's channels), and each audience with a
//! template for the step its own words (`[audiences.*]`).

use crate::domain::ids::UserRef;
use crate::domain::incident::Incident;
use crate::domain::outbox::Digest;
use crate::domain::text::Text;
use crate::domain::when::format_local;
use crate::store::{AuditDraft, Tx, TxResult};

use super::incidents::IncidentStep;
use super::Engine;

/// What a severity means to people outside engineering.
fn impact(incident: &Incident) -> &'static str {
    match incident.severity {
        crate::domain::incident::Severity::Sev1 => "a major outage",
        crate::domain::incident::Severity::Sev2 => "a partial outage or degraded service",
        crate::domain::incident::Severity::Sev3 => "a minor problem",
    }
}

impl Engine {
    /// Records and tells one step.
    pub(super) fn note_incident_step(
        &self,
        tx: &Tx<'_>,
        incident: &Incident,
        user: &UserRef,
        step: IncidentStep,
    ) -> TxResult<()> {
        tx.audit(AuditDraft {
            at: self.clock.now(),
            actor: user.clone(),
            action: step.action.to_string(),
            release: incident.cause.as_ref().map(|c| c.release),
            before: None,
            after: None,
            detail: step.detail,
        })?;
        self.tell_engineering(tx, incident, step.line)?;
        match step.kind {
            Some(kind) => self.tell_audiences(tx, incident, kind),
            None => Ok(()),
        }
    }

    /// A line in the cause's thread, or the service's channels.
    pub(super) fn tell_engineering(
        &self,
        tx: &Tx<'_>,
        incident: &Incident,
        line: Text,
    ) -> TxResult<()> {
        let cause = match &incident.cause {
            Some(cause) => tx.release(cause.release)?,
            None => None,
        };
        match cause {
            Some(cause) => {
                let directory = self.directory_in(tx)?;
                self.announce_line(tx, &directory, &cause, line)
            }
            None => {
                let channels = self
                    .config
                    .channels_for(&incident.service, &incident.environment);
                for channel in channels {
                    tx.post_digest(&Digest {
                        channel,
                        text: line.clone(),
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Each audience with a `kind` template, in its channels.
    pub(super) fn tell_audiences(
        &self,
        tx: &Tx<'_>,
        incident: &Incident,
        kind: &'static str,
    ) -> TxResult<()> {
        for audience in self.config.audiences.values() {
            let Some(template) = audience.templates.get(kind) else {
                continue;
            };
            let text = Text::plain(template.render(&|name| self.incident_value(incident, name)));
            for channel in &audience.channels {
                tx.post_digest(&Digest {
                    channel: channel.clone(),
                    text: text.clone(),
                })?;
            }
        }
        Ok(())
    }

    /// An incident's value for a template placeholder.
    pub(super) fn incident_value(&self, incident: &Incident, name: &str) -> Option<String> {
        let tz = self.timezone_of(&incident.environment);
        let every = self.config.incidents.cadence(incident.severity);
        match name {
            "incident" => Some(incident.id.to_string()),
            "service" => Some(incident.service.to_string()),
            "environment" => Some(incident.environment.to_string()),
            "version" => incident.cause.as_ref().map(|c| c.version.to_string()),
            "release" => incident.cause.as_ref().map(|c| c.release.to_string()),
            "severity" => Some(incident.severity.to_string()),
            "lead" => Some(incident.lead.local().to_string()),
            "status" => Some(
                if incident.is_open() {
                    "open"
                } else {
                    "resolved"
                }
                .into(),
            ),
            "summary" => Some(incident.summary.clone()),
            "impact" => Some(impact(incident).to_string()),
            "update" => incident.latest_update().map(|e| e.text.clone()),
            "resolution" => incident
                .events
                .iter()
                .rfind(|e| e.kind == crate::domain::incident::EventKind::Resolved)
                .map(|e| e.text.clone()),
            "next_update" => incident.update_due(every).map(|at| format_local(at, tz)),
            _ => None,
        }
    }
}
