//! The scheduler through clock changes, driven with a fixed clock: every fire
//! instant over 48 hours, started just before a spring-forward jump and in
//! both passes of a fall-back hour, in Europe/Berlin and America/New_York.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::store::Store;

/// A config whose `[[schedules]]` are `jobs` (name, crontab line) in `zone`.
fn config(zone: &str, jobs: &[(&str, &str)]) -> Config {
    let mut text = format!(
        "[bot]\ntimezone = \"{zone}\"\n[roles]\nrelease-manager = [\"shell:bob\"]\n[services.api]\n\
         [environments.production]\nchannels = [\"shell:#releases\"]\napprove = [\"release-manager\"]\n"
    );
    for (name, cron) in jobs {
        text.push_str(&format!(
            "[[schedules]]\nname = \"{name}\"\ncron = \"{cron}\"\ndigest = \"status\"\nchannel = \"shell:#releases\"\n"
        ));
    }
    Config::parse(&text, "dst.toml").unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Starts a scheduler at `start` and ticks it at each instant it says is
/// next for 48 hours; returns each job's fire instants. Every tick must move
/// time forward: a scheduler that re-queues a past slot fails here.
fn fires(zone: &str, jobs: &[(&str, &str)], start: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::at(start));
    let engine = Engine::new(
        Store::open(dir.path()).unwrap(),
        Arc::new(config(zone, jobs)),
        clock.clone(),
    );
    let scheduler = Scheduler::new(engine, start);
    let end = start + Duration::hours(48);
    let mut fired = Vec::new();
    let mut now = start;
    while let Some(next) = scheduler.next_due() {
        assert!(
            next > now,
            "the scheduler asked to run at {next}, not after {now}"
        );
        if next > end {
            break;
        }
        now = next;
        clock.set(now);
        let tick = scheduler.run_due(now);
        assert!(!tick.digests.is_empty(), "a tick at {now} fired nothing");
        for (job, slot) in tick.digests {
            fired.push((job, slot));
        }
    }
    fired
}

/// The instants of one job.
fn of(fired: &[(String, DateTime<Utc>)], job: &str) -> Vec<DateTime<Utc>> {
    fired
        .iter()
        .filter(|(j, _)| j == job)
        .map(|(_, at)| *at)
        .collect()
}

/// Every real `step` after `start` up to 48 hours later: what a job that runs
/// by elapsed time must hit.
fn every(start: DateTime<Utc>, first: DateTime<Utc>, step: i64) -> Vec<DateTime<Utc>> {
    let end = start + Duration::hours(48);
    std::iter::successors(Some(first), |at| Some(*at + Duration::minutes(step)))
        .take_while(|at| *at <= end)
        .collect()
}

const BERLIN_JOBS: [(&str, &str); 4] = [
    ("fixed-0230", "30 2 * * *"),
    ("fixed-0245", "45 2 * * *"),
    ("half-hourly", "*/30 * * * *"),
    ("hourly", "0 * * * *"),
];

#[test]
fn berlin_spring_forward_runs_a_skipped_fixed_job_once_after_the_jump() {
    // 2027-03-28 01:59 CET; at 02:00 CET (01:00 UTC) clocks jump to 03:00 CEST.
    let start = utc(2027, 3, 28, 0, 59);
    let fired = fires("Europe/Berlin", &BERLIN_JOBS, start);
    let after_jump = utc(2027, 3, 28, 1, 0);
    let expected = [after_jump, utc(2027, 3, 29, 0, 30), utc(2027, 3, 30, 0, 30)];
    assert_eq!(of(&fired, "fixed-0230"), expected);
    let expected = [after_jump, utc(2027, 3, 29, 0, 45), utc(2027, 3, 30, 0, 45)];
    assert_eq!(of(&fired, "fixed-0245"), expected);
    assert_eq!(of(&fired, "half-hourly"), every(start, after_jump, 30));
    assert_eq!(of(&fired, "hourly"), every(start, after_jump, 60));
}

#[test]
fn berlin_fall_back_started_in_the_first_pass_runs_fixed_jobs_once() {
    // 2027-10-31 02:40 CEST (first pass); at 03:00 CEST (01:00 UTC) clocks go back to 02:00 CET.
    let start = utc(2027, 10, 31, 0, 40);
    let fired = fires("Europe/Berlin", &BERLIN_JOBS, start);
    assert_eq!(
        of(&fired, "fixed-0245"),
        [utc(2027, 10, 31, 0, 45), utc(2027, 11, 1, 1, 45)],
        "02:45 CEST once, not again at 02:45 CET"
    );
    assert_eq!(of(&fired, "fixed-0230"), [utc(2027, 11, 1, 1, 30)]);
    // Both passes of 02:00 and 02:30: real elapsed time, every 30 minutes.
    assert_eq!(
        of(&fired, "half-hourly"),
        every(start, utc(2027, 10, 31, 1, 0), 30)
    );
    assert_eq!(
        of(&fired, "hourly"),
        every(start, utc(2027, 10, 31, 1, 0), 60)
    );
}

#[test]
fn berlin_fall_back_started_in_the_second_pass_never_runs_a_past_slot() {
    // 2027-10-31 02:30 CET, the second pass: 02:45 CEST ran an hour ago.
    let start = utc(2027, 10, 31, 1, 30);
    let fired = fires("Europe/Berlin", &BERLIN_JOBS, start);
    assert_eq!(of(&fired, "fixed-0245"), [utc(2027, 11, 1, 1, 45)]);
    assert_eq!(
        of(&fired, "fixed-0230"),
        [utc(2027, 11, 1, 1, 30), utc(2027, 11, 2, 1, 30)]
    );
    assert_eq!(
        of(&fired, "half-hourly"),
        every(start, utc(2027, 10, 31, 2, 0), 30)
    );
    assert_eq!(
        of(&fired, "hourly"),
        every(start, utc(2027, 10, 31, 2, 0), 60)
    );
}

const NEW_YORK_JOBS: [(&str, &str); 4] = [
    ("fixed-0230", "30 2 * * *"),
    ("fixed-0145", "45 1 * * *"),
    ("half-hourly", "*/30 * * * *"),
    ("hourly", "0 * * * *"),
];

#[test]
fn new_york_spring_forward_runs_a_skipped_fixed_job_once_after_the_jump() {
    // 2027-03-14 01:59 EST; at 02:00 EST (07:00 UTC) clocks jump to 03:00 EDT.
    let start = utc(2027, 3, 14, 6, 59);
    let fired = fires("America/New_York", &NEW_YORK_JOBS, start);
    let after_jump = utc(2027, 3, 14, 7, 0);
    assert_eq!(
        of(&fired, "fixed-0230"),
        [after_jump, utc(2027, 3, 15, 6, 30), utc(2027, 3, 16, 6, 30)]
    );
    assert_eq!(
        of(&fired, "fixed-0145"),
        [utc(2027, 3, 15, 5, 45), utc(2027, 3, 16, 5, 45)]
    );
    assert_eq!(of(&fired, "half-hourly"), every(start, after_jump, 30));
    assert_eq!(of(&fired, "hourly"), every(start, after_jump, 60));
}

#[test]
fn new_york_fall_back_started_in_the_first_pass_runs_fixed_jobs_once() {
    // 2027-11-07 01:40 EDT (first pass); at 02:00 EDT (06:00 UTC) clocks go back to 01:00 EST.
    let start = utc(2027, 11, 7, 5, 40);
    let fired = fires("America/New_York", &NEW_YORK_JOBS, start);
    assert_eq!(
        of(&fired, "fixed-0145"),
        [utc(2027, 11, 7, 5, 45), utc(2027, 11, 8, 6, 45)],
        "01:45 EDT once, not again at 01:45 EST"
    );
    assert_eq!(
        of(&fired, "fixed-0230"),
        [utc(2027, 11, 7, 7, 30), utc(2027, 11, 8, 7, 30)]
    );
    assert_eq!(
        of(&fired, "half-hourly"),
        every(start, utc(2027, 11, 7, 6, 0), 30)
    );
    assert_eq!(
        of(&fired, "hourly"),
        every(start, utc(2027, 11, 7, 6, 0), 60)
    );
}

#[test]
fn new_york_fall_back_started_in_the_second_pass_never_runs_a_past_slot() {
    // 2027-11-07 01:30 EST, the second pass: 01:45 EDT ran an hour ago.
    let start = utc(2027, 11, 7, 6, 30);
    let fired = fires("America/New_York", &NEW_YORK_JOBS, start);
    assert_eq!(of(&fired, "fixed-0145"), [utc(2027, 11, 8, 6, 45)]);
    assert_eq!(
        of(&fired, "fixed-0230"),
        [utc(2027, 11, 7, 7, 30), utc(2027, 11, 8, 7, 30)]
    );
    assert_eq!(
        of(&fired, "half-hourly"),
        every(start, utc(2027, 11, 7, 7, 0), 30)
    );
    assert_eq!(
        of(&fired, "hourly"),
        every(start, utc(2027, 11, 7, 7, 0), 60)
    );
}
