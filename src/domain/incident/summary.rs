//! The post-incident summary, in Markdown: what happened when, who did
//! what, how long service took to come back, what the bad deploy changed,
//! and a postmortem skeleton to fill in.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Incident;
use crate::domain::ids::UserRef;
use crate::domain::text::Text;
use crate::domain::when::format_local;

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub at: DateTime<Utc>,
    pub by: Option<UserRef>,
    /// What they did (`rollback`, `incident update`).
    pub action: String,
    /// The rest (`R-3: to 2.3.0 (job R-3-rollback-1): errors`).
    pub detail: String,
}

/// `42 min`, `3 h 05 min`, `2 d 4 h`.
pub fn span(duration: chrono::Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {:02} min", m / 60, m % 60),
        m => format!("{} d {} h", m / (24 * 60), (m / 60) % 24),
    }
}

/// The summary `resolve` posts. `timeline` is in time order; `changes` is
/// the bad deploy's change list (or why there is none).
pub fn postmortem(
    incident: &Incident,
    timeline: &[Moment],
    began_at: DateTime<Utc>,
    restored_at: Option<DateTime<Utc>>,
    changes: &str,
    tz: Tz,
) -> Text {
    let mut t = Text::plain(format!(
        "## {} {} resolved: {} ({})\n",
        incident.severity.emoji(),
        incident.id,
        incident.target(),
        incident.severity
    ));
    let resolution = incident
        .events
        .iter()
        .rev()
        .find(|e| e.kind == super::EventKind::Resolved)
        .map_or("", |e| e.text.as_str());
    t = t
        .say(format!(
            "**What happened:** {}\n**Resolution:** {resolution}\n**Lead:** ",
            incident.summary
        ))
        .person(&incident.lead)
        .say(format!(
            " · **Opened** {} · **Resolved** {}\n",
            format_local(incident.opened_at, tz),
            incident
                .resolved_at
                .map_or("-".to_string(), |at| format_local(at, tz))
        ));
    let restore = match restored_at.or(incident.resolved_at) {
        Some(at) => format!(
            "{} (from {} to {}{})",
            span(at - began_at),
            format_local(began_at, tz),
            format_local(at, tz),
            if restored_at.is_some() {
                ""
            } else {
                ", when it was resolved: no rollback or fix deploy was recorded"
            }
        ),
        None => "not restored".to_string(),
    };
    let _ = writeln!(t, "**Time to restore:** {restore}");
    if let Some(cause) = &incident.cause {
        let _ = writeln!(
            t,
            "**Cause:** {} {} {}{}",
            cause.release,
            incident.service,
            cause.version,
            cause
                .previous
                .as_ref()
                .map(|p| format!(" (replacing {p})"))
                .unwrap_or_default()
        );
    }
    t = timeline_of(t, timeline, tz);
    t.say(format!(
        "\n### What changed in the bad deploy\n{changes}\n\n### Postmortem\n\
         **Impact:** _who was affected, how, for how long_\n\
         **Root cause:** _why it broke, and why it was not caught before {}_\n\
         **Follow-ups:**\n- [ ] _owner: action_\n",
        incident.environment
    ))
}

/// The timeline, then who did what.
fn timeline_of(mut t: Text, timeline: &[Moment], tz: Tz) -> Text {
    t = t.say("\n### Timeline\n");
    for moment in timeline {
        t = t.say(format!(
            "- {} ",
            moment.at.with_timezone(&tz).format("%Y-%m-%d %H:%M")
        ));
        if let Some(by) = &moment.by {
            t = t.person(by).say(" ");
        }
        t = t.say(format!("{}: {}\n", moment.action, moment.detail));
    }
    t = t.say("\n### Who did what\n");
    let mut by_person: BTreeMap<&UserRef, Vec<&str>> = BTreeMap::new();
    for moment in timeline {
        if let Some(by) = &moment.by {
            let verbs = by_person.entry(by).or_default();
            if !verbs.contains(&moment.action.as_str()) {
                verbs.push(&moment.action);
            }
        }
    }
    for (person, verbs) in by_person {
        t = t
            .say("- ")
            .person(person)
            .say(format!(": {}\n", verbs.join(", ")));
    }
    t
}
