//! Deploy windows, freezes, locks and capacity: when a release may go out,
//! and the next slots that satisfy every rule when it may not.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ids::{Name, ReleaseId, UserRef};

const DAY_NAMES: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// A weekly span of wall-clock time: `MON-THU 09:00-16:00`, `FRI 15:00-24:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklySpan {
    /// Monday = 0.
    days: BTreeSet<u32>,
    start: NaiveTime,
    /// `None` means until midnight (written `24:00`).
    end: Option<NaiveTime>,
    text: String,
}

fn day(text: &str) -> Option<u32> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(text))
        .map(|i| i as u32)
}

fn time(text: &str) -> Option<Option<NaiveTime>> {
    if text == "24:00" {
        return Some(None);
    }
    super::when::When::parse_time(text).map(Some)
}

impl WeeklySpan {
    pub fn parse(text: &str) -> Result<WeeklySpan, String> {
        let problem = || {
            format!("`{text}` is not a weekly span: expected like MON-THU 09:00-16:00 or FRI 15:00-24:00")
        };
        let (days_text, hours) = text.trim().split_once(' ').ok_or_else(problem)?;
        let mut days = BTreeSet::new();
        for part in days_text.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a).ok_or_else(problem)?, day(b).ok_or_else(problem)?);
                    let mut d = a;
                    loop {
                        days.insert(d);
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => {
                    days.insert(day(part).ok_or_else(problem)?);
                }
            }
        }
        let (from, to) = hours.trim().split_once('-').ok_or_else(problem)?;
        let start = time(from).flatten().ok_or_else(problem)?;
        let end = time(to).ok_or_else(problem)?;
        if end.is_some_and(|e| e <= start) {
            return Err(format!("`{text}`: the span must end after it starts"));
        }
        Ok(WeeklySpan {
            days,
            start,
            end,
            text: text.trim().to_string(),
        })
    }

    /// Whether the instant falls inside the span, read in `tz`.
    pub fn contains(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        let local = at.with_timezone(&tz);
        let weekday = local.weekday().num_days_from_monday();
        let t = local.time();
        self.days.contains(&weekday) && t >= self.start && self.end.is_none_or(|e| t < e)
    }

    /// The end of the span occurrence containing `at` (for "frozen until").
    pub fn end_after(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = at.with_timezone(&tz);
        let date = local.date_naive();
        let end = match self.end {
            Some(end) => date.and_time(end),
            None => (date + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists"),
        };
        tz.from_local_datetime(&end)
            .earliest()
            .map_or(at, |e| e.with_timezone(&Utc))
    }
}

impl fmt::Display for WeeklySpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A one-off freeze on an environment, made in chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub id: u64,
    pub environment: Name,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
    pub by: UserRef,
    pub created_at: DateTime<Utc>,
}

impl Freeze {
    pub fn label(&self) -> String {
        format!("F-{}", self.id)
    }

    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end && start < self.end
    }
}

/// A freeze from config that comes back every week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringFreeze {
    pub span: WeeklySpan,
    pub reason: String,
}

/// A deploy lock on one service in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub service: Name,
    pub environment: Name,
    pub reason: String,
    pub by: UserRef,
    pub at: DateTime<Utc>,
}

/// A release already holding a slot, as the calendar sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub release: ReleaseId,
    pub service: Name,
    pub requester: UserRef,
    pub at: DateTime<Utc>,
}

/// An environment's scheduling rules, from config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlotRules {
    /// Empty: any time.
    pub windows: Vec<WeeklySpan>,
    pub recurring_freezes: Vec<RecurringFreeze>,
    pub max_per_day: Option<u32>,
    /// No two releases of one service closer than this.
    pub service_gap: Option<Duration>,
    /// Refuse conflicting schedules (`true`) or accept them with a warning.
    pub refuse_conflicts: bool,
}

/// Why a time does not suit a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    OutsideWindows(String),
    Frozen {
        what: String,
        reason: String,
        until: DateTime<Utc>,
    },
    DayFull {
        max: u32,
        releases: Vec<ReleaseId>,
    },
    TooClose {
        other: ReleaseId,
        owner: UserRef,
        gap_minutes: i64,
    },
}

impl Conflict {
    pub fn describe(&self, tz: Tz) -> String {
        match self {
            Conflict::OutsideWindows(windows) => {
                format!("it is outside the deploy windows ({windows}, {tz})")
            }
            Conflict::Frozen {
                what,
                reason,
                until,
            } => format!(
                "{what} “{reason}” is on until {}",
                until.with_timezone(&tz).format("%Y-%m-%d %H:%M")
            ),
            Conflict::DayFull { max, releases } => format!(
                "that day already has {} release(s) ({}); at most {max} a day",
                releases.len(),
                releases
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Conflict::TooClose {
                other,
                owner,
                gap_minutes,
            } => format!(
                "{other} (owner {}) ships the same service within {gap_minutes} min",
                owner.local()
            ),
        }
    }
}

impl SlotRules {
    fn windows_text(&self) -> String {
        self.windows
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether nothing but the clock stops a deploy at `at`: windows and freezes.
    pub fn open_at(&self, at: DateTime<Utc>, tz: Tz, freezes: &[Freeze]) -> Result<(), Conflict> {
        if let Some(freeze) = freezes.iter().find(|f| f.covers(at)) {
            return Err(Conflict::Frozen {
                what: format!("freeze {}", freeze.label()),
                reason: freeze.reason.clone(),
                until: freeze.end,
            });
        }
        if let Some(recurring) = self
            .recurring_freezes
            .iter()
            .find(|r| r.span.contains(at, tz))
        {
            return Err(Conflict::Frozen {
                what: format!("the weekly freeze {}", recurring.span),
                reason: recurring.reason.clone(),
                until: recurring.span.end_after(at, tz),
            });
        }
        if !self.windows.is_empty() && !self.windows.iter().any(|w| w.contains(at, tz)) {
            return Err(Conflict::OutsideWindows(self.windows_text()));
        }
        Ok(())
    }

    /// Every rule a scheduled time must meet, against the other bookings.
    pub fn check(
        &self,
        at: DateTime<Utc>,
        tz: Tz,
        service: &Name,
        freezes: &[Freeze],
        others: &[Booking],
    ) -> Result<(), Conflict> {
        self.open_at(at, tz, freezes)?;
        if let Some(gap) = self.service_gap {
            if let Some(close) = others
                .iter()
                .find(|b| &b.service == service && (b.at - at).abs() < gap)
            {
                return Err(Conflict::TooClose {
                    other: close.release,
                    owner: close.requester.clone(),
                    gap_minutes: gap.num_minutes(),
                });
            }
        }
        if let Some(max) = self.max_per_day {
            let day = at.with_timezone(&tz).date_naive();
            let same_day: Vec<ReleaseId> = others
                .iter()
                .filter(|b| b.at.with_timezone(&tz).date_naive() == day)
                .map(|b| b.release)
                .collect();
            if same_day.len() as u32 >= max {
                return Err(Conflict::DayFull {
                    max,
                    releases: same_day,
                });
            }
        }
        Ok(())
    }

    /// Up to `count` times from `from` on (in 30-minute steps, two weeks
    /// ahead) that satisfy every rule.
    pub fn next_free(
        &self,
        from: DateTime<Utc>,
        tz: Tz,
        service: &Name,
        freezes: &[Freeze],
        others: &[Booking],
        count: usize,
    ) -> Vec<DateTime<Utc>> {
        let step = Duration::minutes(30);
        let start = {
            let minutes = from.timestamp().div_euclid(60);
            let rounded = (minutes + 29).div_euclid(30) * 30;
            Utc.timestamp_opt(rounded * 60, 0).single().unwrap_or(from)
        };
        (0..(14 * 48))
            .map(|i| start + step * i)
            .filter(|at| self.check(*at, tz, service, freezes, others).is_ok())
            .take(count)
            .collect()
    }
}

/// Monday of the week containing `day`.
pub fn week_start(day: chrono::NaiveDate) -> chrono::NaiveDate {
    day.checked_sub_days(chrono::Days::new(u64::from(
        day.weekday().num_days_from_monday(),
    )))
    .unwrap_or(chrono::NaiveDate::MIN)
}

pub fn weekday_name(day: Weekday) -> &'static str {
    DAY_NAMES[day.num_days_from_monday() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        berlin()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn booking(id: u64, service: &str, when: DateTime<Utc>) -> Booking {
        Booking {
            release: ReleaseId::new(id),
            service: name(service),
            requester: UserRef::parse("shell:alice").unwrap(),
            at: when,
        }
    }

    fn rules() -> SlotRules {
        SlotRules {
            windows: vec![WeeklySpan::parse("MON-THU 09:00-16:00").unwrap()],
            recurring_freezes: vec![],
            max_per_day: Some(2),
            service_gap: Some(Duration::hours(1)),
            refuse_conflicts: true,
        }
    }

    #[test]
    fn weekly_spans_parse_and_wrap() {
        let span = WeeklySpan::parse("FRI-MON 18:00-24:00").unwrap();
        assert!(
            span.contains(at(2026, 11, 29, 20, 0), berlin()),
            "Sunday evening"
        );
        assert!(
            !span.contains(at(2026, 11, 25, 20, 0), berlin()),
            "Wednesday"
        );
        assert!(WeeklySpan::parse("MON 16:00-09:00").is_err());
        assert!(WeeklySpan::parse("FUNDAY 09:00-10:00").is_err());
    }

    #[test]
    fn windows_capacity_and_gaps_are_checked() {
        let api = name("api");
        let r = rules();
        // Thursday 2026-12-03
        assert_eq!(
            r.check(at(2026, 12, 3, 17, 0), berlin(), &api, &[], &[]),
            Err(Conflict::OutsideWindows("MON-THU 09:00-16:00".into()))
        );
        assert!(
            matches!(
                r.check(at(2026, 12, 4, 10, 0), berlin(), &api, &[], &[]),
                Err(Conflict::OutsideWindows(_))
            ),
            "Friday"
        );
        let others = [
            booking(1, "api", at(2026, 12, 3, 10, 0)),
            booking(2, "web", at(2026, 12, 3, 13, 0)),
        ];
        assert!(matches!(
            r.check(at(2026, 12, 3, 10, 30), berlin(), &api, &[], &others[..1]),
            Err(Conflict::TooClose { .. })
        ));
        assert!(matches!(
            r.check(at(2026, 12, 3, 15, 0), berlin(), &api, &[], &others),
            Err(Conflict::DayFull { max: 2, .. })
        ));
        assert_eq!(
            r.check(at(2026, 12, 2, 15, 0), berlin(), &api, &[], &others),
            Ok(())
        );
    }

    #[test]
    fn next_free_slots_skip_full_days_freezes_and_closed_hours() {
        let api = name("api");
        let mut r = rules();
        r.recurring_freezes.push(RecurringFreeze {
            span: WeeklySpan::parse("MON 09:00-12:00").unwrap(),
            reason: "planning".into(),
        });
        let others = [
            booking(1, "api", at(2026, 12, 3, 10, 0)),
            booking(2, "web", at(2026, 12, 3, 13, 0)),
        ];
        let slots = r.next_free(at(2026, 12, 3, 10, 0), berlin(), &api, &[], &others, 2);
        assert_eq!(
            slots,
            vec![at(2026, 12, 7, 12, 0), at(2026, 12, 7, 12, 30)],
            "Thursday full, Friday-Sunday closed, Monday morning frozen"
        );
    }

    #[test]
    fn a_one_off_freeze_names_itself() {
        let freeze = Freeze {
            id: 1,
            environment: name("production"),
            start: at(2026, 12, 20, 0, 0),
            end: at(2027, 1, 4, 0, 0),
            reason: "year-end freeze".into(),
            by: UserRef::parse("shell:bob").unwrap(),
            created_at: at(2026, 11, 26, 10, 0),
        };
        let conflict = rules()
            .open_at(at(2026, 12, 21, 10, 0), berlin(), &[freeze])
            .unwrap_err();
        assert_eq!(
            conflict.describe(berlin()),
            "freeze F-1 “year-end freeze” is on until 2027-01-04 00:00"
        );
    }
}
