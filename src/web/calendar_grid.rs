//! The calendar's grid: per environment, one row per day and one cell per
//! hour, shaded where the deploy windows are open and hatched where a
//! freeze holds, with the same in words beside it (colour is never the
//! only signal) and the releases booked that day.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::calendar::Freeze;
use crate::view::CalendarLane;

/// What an hour is, for deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hour {
    Open,
    Closed,
    Frozen,
}

impl Hour {
    /// Its word, which is also its CSS class.
    pub(super) fn class(self) -> &'static str {
        match self {
            Hour::Open => "open",
            Hour::Closed => "closed",
            Hour::Frozen => "frozen",
        }
    }
}

/// One day of one environment.
pub(super) struct Day {
    /// `Mon 7 Dec`.
    pub label: String,
    pub hours: Vec<Hour>,
    /// `open 09:00–16:00, frozen 16:00–24:00`.
    pub summary: String,
    /// Releases booked that day: id and local time.
    pub booked: Vec<(String, String)>,
}

/// The days from `from` to `to` (exclusive), read in `tz`.
pub(super) fn days(
    lane: &CalendarLane,
    from: &DateTime<Utc>,
    to: &DateTime<Utc>,
    tz: &Tz,
) -> Vec<Day> {
    let (from, to, tz) = (*from, *to, *tz);
    let first = from.with_timezone(&tz).date_naive();
    let last = (to - Duration::seconds(1)).with_timezone(&tz).date_naive();
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .take(62)
        .map(|date| day(lane, date, tz))
        .collect()
}

fn day(lane: &CalendarLane, date: NaiveDate, tz: Tz) -> Day {
    let hours: Vec<Hour> = (0..24)
        .map(|h| {
            let middle = date.and_hms_opt(h, 30, 0).expect("a valid hour");
            match tz.from_local_datetime(&middle).earliest() {
                Some(at) => hour(lane, at.with_timezone(&Utc)),
                // The hour a clock change skips.
                None => Hour::Closed,
            }
        })
        .collect();
    let booked = lane
        .releases
        .iter()
        .filter_map(|r| {
            let at = r.scheduled_at?.with_timezone(&tz);
            (at.date_naive() == date).then(|| (r.id.to_string(), at.format("%H:%M").to_string()))
        })
        .collect();
    Day {
        label: date.format("%a %-d %b").to_string(),
        summary: summary(&hours),
        hours,
        booked,
    }
}

fn hour(lane: &CalendarLane, at: DateTime<Utc>) -> Hour {
    if frozen(&lane.freezes, at) {
        Hour::Frozen
    } else if lane.windows.is_empty()
        || lane
            .windows
            .iter()
            .any(|w| w.contains(at, lane.window_timezone))
    {
        Hour::Open
    } else {
        Hour::Closed
    }
}

fn frozen(freezes: &[Freeze], at: DateTime<Utc>) -> bool {
    freezes.iter().any(|f| f.start <= at && at < f.end)
}

/// Runs of open and frozen hours, in words; closed hours go unnamed.
fn summary(hours: &[Hour]) -> String {
    let mut runs: Vec<String> = Vec::new();
    let mut start = 0;
    for end in 1..=hours.len() {
        if end == hours.len() || hours[end] != hours[start] {
            if hours[start] != Hour::Closed {
                runs.push(format!(
                    "{} {:02}:00–{:02}:00",
                    hours[start].class(),
                    start,
                    end
                ));
            }
            start = end;
        }
    }
    if runs.is_empty() {
        "closed all day".to_string()
    } else {
        runs.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::WeeklySpan;
    use crate::domain::ids::{Name, UserRef};

    fn lane(windows: &[&str], freezes: Vec<Freeze>) -> CalendarLane {
        CalendarLane {
            environment: Name::parse("production").unwrap(),
            windows: windows
                .iter()
                .map(|w| WeeklySpan::parse(w).unwrap())
                .collect(),
            window_timezone: chrono_tz::Europe::Berlin,
            freezes,
            releases: Vec::new(),
        }
    }

    #[test]
    fn hours_are_open_in_windows_and_frozen_under_a_freeze_in_the_viewers_zone() {
        let utc = |d, h| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        let freeze = Freeze {
            id: 1,
            environment: Name::parse("production").unwrap(),
            start: utc(8, 14),
            end: utc(9, 0),
            reason: "launch".into(),
            by: UserRef::parse("shell:bob").unwrap(),
            created_at: utc(1, 0),
        };
        // Windows in Berlin (UTC+1), read in UTC.
        let lane = lane(&["MON-THU 09:00-16:00"], vec![freeze]);
        let days = days(&lane, &utc(7, 0), &utc(10, 0), &chrono_tz::UTC);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].label, "Mon 7 Dec");
        assert_eq!(days[0].summary, "open 08:00–15:00");
        assert_eq!(days[0].hours[8], Hour::Open);
        assert_eq!(days[0].hours[15], Hour::Closed);
        assert_eq!(days[1].summary, "open 08:00–14:00, frozen 14:00–24:00");
        assert_eq!(days[2].summary, "open 08:00–15:00");
        let any_time = super::tests::lane(&[], Vec::new());
        let sunday = days_of(&any_time, utc(13, 0));
        assert_eq!(sunday, "open 00:00–24:00");
        let closed = super::tests::lane(&["MON 09:00-10:00"], Vec::new());
        assert_eq!(days_of(&closed, utc(13, 0)), "closed all day");
    }

    fn days_of(lane: &CalendarLane, from: DateTime<Utc>) -> String {
        days(lane, &from, &(from + Duration::days(1)), &chrono_tz::UTC)[0]
            .summary
            .clone()
    }
}
