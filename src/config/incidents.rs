//! `[incidents]`: the severity a rollback opens its incident with, and how
//! often the lead owes stakeholders an update, per severity.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::Deserialize;

use super::validate::{within, Problems};
use crate::domain::incident::Severity;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncidents {
    /// `sev1`, `sev2` (default) or `sev3`.
    pub rollback_severity: Option<String>,
    /// Minutes between updates, by severity (`{ sev1 = 30 }`).
    #[serde(default)]
    pub update_minutes: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentPolicy {
    pub rollback_severity: Severity,
    /// How long after the last word the lead is nudged for an update.
    pub update_every: BTreeMap<Severity, Duration>,
}

impl IncidentPolicy {
    pub fn cadence(&self, severity: Severity) -> Duration {
        self.update_every[&severity]
    }
}

impl Default for IncidentPolicy {
    /// sev1 every 30 minutes, sev2 every hour, sev3 every four hours.
    fn default() -> Self {
        IncidentPolicy {
            rollback_severity: Severity::Sev2,
            update_every: [
                (Severity::Sev1, Duration::minutes(30)),
                (Severity::Sev2, Duration::minutes(60)),
                (Severity::Sev3, Duration::minutes(240)),
            ]
            .into(),
        }
    }
}

pub(super) fn incidents(raw: &RawIncidents, problems: &mut Problems<'_>) -> IncidentPolicy {
    let mut policy = IncidentPolicy::default();
    if let Some(text) = &raw.rollback_severity {
        match Severity::parse(text) {
            Some(severity) => policy.rollback_severity = severity,
            None => problems.add(
                &["incidents", "rollback_severity"],
                format!("`{text}` is not a severity; use sev1, sev2 or sev3"),
            ),
        }
    }
    for (name, minutes) in &raw.update_minutes {
        let path = ["incidents", "update_minutes", name.as_str()];
        let Some(severity) = Severity::parse(name) else {
            problems.add(&path, "not a severity; use sev1, sev2 or sev3");
            continue;
        };
        if let Some(minutes) = within(*minutes, 5..=1_440, "minutes (a day)", &path, problems) {
            policy
                .update_every
                .insert(severity, Duration::minutes(i64::from(minutes)));
        }
    }
    policy
}
