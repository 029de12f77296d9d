//! Standard 5-field crontab lines (and `@daily`-style shortcuts), checked
//! field by field and translated for the `cron` crate, which wants a seconds
//! field and numbers weekdays 1–7 from Sunday (crontab: 0–6, 0 and 7 =
//! Sunday). Weekdays are handed over as names, so no number is ever shifted.
//!
//! The `cron` crate decides which wall-clock times match; this module maps
//! them onto real instants across clock changes the way Vixie cron and cronie
//! do (see `next_after`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

const FIELDS: [&str; 5] = ["minute", "hour", "day-of-month", "month", "day-of-week"];
const RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// What is wrong with a crontab line, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} field: {message}")]
pub struct CronError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Clone)]
pub struct CronSpec {
    text: String,
    /// One schedule, or two when both day fields are restricted: crontab
    /// fires when *either* day field matches, the `cron` crate when both do.
    schedules: Vec<cron::Schedule>,
    /// True when the minute or hour field has a wildcard or a step
    /// (`*/30 * * * *`, `0 * * * *`): such a job runs by real elapsed time
    /// through clock changes. Otherwise it is a fixed-time job.
    elapsed: bool,
}

/// How far before the asked instant's wall time the search starts: the
/// second pass of a repeated hour has wall times earlier than the first
/// pass's, and no zone repeats more than a few hours.
const FOLD_LOOKBACK: chrono::Duration = chrono::Duration::hours(3);
/// Matching wall times looked at per schedule before giving up; far more
/// than a dense line needs to get past a fold.
const SEARCH_LIMIT: usize = 10_000;

/// A real instant a matching wall time stands for.
enum Candidate {
    /// No later wall time can map to an earlier instant.
    Monotone(DateTime<Utc>),
    /// The second pass of a repeated wall time: later wall times' first
    /// passes can be earlier.
    SecondPass(DateTime<Utc>),
}

impl fmt::Debug for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSpec({:?})", self.text)
    }
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

fn shortcut(text: &str) -> Option<&'static str> {
    Some(match text {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

/// One value of a field: a number in range, or a month/day name.
fn value(field: usize, text: &str) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    let named = match field {
        3 => MONTHS
            .iter()
            .position(|m| *m == upper)
            .map(|i| i as u32 + 1),
        4 => DAYS.iter().position(|d| *d == upper).map(|i| i as u32),
        _ => None,
    };
    let (low, high) = RANGES[field];
    match named.or_else(|| text.parse::<u32>().ok()) {
        Some(n) if (low..=high).contains(&n) => Ok(n),
        Some(n) => Err(format!("{n} is out of range {low}–{high}")),
        None => Err(format!("`{text}` is not a number or name")),
    }
}

/// Expands a field into the set of values it matches.
fn expand(field: usize, text: &str) -> Result<BTreeSet<u32>, String> {
    let (low, high) = RANGES[field];
    let mut values = BTreeSet::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or(format!("`{step}` is not a step"))?;
                (range, step)
            }
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (low, if field == 4 { 6 } else { high }),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(field, a)?, value(field, b)?),
                None if step > 1 => (value(field, range)?, high),
                None => {
                    let v = value(field, range)?;
                    (v, v)
                }
            },
        };
        if from > to {
            return Err(format!("`{range}` runs backwards"));
        }
        values.extend((from..=to).step_by(step as usize));
    }
    Ok(values)
}

impl CronSpec {
    pub fn parse(text: &str) -> Result<CronSpec, CronError> {
        let trimmed = text.trim();
        let line = shortcut(trimmed).unwrap_or(trimmed);
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError {
                field: "line",
                message: format!("expected 5 fields (minute hour day-of-month month day-of-week) or @daily etc., found {}", fields.len()),
            });
        }
        let mut translated = vec!["0".to_string()];
        for (i, field) in fields.iter().enumerate() {
            let values = expand(i, field).map_err(|message| CronError {
                field: FIELDS[i],
                message,
            })?;
            translated.push(match i {
                4 if *field == "*" => "*".to_string(),
                4 => {
                    // 7 is Sunday too; names keep crontab's meaning exact.
                    let days: BTreeSet<u32> = values.iter().map(|d| d % 7).collect();
                    days.iter()
                        .map(|d| DAYS[*d as usize])
                        .collect::<Vec<_>>()
                        .join(",")
                }
                _ => field.to_string(),
            });
        }
        let build = |fields: &[String]| {
            cron::Schedule::from_str(&fields.join(" ")).map_err(|e| CronError {
                field: "line",
                message: e.to_string(),
            })
        };
        // translated: [sec, min, hour, day-of-month, month, day-of-week]
        let elapsed = fields[..2]
            .iter()
            .any(|f| f.contains('*') || f.contains('/'));
        let schedules = if fields[2] != "*" && fields[4] != "*" {
            let mut by_month_day = translated.clone();
            by_month_day[5] = "*".to_string();
            let mut by_week_day = translated;
            by_week_day[3] = "*".to_string();
            vec![build(&by_month_day)?, build(&by_week_day)?]
        } else {
            vec![build(&translated)?]
        };
        Ok(CronSpec {
            text: trimmed.to_string(),
            schedules,
            elapsed,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first instant strictly after `after` at which the line fires,
    /// reading it in `tz`. Clock changes follow Vixie cron and cronie:
    /// - a fixed-time job whose time a spring-forward skips runs once, right
    ///   after the jump (02:30 runs at 03:00 the new time);
    /// - a fixed-time job whose time a fall-back repeats runs once, at the
    ///   first pass;
    /// - a job with a wildcard or step in its minute or hour field runs by
    ///   real elapsed time: at every real minute whose wall time matches, so
    ///   both passes of a repeated hour, and no gap after a skipped one.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let offset = tz.offset_from_utc_datetime(&after.naive_utc()).fix();
        let wall = after.naive_utc().checked_add_offset(offset)?;
        let from = wall.checked_sub_signed(FOLD_LOOKBACK)?;
        self.schedules
            .iter()
            .filter_map(|schedule| self.first_in(schedule, from, after, tz))
            .min()
    }

    /// The earliest instant after `after` of one schedule, searching wall
    /// times from `from` on.
    fn first_in(
        &self,
        schedule: &cron::Schedule,
        from: NaiveDateTime,
        after: DateTime<Utc>,
        tz: Tz,
    ) -> Option<DateTime<Utc>> {
        let mut best: Option<DateTime<Utc>> = None;
        // The `cron` crate walks wall times on a clock without changes (UTC).
        for wall in schedule
            .after(&Utc.from_utc_datetime(&from))
            .take(SEARCH_LIMIT)
        {
            for candidate in self.instants(wall.naive_utc(), tz) {
                let (instant, monotone) = match candidate {
                    Candidate::Monotone(at) => (at, true),
                    Candidate::SecondPass(at) => (at, false),
                };
                if instant <= after {
                    continue;
                }
                best = Some(best.map_or(instant, |b| b.min(instant)));
                if monotone {
                    return best;
                }
            }
        }
        best
    }

    /// The instants a matching wall time stands for in `tz`.
    fn instants(&self, wall: NaiveDateTime, tz: Tz) -> Vec<Candidate> {
        match tz.from_local_datetime(&wall) {
            LocalResult::Single(at) => vec![Candidate::Monotone(at.with_timezone(&Utc))],
            LocalResult::Ambiguous(first, second) if self.elapsed => vec![
                Candidate::Monotone(first.with_timezone(&Utc)),
                Candidate::SecondPass(second.with_timezone(&Utc)),
            ],
            LocalResult::Ambiguous(first, _) => {
                vec![Candidate::Monotone(first.with_timezone(&Utc))]
            }
            LocalResult::None if self.elapsed => Vec::new(),
            LocalResult::None => gap_end(wall, tz)
                .map(Candidate::Monotone)
                .into_iter()
                .collect(),
        }
    }
}

/// The instant a spring-forward gap containing `wall` ends: the first wall
/// minute after it that exists. Gaps last an hour, rarely two, once a day.
fn gap_end(wall: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    let mut probe = wall;
    for _ in 0..=(26 * 60) {
        probe = probe.checked_add_signed(chrono::Duration::minutes(1))?;
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return Some(at.with_timezone(&Utc));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Weekday};

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn weekday_numbers_mean_what_crontab_means() {
        let spec = CronSpec::parse("0 9 * * 1-5").unwrap();
        let mut at = utc(2026, 11, 27, 12, 0); // a Friday, after 09:00
        let mut days = Vec::new();
        for _ in 0..5 {
            at = spec.next_after(at, Tz::UTC).unwrap();
            days.push(at.weekday());
        }
        assert_eq!(
            days,
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri
            ]
        );
        let sundays = CronSpec::parse("30 8 * * 0")
            .unwrap()
            .next_after(at, Tz::UTC)
            .unwrap();
        assert_eq!(sundays.weekday(), Weekday::Sun);
        assert_eq!(
            CronSpec::parse("30 8 * * 7")
                .unwrap()
                .next_after(at, Tz::UTC),
            Some(sundays)
        );
    }

    #[test]
    fn restricted_day_of_month_and_week_match_either_like_crontab() {
        // "the 1st, or any Monday": from Wed 2026-11-25, next is Mon 11-30, then Tue 12-01.
        let spec = CronSpec::parse("0 9 1 * MON").unwrap();
        let first = spec.next_after(utc(2026, 11, 25, 12, 0), Tz::UTC).unwrap();
        assert_eq!(first, utc(2026, 11, 30, 9, 0));
        assert_eq!(
            spec.next_after(first, Tz::UTC),
            Some(utc(2026, 12, 1, 9, 0))
        );
    }

    #[test]
    fn shortcuts_and_names_work() {
        let daily = CronSpec::parse("@daily").unwrap();
        assert_eq!(
            daily.next_after(utc(2026, 11, 26, 10, 0), Tz::UTC),
            Some(utc(2026, 11, 27, 0, 0))
        );
        assert!(CronSpec::parse("0 9 * JAN-MAR MON-FRI").is_ok());
    }

    #[test]
    fn a_bad_field_is_named() {
        let error = CronSpec::parse("0 25 * * *").unwrap_err();
        assert_eq!(error.to_string(), "hour field: 25 is out of range 0–23");
        assert_eq!(
            CronSpec::parse("0 9 * * FUNDAY").unwrap_err().field,
            "day-of-week"
        );
        assert_eq!(CronSpec::parse("0 9 * *").unwrap_err().field, "line");
        assert_eq!(CronSpec::parse("*/0 * * * *").unwrap_err().field, "minute");
    }

    #[test]
    fn spring_forward_skips_and_fall_back_fires_once_in_berlin() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // 2027-03-28: 02:00 jumps to 03:00, so 02:30 runs right after the jump.
        let spec = CronSpec::parse("30 2 * * *").unwrap();
        let next = spec.next_after(utc(2027, 3, 27, 12, 0), tz).unwrap();
        assert_eq!(next, utc(2027, 3, 28, 1, 0), "03:00 CEST on the 28th");
        let next = spec.next_after(next, tz).unwrap();
        assert_eq!(next, utc(2027, 3, 29, 0, 30), "02:30 CEST on the 29th");
        // 2026-10-25: 02:00–03:00 repeats; 01:30 happens once.
        let spec = CronSpec::parse("30 1 * * *").unwrap();
        let first = spec.next_after(utc(2026, 10, 24, 12, 0), tz).unwrap();
        assert_eq!(first, utc(2026, 10, 24, 23, 30));
        assert_eq!(
            spec.next_after(first, tz).unwrap(),
            utc(2026, 10, 26, 0, 30)
        );
    }

    #[test]
    fn spring_forward_and_fall_back_in_new_york() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 2027-03-14: 02:00 jumps to 03:00; 02:30 runs at 03:00 EDT.
        let spec = CronSpec::parse("30 2 * * *").unwrap();
        assert_eq!(
            spec.next_after(utc(2027, 3, 13, 12, 0), tz).unwrap(),
            utc(2027, 3, 14, 7, 0)
        );
        // 2026-11-01: 01:00–02:00 repeats; 01:30 fires at its first (EDT) occurrence only.
        let spec = CronSpec::parse("30 1 * * *").unwrap();
        let first = spec.next_after(utc(2026, 10, 31, 12, 0), tz).unwrap();
        assert_eq!(first, utc(2026, 11, 1, 5, 30));
        assert_eq!(spec.next_after(first, tz).unwrap(), utc(2026, 11, 2, 6, 30));
    }

    #[test]
    fn a_fixed_job_asked_during_the_second_pass_is_not_given_the_first_pass() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // 02:30 CET on 2027-10-31, the second pass; 02:45 CEST already ran.
        let spec = CronSpec::parse("45 2 * * *").unwrap();
        let next = spec.next_after(utc(2027, 10, 31, 1, 30), tz).unwrap();
        assert_eq!(next, utc(2027, 11, 1, 1, 45));
    }

    #[test]
    fn a_next_time_is_always_after_the_instant_asked_about() {
        let specs = [
            "*/7 * * * *",
            "0 * * * *",
            "30 2 * * *",
            "45 1 * * *",
            "0 9 1 * MON",
        ];
        for zone in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            let tz: Tz = zone.parse().unwrap();
            for spec in specs.map(|s| CronSpec::parse(s).unwrap()) {
                // Every 7 minutes through both of 2027's clock changes.
                for start in [utc(2027, 3, 26, 0, 0), utc(2027, 10, 29, 0, 0)] {
                    let mut at = start;
                    while at < start + chrono::Duration::days(12) {
                        let next = spec.next_after(at, tz).unwrap();
                        assert!(next > at, "{spec:?} in {zone} after {at} gave {next}");
                        at += chrono::Duration::minutes(7);
                    }
                }
            }
        }
    }

    #[test]
    fn extreme_instants_give_an_answer_or_none_without_panicking() {
        let spec = CronSpec::parse("* * * * *").unwrap();
        let _ = spec.next_after(DateTime::<Utc>::MAX_UTC, Tz::UTC);
        let _ = spec.next_after(DateTime::<Utc>::MIN_UTC, Tz::UTC);
        let _ = spec.next_after(DateTime::<Utc>::MAX_UTC, "Europe/Berlin".parse().unwrap());
    }
}
