//! Figures for the scheduler and the calendar, printed, not asserted.
//!
//! ```text
//! cargo run --release --example calendar_bench
//! ```
//!
//! 1. 10,000 cron jobs and 100,000 per-release timers: the cost of one
//!    scheduler tick when nothing is due, and when one job is.
//! 2. `calendar month` and the `.ics` feed with 150,000 releases in the store
//!    (ten years at one release every 53 minutes, about 27 a day, plus the
//!    timer releases far ahead), answered from the time index.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, Name, ReleaseId, UserRef, Version};
use releasebot::domain::release::{Priority, Release, ReleaseStatus};
use releasebot::engine::{Engine, Origin};
use releasebot::schedule::Scheduler;
use releasebot::store::Store;

const JOBS: usize = 10_000;
const RELEASES: u64 = 100_000;

fn config() -> String {
    let mut text = String::from(
        "[bot]\ntimezone = \"Europe/Berlin\"\n[roles]\ndeveloper = [\"shell:alice\"]\nrelease-manager = [\"shell:bob\"]\n\
         [services.api]\n[environments.production]\napprove = [\"release-manager\"]\napprovals = 1\n\
         [reminders]\nbefore_window_minutes = 60\napproval_nudge_hours = 24\n",
    );
    for i in 0..JOBS {
        let (minute, hour) = (i % 60, (i / 60) % 24);
        text.push_str(&format!(
            "[[schedules]]\nname = \"job-{i}\"\ncron = \"{minute} {hour} * * MON-FRI\"\ndigest = \"pending\"\nchannel = \"shell:#bench\"\n"
        ));
    }
    text
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "{label}: p50 {:.3} ms, p99 {:.3} ms (n={})",
        at(0.5),
        at(0.99),
        samples.len()
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let parse_started = Instant::now();
    let config = Arc::new(Config::parse(&config(), "bench.toml").expect("bench config"));
    println!(
        "parsed a config with {JOBS} cron jobs in {:.0} ms",
        parse_started.elapsed().as_secs_f64() * 1000.0
    );
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 30).unwrap();
    let clock = Arc::new(FixedClock::at(now));
    let engine = Engine::new(Store::open(dir.path()).unwrap(), config, clock.clone());

    // History and plans: releases every ~53 minutes from 2019 to 2029, imported.
    let start = Utc.with_ymd_and_hms(2019, 1, 1, 0, 0, 0).unwrap();
    let step = chrono::Duration::minutes(53);
    let releases: Vec<Release> = (1..=RELEASES)
        .map(|n| {
            let at = start + step * (n as i32);
            Release {
                id: ReleaseId::new(n),
                service: Name::parse("api").unwrap(),
                version: Version::parse(&format!("1.{}.{}", n / 1000, n % 1000)).unwrap(),
                environment: Name::parse("production").unwrap(),
                status: if at < now {
                    ReleaseStatus::Deployed
                } else {
                    ReleaseStatus::Approved
                },
                requester: UserRef::parse("shell:alice").unwrap(),
                requested_at: at - chrono::Duration::days(2),
                updated_at: at - chrono::Duration::days(1),
                priority: Priority::Normal,
                notes: None,
                scheduled_at: Some(at),
                approvals: vec![],
                checklist: vec![],
                deployments: vec![],
                previous: None,
                rejected: None,
                cancelled: None,
                promoted_from: None,
                fixes: None,
                incident: None,
                changes: None,
                revision: 0,
            }
        })
        .collect();
    let fill = Instant::now();
    engine.import(releases).unwrap();
    println!(
        "imported {RELEASES} releases in {:.1} s",
        fill.elapsed().as_secs_f64()
    );

    // 100,000 timers: requests through the engine, each with a window reminder and a nudge.
    let alice = UserRef::parse("shell:alice").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let fast = engine.deferring_flush();
    let fill = Instant::now();
    for i in 0..(RELEASES / 2) {
        let day = 1 + i % 28;
        fast.handle_line(
            &alice,
            &format!(
                "request api 9.{}.{} to production at 2028-12-{day:02} 10:00",
                i / 1000,
                i % 1000
            ),
            &origin,
        )
        .unwrap();
    }
    engine.store().flush().unwrap();
    println!(
        "filed {} requests ({} timers) in {:.1} s",
        RELEASES / 2,
        engine.store().timer_count().unwrap_or(0),
        fill.elapsed().as_secs_f64()
    );

    let scheduler = Scheduler::new(engine.clone(), now);
    println!("scheduler planned {} jobs", scheduler.job_count());
    let idle: Vec<Duration> = (0..1000)
        .map(|i| {
            let at = now + chrono::Duration::milliseconds(i);
            let started = Instant::now();
            let fired = scheduler.run_due(at);
            assert!(fired.digests.is_empty() && fired.reminders.is_empty());
            started.elapsed()
        })
        .collect();
    percentiles(
        "scheduler tick, nothing due (10,000 jobs, 100,000 timers)",
        idle,
    );
    // 11:01 Berlin (10:01 UTC): job-661 (minute 1, hour 11) falls due.
    let due_at = Utc.with_ymd_and_hms(2026, 11, 26, 10, 1, 0).unwrap();
    let started = Instant::now();
    let fired = scheduler.run_due(due_at);
    println!(
        "scheduler tick with {} digest(s) due: {:.3} ms (the worker ticks at least every second, so a job fires within 1 s of its slot)",
        fired.digests.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );

    let bob = UserRef::parse("shell:bob").unwrap();
    let month: Vec<Duration> = (0..50)
        .map(|_| {
            let started = Instant::now();
            engine.handle_line(&bob, "calendar month", &origin).unwrap();
            started.elapsed()
        })
        .collect();
    percentiles("`calendar month` with 100,000+ releases", month);
    let feed: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            engine.calendar_feed(None).unwrap();
            started.elapsed()
        })
        .collect();
    let size = engine.calendar_feed(None).unwrap().len();
    percentiles(
        &format!("`.ics` feed ({} KB: 14 days back, 90 ahead)", size / 1024),
        feed,
    );
}
