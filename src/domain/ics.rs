//! The release calendar as iCalendar (RFC 5545), for Google Calendar and
//! Outlook subscriptions: stable UIDs, SEQUENCE rising with every change,
//! cancelled releases as STATUS:CANCELLED, freezes as transparent events.

use chrono::{DateTime, Utc};

use super::calendar::Freeze;
use super::release::{Release, ReleaseStatus};

const CRLF: &str = "\r\n";

/// Escapes TEXT values (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets, never inside a UTF-8 character (§3.1).
fn fold(line: &str, out: &mut String) {
    if line.len() <= 75 {
        out.push_str(line);
        out.push_str(CRLF);
        return;
    }
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str(CRLF);
            out.push(' ');
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str(CRLF);
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Builds the feed. `name` labels the calendar in the subscriber's app.
pub fn feed(name: &str, releases: &[Release], freezes: &[Freeze], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |text: String| fold(&text, &mut out);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//releasebot//release calendar//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", escape(name)));
    for release in releases {
        release_event(release, now, &mut line);
    }
    for freeze in freezes {
        freeze_event(freeze, now, &mut line);
    }
    line("END:VCALENDAR".into());
    out
}

/// A scheduled release as an event (nothing for one without a time).
fn release_event(release: &Release, now: DateTime<Utc>, line: &mut impl FnMut(String)) {
    let Some(start) = release.scheduled_at else {
        return;
    };
    let status = match release.status {
        ReleaseStatus::Cancelled | ReleaseStatus::Rejected => "CANCELLED",
        ReleaseStatus::Requested => "TENTATIVE",
        _ => "CONFIRMED",
    };
    // The store raises the revision with every change, so two changes in
    // one second, or a clock stepped back, still raise the SEQUENCE.
    let sequence = release.revision;
    line("BEGIN:VEVENT".into());
    line(format!("UID:{}@releasebot", release.id));
    line(format!("DTSTAMP:{}", stamp(now)));
    line(format!("DTSTART:{}", stamp(start)));
    line("DURATION:PT30M".into());
    line(format!("SEQUENCE:{sequence}"));
    line(format!("LAST-MODIFIED:{}", stamp(release.updated_at)));
    line(format!(
        "SUMMARY:{}",
        escape(&format!(
            "{} {} ({})",
            release.id,
            release.title(),
            release.status
        ))
    ));
    let mut description = format!(
        "Requested by {}. Priority {}.",
        release.requester,
        release.priority.as_str()
    );
    if let Some(notes) = &release.notes {
        description.push_str(&format!("\n{notes}"));
    }
    line(format!("DESCRIPTION:{}", escape(&description)));
    line(format!(
        "CATEGORIES:{}",
        escape(release.environment.as_str())
    ));
    line(format!("STATUS:{status}"));
    line("END:VEVENT".into());
}

/// A freeze as a transparent event.
fn freeze_event(freeze: &Freeze, now: DateTime<Utc>, line: &mut impl FnMut(String)) {
    line("BEGIN:VEVENT".into());
    line(format!(
        "UID:{}-{}@releasebot",
        freeze.label(),
        freeze.environment
    ));
    line(format!("DTSTAMP:{}", stamp(now)));
    line(format!("DTSTART:{}", stamp(freeze.start)));
    line(format!("DTEND:{}", stamp(freeze.end)));
    // A freeze never changes; it is made or lifted.
    line("SEQUENCE:0".into());
    line(format!(
        "SUMMARY:{}",
        escape(&format!(
            "🧊 {} freeze: {}",
            freeze.environment, freeze.reason
        ))
    ));
    line(format!(
        "CATEGORIES:{}",
        escape(freeze.environment.as_str())
    ));
    line("TRANSP:TRANSPARENT".into());
    line("STATUS:CONFIRMED".into());
    line("END:VEVENT".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_on_character_boundaries() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "é".repeat(60)), &mut out);
        for physical in out.split(CRLF).filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        assert_eq!(
            out.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "é".repeat(60))
        );
    }
}
