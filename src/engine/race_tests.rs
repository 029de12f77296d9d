//! Guards judged inside the transaction that writes: eight threads racing
//! on one store (and, on PostgreSQL, two engines on one database, as two
//! instances would be) cannot both pass a guard that only one may pass.
//! Run on the store under test (`RELEASEBOT_TEST_BACKEND`).

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::{Engine, EngineError, Origin};
use crate::clock::FixedClock;
use crate::config::Config;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::domain::Refusal;
use crate::store::testkit::{backend_under_test, database_url, TestSchema, TestStore};

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"
admin_roles = ["release-manager"]

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob"]
deployer = ["shell:dave"]

[services.api]

[environments.production]
timezone = "Europe/Berlin"
channels = ["shell:#releases"]
request = ["developer"]
approve = ["release-manager"]
deploy = ["deployer", "release-manager"]
approvals = 1
max_per_day = 3
ci = { kind = "simulate", delay_secs = 1 }
"##;

const THREADS: usize = 8;

/// One command a racing thread runs, on the engine it was given.
type Job<'a, T> = Box<dyn Fn(&Engine) -> T + Send + Sync + 'a>;
type Outcome = Result<String, EngineError>;

/// Engines on one store: one on sled; two on one PostgreSQL schema.
struct Engines {
    engines: Vec<Engine>,
    _stores: Vec<TestStore>,
    _schema: Option<TestSchema>,
}

fn engines(extra_services: usize) -> Engines {
    let services: String = (0..extra_services)
        .map(|i| format!("[services.svc{i}]\n"))
        .collect();
    let config = Arc::new(Config::parse(&format!("{CONFIG}\n{services}"), "race.toml").unwrap());
    let clock = Arc::new(FixedClock::at(
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
    ));
    let engine = |store| Engine::new(store, config.clone(), clock.clone());
    if backend_under_test() == "postgres" {
        let url = database_url("engine race tests")
            .expect("RELEASEBOT_TEST_BACKEND=postgres needs RELEASEBOT_TEST_DATABASE_URL");
        let schema = TestSchema::new(&url);
        let a = schema.connect("instance-a").unwrap();
        let b = schema.connect("instance-b").unwrap();
        return Engines {
            engines: vec![engine(a), engine(b)],
            _stores: Vec::new(),
            _schema: Some(schema),
        };
    }
    let store = TestStore::sled();
    Engines {
        engines: vec![engine(store.store.clone())],
        _stores: vec![store],
        _schema: None,
    }
}

fn run(engine: &Engine, user: &str, line: &str) -> Outcome {
    let origin = Origin {
        channel: ChannelRef::parse("shell:#releases").unwrap(),
    };
    let user = UserRef::parse(&format!("shell:{user}")).unwrap();
    engine
        .handle_line(&user, line, &origin)
        .map(|reply| reply.text().to_string())
}

/// Runs `jobs` on `THREADS` threads, spread over the engines; their results
/// in job order.
fn race<T: Send>(engines: &Engines, jobs: Vec<Job<'_, T>>) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<T>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (next, results, start, jobs) = (&next, &results, &start, &jobs);
            let engine = &engines.engines[thread % engines.engines.len()];
            scope.spawn(move || {
                start.wait();
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(job) = jobs.get(at) else { return };
                    *results[at].lock().unwrap() = Some(job(engine));
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| slot.into_inner().unwrap().unwrap())
        .collect()
}

#[test]
fn twenty_schedules_racing_into_a_day_of_three_leave_exactly_three() {
    let engines = engines(0);
    let first = &engines.engines[0];
    for _ in 0..20 {
        run(first, "alice", "request api 2.4.0 to production").unwrap();
    }
    let jobs: Vec<Job<Outcome>> = (1..=20)
        .map(|i| {
            let line = format!(
                "schedule R-{i} 2026-12-01 {:02}:{:02}",
                9 + i / 6,
                (i % 6) * 10
            );
            Box::new(move |engine: &Engine| run(engine, "alice", &line)) as Box<_>
        })
        .collect();
    let results = race(&engines, jobs);
    let scheduled = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(scheduled, 3, "{results:#?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(refused, EngineError::Refused(Refusal::SlotTaken { .. })),
            "{refused:?}"
        );
    }
    let day_start = Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap();
    let day_end = Utc.with_ymd_and_hms(2026, 12, 1, 23, 0, 0).unwrap();
    let on_the_day = first
        .store()
        .scheduled_between(day_start, day_end)
        .unwrap()
        .len();
    assert_eq!(on_the_day, 3, "the day holds its three");
}

/// R-1…R-20, one per service `svc0`…`svc19`, each approved and ready to deploy.
fn approved_one_per_service() -> Engines {
    let engines = engines(20);
    let first = &engines.engines[0];
    for i in 0..20 {
        let request = format!("request svc{i} 1.0.0 to production");
        run(first, "alice", &request).unwrap();
        run(first, "bob", &format!("approve R-{}", i + 1)).unwrap();
    }
    engines
}

#[test]
fn a_lock_racing_a_deploy_is_never_passed_by_the_deploy_after_it() {
    let engines = approved_one_per_service();
    let first = &engines.engines[0];
    // Each service: bob locks it while dave deploys into it.
    let mut jobs: Vec<Job<Outcome>> = Vec::new();
    for i in 0..20 {
        let lock = format!("lock svc{i} production hotfix first");
        let deploy = format!("deploy R-{}", i + 1);
        jobs.push(Box::new(move |engine: &Engine| run(engine, "bob", &lock)));
        jobs.push(Box::new(move |engine: &Engine| {
            run(engine, "dave", &deploy)
        }));
    }
    let results = race(&engines, jobs);
    let audit: Vec<_> = first
        .store()
        .audit_log()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    for i in 0..20 {
        let (locked, deployed) = (&results[2 * i], &results[2 * i + 1]);
        assert!(locked.is_ok(), "the lock always takes: {locked:?}");
        let seq_of = |action: &str, needle: &str| {
            audit
                .iter()
                .find(|e| e.action == action && e.detail.contains(needle))
                .map(|e| e.seq)
        };
        let lock_at = seq_of("lock", &format!("svc{i} production")).expect("the lock's entry");
        match deployed {
            Ok(_) => {
                let deploy_at = audit
                    .iter()
                    .find(|e| {
                        e.action == "deploy" && e.release.map(|r| r.number()) == Some(i as u64 + 1)
                    })
                    .map(|e| e.seq)
                    .expect("the deploy's entry");
                assert!(
                    deploy_at < lock_at,
                    "svc{i}: a deploy committed after bob's lock (deploy #{deploy_at}, lock #{lock_at})"
                );
            }
            Err(EngineError::Refused(Refusal::Locked { .. })) => {}
            Err(other) => panic!("svc{i}: {other:?}"),
        }
    }
}

/// The audit sequence of the first entry with `action` whose detail holds
/// `needle` (or whose release is `release`).
fn seq_of(
    engine: &Engine,
    action: &str,
    matches: impl Fn(&crate::store::AuditEntry) -> bool,
) -> Option<u64> {
    engine
        .store()
        .audit_log()
        .filter_map(Result::ok)
        .find(|e| e.action == action && matches(e))
        .map(|e| e.seq)
}

/// Twenty `action`s on R-1…R-20 by `user`, with `guard` by bob slipped in
/// after the fourth; every one that took committed before the guard, and
/// every other was refused as `refused` allows.
fn none_commit_after(
    engines: &Engines,
    (user, action): (&'static str, &'static str),
    (guard, guard_line): (&'static str, &'static str),
    refused: impl Fn(&Refusal) -> bool,
) {
    let mut jobs: Vec<Job<Outcome>> = Vec::new();
    for i in 1..=20 {
        let line = format!("{action} R-{i}");
        jobs.push(Box::new(move |engine: &Engine| run(engine, user, &line)));
        if i == 4 {
            jobs.push(Box::new(move |engine: &Engine| {
                run(engine, "bob", guard_line)
            }));
        }
    }
    let results = race(engines, jobs);
    let first = &engines.engines[0];
    let guarded_at = seq_of(first, guard, |_| true).expect("the guard took");
    let mut releases = 1..=20u64;
    for (at, result) in results.iter().enumerate() {
        if at == 4 {
            continue;
        }
        let release = releases.next().unwrap();
        match result {
            Ok(_) => {
                let done_at = seq_of(first, action, |e| {
                    e.release.map(|r| r.number()) == Some(release)
                })
                .expect("its entry");
                assert!(
                    done_at < guarded_at,
                    "R-{release}: {action} after the {guard}"
                );
            }
            Err(EngineError::Refused(why)) if refused(why) => {}
            Err(other) => panic!("R-{release}: {other:?}"),
        }
    }
}

#[test]
fn a_freeze_racing_deploys_lets_none_commit_after_it() {
    let engines = approved_one_per_service();
    none_commit_after(
        &engines,
        ("dave", "deploy"),
        (
            "freeze",
            "freeze production 2026-11-26 to 2026-11-27 incident",
        ),
        |why| matches!(why, Refusal::Frozen { .. }),
    );
}

#[test]
fn a_revoke_racing_approvals_lets_none_commit_after_it() {
    let engines = engines(0);
    let first = &engines.engines[0];
    run(first, "bob", "grant shell:frank release-manager").unwrap();
    for _ in 0..20 {
        run(first, "alice", "request api 2.4.0 to production").unwrap();
    }
    none_commit_after(
        &engines,
        ("frank", "approve"),
        ("revoke", "revoke shell:frank release-manager"),
        |why| matches!(why, Refusal::NotPermitted { .. }),
    );
}
