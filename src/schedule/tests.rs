//! The scheduler on a real temporary store, driven with a fixed clock.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::engine::Origin;
use crate::store::Store;

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob", "shell:carol"]

[services.api]

[environments.production]
channels = ["shell:#releases"]
approve = ["release-manager"]
approvals = 1
approval_expiry_hours = 72
checklist = ["QA sign-off"]

[[schedules]]
name = "pending"
cron = "0 9 * * 1-5"
digest = "pending"
channel = "shell:#releases"

[[schedules]]
name = "status"
cron = "30 16 * * FRI"
digest = "status"
channel = "shell:#stakeholders"
missed = "skip"

[reminders]
before_window_minutes = 60
approval_nudge_hours = 24
"##;

struct Setup {
    engine: Engine,
    clock: Arc<FixedClock>,
    dir: tempfile::TempDir,
}

/// Thursday 2026-11-26, 08:00 Berlin.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 7, 0, 0).unwrap()
}

fn berlin(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    tz.with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::at(start()));
        Setup {
            engine: Setup::engine(&dir, &clock),
            clock,
            dir,
        }
    }

    fn engine(dir: &tempfile::TempDir, clock: &Arc<FixedClock>) -> Engine {
        let config = Arc::new(Config::parse(CONFIG, "test.toml").unwrap());
        // sled's flusher thread may hold the old handle's file lock for a
        // moment after the drop; a restarted process would not race it.
        let mut store = Store::open(dir.path());
        for _ in 0..100 {
            if store.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            store = Store::open(dir.path());
        }
        Engine::new(store.unwrap(), config, clock.clone())
    }

    /// Closes the store and opens it again, as a restart does.
    fn restart(self) -> Setup {
        let Setup { engine, clock, dir } = self;
        drop(engine);
        Setup {
            engine: Setup::engine(&dir, &clock),
            clock,
            dir,
        }
    }

    fn run(&self, user: &str, line: &str) -> String {
        let user = UserRef::parse(&format!("shell:{user}")).unwrap();
        let origin = Origin {
            channel: ChannelRef::parse("shell:#t").unwrap(),
        };
        self.engine
            .handle_line(&user, line, &origin)
            .unwrap()
            .text()
            .to_string()
    }

    fn digests(&self) -> Vec<String> {
        self.engine
            .store()
            .pending_digests(100)
            .unwrap()
            .into_iter()
            .map(|(_, d)| format!("[{}] {}", d.channel.local(), d.text))
            .collect()
    }
}

#[test]
fn a_digest_fires_at_its_slot_once_and_not_again_after_a_restart() {
    let setup = Setup::new();
    setup.run("alice", "request api 2.4.0 to production");
    let scheduler = Scheduler::new(setup.engine.clone(), start());
    assert_eq!(scheduler.run_due(berlin(26, 8, 59)), Fired::default());
    let fired = scheduler.run_due(berlin(26, 9, 0));
    assert_eq!(
        fired.digests,
        vec![("pending".to_string(), berlin(26, 9, 0))]
    );
    let digests = setup.digests();
    assert_eq!(digests.len(), 1);
    assert!(digests[0].starts_with("[#releases] ⏳ Waiting for approval (1), by priority, oldest first:\nR-1 api 2.4.0 → production · alice · waiting 1 h"), "{digests:?}");
    assert!(
        scheduler.run_due(berlin(26, 9, 0)).digests.is_empty(),
        "never twice for one slot"
    );

    drop(scheduler);
    let setup = setup.restart();
    let scheduler = Scheduler::new(setup.engine.clone(), berlin(26, 9, 5));
    assert!(
        scheduler.run_due(berlin(26, 9, 5)).digests.is_empty(),
        "not again after a restart"
    );
    assert_eq!(
        scheduler.run_due(berlin(27, 9, 0)).digests.len(),
        1,
        "the next weekday"
    );
}

#[test]
fn a_slot_missed_while_down_runs_once_within_an_hour_and_is_skipped_after() {
    let setup = Setup::new();
    Scheduler::new(setup.engine.clone(), start()).run_due(berlin(26, 9, 0));
    // (The scheduler above is gone; only the store remembers.)
    // Down from Thursday 09:00 to Friday 09:40: Friday's 09:00 slot is 40 min late.
    let setup = setup.restart();
    let scheduler = Scheduler::new(setup.engine.clone(), berlin(27, 9, 40));
    assert_eq!(
        scheduler.run_due(berlin(27, 9, 40)).digests,
        vec![("pending".to_string(), berlin(27, 9, 0))]
    );
    drop(scheduler);
    // Down again until Monday 10:30: 90 min late is too late; wait for Tuesday.
    let setup = setup.restart();
    let monday = berlin(30, 10, 30);
    let scheduler = Scheduler::new(setup.engine.clone(), monday);
    assert!(scheduler.run_due(monday).digests.is_empty());
    assert_eq!(
        scheduler.next_due(),
        Some(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap())
    );
}

#[test]
fn a_skip_job_does_not_catch_up() {
    let setup = Setup::new();
    let scheduler = Scheduler::new(setup.engine.clone(), start());
    assert_eq!(
        scheduler
            .run_due(berlin(27, 16, 30))
            .digests
            .iter()
            .filter(|(n, _)| n == "status")
            .count(),
        1
    );
    drop(scheduler);
    let setup = setup.restart();
    // Down over the next Friday's 16:30 by ten minutes: skip means skip.
    let friday = Utc.with_ymd_and_hms(2026, 12, 4, 15, 40, 0).unwrap();
    let scheduler = Scheduler::new(setup.engine.clone(), friday);
    assert!(scheduler
        .run_due(friday)
        .digests
        .iter()
        .all(|(n, _)| n != "status"));
}

#[test]
fn an_unready_release_is_reminded_an_hour_before_its_window() {
    let setup = Setup::new();
    setup.run(
        "alice",
        "request api 2.4.0 to production at 2026-11-26 14:00",
    );
    setup.run(
        "alice",
        "request api 2.4.1 to production at 2026-11-26 15:00",
    );
    setup.run("bob", "approve R-2");
    setup.run("alice", "check R-2 1");
    let scheduler = Scheduler::new(setup.engine.clone(), start());
    assert!(scheduler.run_due(berlin(26, 12, 59)).reminders.is_empty());
    let fired = scheduler.run_due(berlin(26, 13, 0));
    assert_eq!(fired.reminders, vec!["⏰ R-1 goes out at 2026-11-26 14:00 (Europe/Berlin) but still needs 1 more approval, checklist 0/1. alice; approvers: bob, carol"]);
    assert!(
        scheduler.run_due(berlin(26, 14, 0)).reminders.is_empty(),
        "R-2 is ready, so no reminder"
    );
}

#[test]
fn approvers_are_nudged_daily_and_the_requester_hears_of_expiry() {
    let setup = Setup::new();
    setup.run("alice", "request api 2.4.0 to production");
    let scheduler = Scheduler::new(setup.engine.clone(), start());
    let day = Duration::hours(24);
    assert!(scheduler
        .run_due(start() + day - Duration::minutes(1))
        .reminders
        .is_empty());
    let first = scheduler.run_due(start() + day).reminders;
    assert_eq!(
        first,
        vec![
            "⏳ R-1 has waited 24 h for approval and needs 1 more approval. Approvers: bob, carol"
        ]
    );
    assert_eq!(
        scheduler.run_due(start() + day * 2).reminders.len(),
        1,
        "again a day later"
    );

    setup.clock.set(start() + day * 2);
    setup.run("bob", "approve R-1");
    assert!(
        scheduler.run_due(start() + day * 3).reminders.is_empty(),
        "approved: no nudge"
    );
    let expired = scheduler.run_due(start() + day * 5).reminders;
    assert_eq!(expired, vec!["⌛ R-1's approvals from bob expired (72 h limit); alice, ask for fresh ones before deploying"]);
}
