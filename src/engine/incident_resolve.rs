//! `resolve`: ends an incident, unlocks deploys there, and posts the
//! post-incident summary, built from the audit log of the release it was
//! put down to and of its fixes.

use chrono::{DateTime, Utc};

use crate::domain::command::Subject;
use crate::domain::ids::UserRef;
use crate::domain::incident::{postmortem, EventKind, Incident, Moment};
use crate::domain::release::Release;
use crate::domain::text::Text;
use crate::store::prelude::*;

use super::incidents::IncidentStep;
use super::{Engine, EngineResult, Reply};

/// The audit entries a timeline shows: what changed what ran, and the
/// incident's own steps (approvals and checklist ticks stay in `history`).
const TIMELINE: &[&str] = &[
    "request",
    "deploy",
    "rollback",
    "ci_succeeded",
    "ci_failed",
    "incident_open",
    "incident_lead",
    "incident_update",
    "incident_resolve",
];

/// The releases an incident involved (its cause and its fixes) and the
/// audit trail the summary's timeline reads.
struct Record {
    releases: Vec<Release>,
    timeline: Vec<Moment>,
    /// What the deploy it was put down to changed (read before the
    /// transaction: a store read inside one would wait for it).
    changes: String,
}

impl Engine {
    pub(crate) fn resolve_incident(
        &self,
        user: &UserRef,
        subject: Subject,
        summary: &str,
    ) -> EngineResult<Reply> {
        // Read before the transaction; the transaction refuses a subject
        // with no open incident, so a missing one here reads as nothing.
        let record = match self.peek_incident(subject)? {
            Some(incident) => self.record_of(&incident)?,
            None => Record {
                releases: Vec::new(),
                timeline: Vec::new(),
                changes: String::new(),
            },
        };
        let incident = self.incident_step(user, subject, |incident, now| {
            incident.resolved_at = Some(now);
            incident.push(now, user, EventKind::Resolved, summary.to_string());
            Ok(IncidentStep {
                action: "incident_resolve",
                detail: format!("{}: {summary}", incident.id),
                line: self.summary_of(incident, &record, user, now),
                kind: Some("resolution"),
            })
        })?;
        let now = incident.resolved_at.unwrap_or_else(|| self.clock.now());
        let text = self.summary_of(&incident, &record, user, now);
        Ok(Reply::new(
            Text::plain(format!(
                "✅ {} resolved; deploys of {} are unlocked.\n\n",
                incident.id,
                incident.target()
            ))
            .then(text),
        ))
    }

    fn peek_incident(&self, subject: Subject) -> EngineResult<Option<Incident>> {
        let id = match subject {
            Subject::Incident(id) => Some(id),
            Subject::Release(id) => self.store.release(id)?.and_then(|r| r.incident),
        };
        Ok(match id {
            Some(id) => Incidents::incident(&*self.store, id)?,
            None => None,
        })
    }

    fn record_of(&self, incident: &Incident) -> EngineResult<Record> {
        let mut ids: Vec<_> = incident.events.iter().filter_map(|e| e.release).collect();
        ids.extend(incident.cause.as_ref().map(|c| c.release));
        ids.sort();
        ids.dedup();
        let mut releases = Vec::new();
        let mut timeline = Vec::new();
        for id in ids {
            let Some(release) = self.store.release(id)? else {
                continue;
            };
            // The cause's trail from the deploy that went bad; a fix's whole.
            let since = match &incident.cause {
                Some(cause) if cause.release == id => bad_deploy_start(&release, incident),
                _ => DateTime::<Utc>::MIN_UTC,
            };
            for entry in self.store.audit_for(id)? {
                if entry.at >= since && TIMELINE.contains(&entry.action.as_str()) {
                    timeline.push(Moment {
                        at: entry.at,
                        by: Some(entry.actor),
                        action: entry.action.replace('_', " "),
                        detail: match entry.detail.as_str() {
                            "" => id.to_string(),
                            detail => format!("{id}: {detail}"),
                        },
                    });
                }
            }
            releases.push(release);
        }
        if incident.cause.is_none() {
            timeline.extend(incident.events.iter().map(|e| Moment {
                at: e.at,
                by: Some(e.by.clone()),
                action: format!("incident {:?}", e.kind).to_lowercase(),
                detail: format!("{}: {}", incident.id, e.text),
            }));
        }
        let changes = self.bad_changes(incident, &releases);
        Ok(Record {
            releases,
            timeline,
            changes,
        })
    }

    fn summary_of(
        &self,
        incident: &Incident,
        record: &Record,
        user: &UserRef,
        now: DateTime<Utc>,
    ) -> Text {
        let mut timeline = record.timeline.clone();
        timeline.push(Moment {
            at: now,
            by: Some(user.clone()),
            action: "incident resolve".into(),
            detail: format!(
                "{}: {}",
                incident.id,
                incident.events.last().map_or("", |e| &e.text)
            ),
        });
        timeline.sort_by_key(|m| m.at);
        postmortem(
            incident,
            &timeline,
            incident.began_at(&record.releases),
            incident.restored_at(&record.releases),
            &record.changes,
            self.timezone_of(&incident.environment),
        )
    }

    /// What the deploy the incident was put down to changed.
    fn bad_changes(&self, incident: &Incident, releases: &[Release]) -> String {
        let Some(cause) = &incident.cause else {
            return "No deploy was named as the cause.".to_string();
        };
        let range = match &cause.previous {
            Some(previous) => format!("{previous}..{}", cause.version),
            None => cause.version.to_string(),
        };
        let release = releases.iter().find(|r| r.id == cause.release);
        let notes = release
            .and_then(|r| r.notes.clone())
            .map(|n| format!("\nThe request said: {n}"))
            .unwrap_or_default();
        // From the code, where its range's notes are kept.
        let code = match release.and_then(|r| r.changes.as_ref()) {
            Some(changes) => match self.kept_notes(&changes.key).ok().flatten() {
                Some(kept) => format!("\n\n{}", kept.markdown()),
                None => format!("\nChanges: {}", changes.line()),
            },
            None => String::new(),
        };
        format!(
            "{} {} ({range}).{notes}{code}",
            cause.release, incident.service
        )
    }
}

/// When the cause's last deploy before the incident began.
fn bad_deploy_start(release: &Release, incident: &Incident) -> DateTime<Utc> {
    release
        .deployments
        .iter()
        .filter(|d| d.action == crate::domain::release::DeployAction::Deploy)
        .filter(|d| d.started_at <= incident.opened_at)
        .map(|d| d.started_at)
        .next_back()
        .unwrap_or(incident.opened_at)
}
