//! Stats as text.

use std::fmt::Write;

use chrono::Duration;

use crate::domain::stats::{median, ServiceStats};

use super::StatsView;

fn hours(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes < 120 {
        format!("{minutes} min")
    } else {
        format!("{:.1} h", minutes as f64 / 60.0)
    }
}

pub(super) fn stats(view: &StatsView) -> String {
    let weeks = view.days as f64 / 7.0;
    let line = |name: &str, s: &ServiceStats| {
        format!(
            "{name:<12} {:>3} deploys ({:.1}/week) · lead time {} · change failure rate {} · time to restore {}",
            s.deploys,
            f64::from(s.deploys) / weeks,
            median(&s.lead_times).map_or("–".into(), hours),
            s.change_failure_rate().map_or("–".into(), |r| format!("{:.0}%", r * 100.0)),
            median(&s.restore_times).map_or("–".into(), hours)
        )
    };
    let mut out = format!("Stats for the last {} days (medians):", view.days);
    if view.per_service.is_empty() {
        out.push_str(" no deploys.");
        return out;
    }
    for (service, s) in &view.per_service {
        let _ = write!(out, "\n{}", line(service, s));
    }
    let _ = write!(out, "\n{}", line("all", &view.overall));
    out
}
