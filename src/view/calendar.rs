//! The calendar as text: `calendar` and `freezes`.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::domain::calendar::weekday_name;
use crate::domain::text::{Span, Text};

use super::{CalendarView, FreezesView};

/// `Mon 12-07 14:00` in `tz`.
pub fn short(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{} {}",
        weekday_name(local.weekday()),
        local.format("%m-%d %H:%M")
    )
}

pub(super) fn freezes(view: &FreezesView) -> Text {
    let mut out = Text::plain("Freezes:");
    for (freeze, tz, now) in &view.freezes {
        let state = if *now { "now" } else { "ahead" };
        let _ = write!(
            out,
            "\n{} {} {}: {} → {} “{}” (by ",
            freeze.label(),
            freeze.environment,
            state,
            short(freeze.start, *tz),
            short(freeze.end, *tz),
            freeze.reason,
        );
        out.push_person(&freeze.by);
        out.push(Span::Plain(")".into()));
    }
    for weekly in &view.weekly {
        let _ = write!(
            out,
            "\nweekly {}: {} ({}) “{}”",
            weekly.environment, weekly.span, weekly.timezone, weekly.reason
        );
    }
    if view.freezes.is_empty() && view.weekly.is_empty() {
        let _ = write!(out, " none.");
    }
    out
}

pub(super) fn calendar(view: &CalendarView) -> Text {
    let tz = view.timezone;
    let mut out = Text::plain(format!("Calendar, {} ({tz}):", view.title));
    let busy = |lane: &&super::CalendarLane| !(lane.releases.is_empty() && lane.freezes.is_empty());
    if !view.environments.iter().any(|lane| busy(&lane)) {
        let _ = write!(out, " nothing scheduled.");
    }
    for lane in view.environments.iter().filter(busy) {
        let _ = write!(out, "\n{}", lane.environment);
        for freeze in &lane.freezes {
            let _ = write!(
                out,
                "\n  🧊 {} → {}  {} {}",
                short(freeze.start, tz),
                short(freeze.end, tz),
                freeze.label(),
                freeze.reason
            );
        }
        for release in &lane.releases {
            let at = release
                .scheduled_at
                .map(|a| short(a, tz))
                .unwrap_or_default();
            let _ = write!(
                out,
                "\n  {at}  {:<6} {} {:<10} {:<11} ",
                release.id.to_string(),
                release.service,
                release.version.as_str(),
                release.status.as_str(),
            );
            out.push_person(&release.requester);
            let _ = write!(out, " ({})", release.priority.as_str());
        }
    }
    out
}
