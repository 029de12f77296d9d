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
            s.change_failure_rate().map_or("–".into(), percent),
            median(&s.restore_times).map_or("–".into(), hours)
        )
    };
    let mut out = format!(
        "Stats for {}, the last {} days (medians; trend by week, oldest first):",
        view.scope, view.days
    );
    if view.per_service.is_empty() {
        out.push_str(" no deploys.");
        return out;
    }
    dora(&mut out, view, weeks);
    for (service, s) in &view.per_service {
        let _ = write!(out, "\n{}", line(service, s));
    }
    out
}

fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// DORA's five metrics over the whole scope, each with its weekly trend.
fn dora(out: &mut String, view: &StatsView, weeks: f64) {
    let all = &view.overall;
    let minutes = |d: Duration| d.num_minutes() as f64;
    let rows: [(&str, String, Vec<Option<f64>>); 5] = [
        (
            "deployment frequency",
            format!(
                "{} deploys ({:.1}/week)",
                all.deploys,
                f64::from(all.deploys) / weeks
            ),
            view.trend
                .iter()
                .map(|w| Some(f64::from(w.deploys)))
                .collect(),
        ),
        (
            "change lead time",
            median(&all.lead_times).map_or("–".into(), |d| {
                let from = match (all.from_commit, all.lead_times.len() as u32) {
                    (0, _) => "from request".to_string(),
                    (c, n) if c == n => "from first commit".to_string(),
                    (c, n) => format!("from first commit for {c} of {n}"),
                };
                format!("{} ({from})", hours(d))
            }),
            view.trend
                .iter()
                .map(|w| median(&w.lead_times).map(minutes))
                .collect(),
        ),
        (
            "change fail rate",
            all.change_failure_rate().map_or("–".into(), percent),
            view.trend
                .iter()
                .map(ServiceStats::change_failure_rate)
                .collect(),
        ),
        (
            "recovery time",
            median(&all.restore_times).map_or("–".into(), hours),
            view.trend
                .iter()
                .map(|w| median(&w.restore_times).map(minutes))
                .collect(),
        ),
        (
            "rework rate",
            all.rework_rate().map_or("–".into(), percent),
            view.trend.iter().map(ServiceStats::rework_rate).collect(),
        ),
    ];
    for (name, value, trend) in rows {
        let _ = write!(out, "\n{name:<21} {value:<32} {}", sparkline(&trend));
    }
}

/// `▁▃█ ▂`: each week's value against the highest; a space for a week
/// without one.
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let top = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|value| match value {
            None => ' ',
            Some(_) if top <= 0.0 => BARS[0],
            Some(v) => BARS[((v / top) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}
