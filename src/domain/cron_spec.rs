//! Standard 5-field crontab lines (and `@daily`-style shortcuts), checked
//! field by field and translated for the `cron` crate, which wants a seconds
//! field and numbers weekdays 1–7 from Sunday (crontab: 0–6, 0 and 7 =
//! Sunday). Weekdays are handed over as names, so no number is ever shifted.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
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
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first time strictly after `after`, reading the line in `tz`.
    /// A wall-clock time a DST change skips does not fire that day; one it
    /// repeats fires once, at its first occurrence.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&tz);
        self.schedules
            .iter()
            .filter_map(|schedule| schedule.after(&local).next())
            .map(|t| t.with_timezone(&Utc))
            .min()
    }
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
        // 2027-03-28: 02:00 jumps to 03:00, so 02:30 does not exist that day.
        let spec = CronSpec::parse("30 2 * * *").unwrap();
        let next = spec.next_after(utc(2027, 3, 27, 12, 0), tz).unwrap();
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
        // 2027-03-14: 02:00 jumps to 03:00.
        let spec = CronSpec::parse("30 2 * * *").unwrap();
        assert_eq!(
            spec.next_after(utc(2027, 3, 13, 12, 0), tz).unwrap(),
            utc(2027, 3, 15, 6, 30)
        );
        // 2026-11-01: 01:00–02:00 repeats; 01:30 fires at its first (EDT) occurrence only.
        let spec = CronSpec::parse("30 1 * * *").unwrap();
        let first = spec.next_after(utc(2026, 10, 31, 12, 0), tz).unwrap();
        assert_eq!(first, utc(2026, 11, 1, 5, 30));
        assert_eq!(spec.next_after(first, tz).unwrap(), utc(2026, 11, 2, 6, 30));
    }
}
