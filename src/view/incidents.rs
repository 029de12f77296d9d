//! `incident`: the open incidents, or one with its steps.

use crate::domain::incident::Incident;
use crate::domain::text::Text;
use crate::domain::when::format_local;

use super::IncidentsView;

pub(super) fn incidents(view: &IncidentsView) -> Text {
    if view.listing && view.incidents.is_empty() {
        return Text::plain("No open incidents. 🌤️");
    }
    let mut lines = Vec::new();
    for (incident, due) in view.incidents.iter().zip(&view.due) {
        lines.push(headline(incident, due, view));
        if !view.listing {
            lines.extend(steps(incident, view));
        }
    }
    Text::join_lines(lines)
}

fn headline(
    incident: &Incident,
    due: &Option<chrono::DateTime<chrono::Utc>>,
    view: &IncidentsView,
) -> Text {
    let state = match incident.resolved_at {
        Some(at) => format!("resolved {}", format_local(at, view.tz)),
        None => format!("open since {}", format_local(incident.opened_at, view.tz)),
    };
    let cause = incident
        .cause
        .as_ref()
        .map(|c| format!(" · cause {} {}", c.release, c.version))
        .unwrap_or_default();
    let next = due
        .map(|at| format!(" · next update due {}", format_local(at, view.tz)))
        .unwrap_or_default();
    Text::plain(format!(
        "{} {} {} ({}): {} — {state}{cause} · lead ",
        incident.severity.emoji(),
        incident.id,
        incident.target(),
        incident.severity,
        incident.summary
    ))
    .person(&incident.lead)
    .say(next)
}

fn steps(incident: &Incident, view: &IncidentsView) -> Vec<Text> {
    let mut lines: Vec<Text> = incident
        .events
        .iter()
        .map(|e| {
            Text::plain(format!(
                "  {} {:?} by ",
                e.at.with_timezone(&view.tz).format("%Y-%m-%d %H:%M"),
                e.kind
            ))
            .person(&e.by)
            .say(format!(": {}", e.text))
        })
        .collect();
    let held: Vec<String> = incident
        .rolled_back
        .iter()
        .filter(|v| incident.holds_back(v))
        .map(|v| v.to_string())
        .collect();
    if !held.is_empty() {
        lines.push(Text::plain(format!(
            "  Held back (rolled back, not cleared): {}",
            held.join(", ")
        )));
    }
    lines
}
