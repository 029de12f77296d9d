//! Dates and times as people type them (`2026-12-01 14:00`, `tomorrow 09:30`),
//! resolved to UTC in an environment's timezone.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    On(NaiveDate),
    Today,
    Tomorrow,
}

impl Day {
    /// The calendar date meant, with `today` read in `tz`.
    pub fn date_in(self, tz: Tz, now: DateTime<Utc>) -> NaiveDate {
        let today = now.with_timezone(&tz).date_naive();
        match self {
            Day::On(date) => date,
            Day::Today => today,
            Day::Tomorrow => today.succ_opt().unwrap_or(today),
        }
    }
}

/// A wall-clock time on a day, not yet placed in a timezone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub day: Day,
    pub time: NaiveTime,
}

/// The years a typed date may name. Every date and time a person types is
/// within them, so the calendar arithmetic done on it (weeks, months,
/// windows, freezes) stays far inside what chrono can represent.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// How far ahead a deploy time may be asked for.
pub const HORIZON_YEARS: i32 = 10;

/// Why typed text is not a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayError {
    NotADate,
    OutOfRange,
}

impl DayError {
    /// The words for the error, given the words for "not a date".
    pub fn message(self, text: &str, not_a_date: impl FnOnce() -> String) -> String {
        match self {
            DayError::NotADate => not_a_date(),
            DayError::OutOfRange => format!(
                "`{text}` is out of range: dates go from {}-01-01 to {}-12-31.",
                YEARS.start(),
                YEARS.end()
            ),
        }
    }
}

impl When {
    pub fn parse_day(text: &str) -> Option<Day> {
        Self::read_day(text).ok()
    }

    /// A day as typed: `today`, `tomorrow` or `YYYY-MM-DD` within `YEARS`.
    pub fn read_day(text: &str) -> Result<Day, DayError> {
        match text.to_ascii_lowercase().as_str() {
            "today" => Ok(Day::Today),
            "tomorrow" => Ok(Day::Tomorrow),
            _ => {
                let date =
                    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| DayError::NotADate)?;
                if YEARS.contains(&date.year()) {
                    Ok(Day::On(date))
                } else {
                    Err(DayError::OutOfRange)
                }
            }
        }
    }

    pub fn parse_time(text: &str) -> Option<NaiveTime> {
        let (hours, minutes) = text.split_once(':')?;
        let valid = (1..=2).contains(&hours.len())
            && minutes.len() == 2
            && hours
                .bytes()
                .chain(minutes.bytes())
                .all(|b| b.is_ascii_digit());
        if !valid {
            return None;
        }
        NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
    }

    /// Places the time in `tz`, refusing times that are gone or that a
    /// clock change skips.
    pub fn resolve(&self, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refusal> {
        let local = self.day.date_in(tz, now).and_time(self.time);
        let at = match tz.from_local_datetime(&local) {
            LocalResult::Single(at) => at,
            // On a fall-back day the hour happens twice; take the first.
            LocalResult::Ambiguous(first, _) => first,
            LocalResult::None => return Err(Refusal::SkippedTime { local, tz }),
        }
        .with_timezone(&Utc);
        let horizon = now
            .with_timezone(&tz)
            .date_naive()
            .with_year(now.year().saturating_add(HORIZON_YEARS))
            .unwrap_or(NaiveDate::MAX);
        if local.date() > horizon {
            return Err(Refusal::TooFarAhead {
                local,
                years: HORIZON_YEARS,
                horizon,
            });
        }
        if at <= now {
            return Err(Refusal::InThePast { local, tz, now });
        }
        Ok(at)
    }
}

/// `2026-12-01 14:00 (Europe/Berlin)`
pub fn format_local(at: DateTime<Utc>, tz: Tz) -> String {
    format!("{} ({tz})", at.with_timezone(&tz).format("%Y-%m-%d %H:%M"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_berlin_time_is_stored_in_utc() {
        let when = When {
            day: When::parse_day("2026-12-01").unwrap(),
            time: When::parse_time("14:00").unwrap(),
        };
        let at = when.resolve(Berlin, now()).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap());
    }

    #[test]
    fn past_times_are_refused() {
        let when = When {
            day: Day::Today,
            time: When::parse_time("09:00").unwrap(),
        };
        assert!(matches!(
            when.resolve(Berlin, now()),
            Err(Refusal::InThePast { .. })
        ));
    }

    #[test]
    fn a_skipped_spring_forward_time_is_refused() {
        let when = When {
            day: When::parse_day("2027-03-28").unwrap(),
            time: When::parse_time("02:30").unwrap(),
        };
        assert!(matches!(
            when.resolve(Berlin, now()),
            Err(Refusal::SkippedTime { .. })
        ));
    }

    #[test]
    fn times_must_be_hours_and_minutes() {
        assert!(When::parse_time("14:00").is_some());
        assert!(When::parse_time("9:05").is_some());
        for bad in ["25:00", "14", "14:0", "1400", "14:60"] {
            assert!(When::parse_time(bad).is_none(), "{bad}");
        }
    }
}
