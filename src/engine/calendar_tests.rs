//! Windows, capacity, freezes, locks, bumps, the calendar and stats, on a
//! real temporary store with a fixed clock (Thursday 2026-11-26, 10:00 Berlin).

use chrono::{Duration, TimeZone, Utc};

use super::tests::Harness;
use crate::clock::Clock;
use crate::domain::ids::{Name, ReleaseId, UserRef, Version};
use crate::domain::release::{
    DeployAction, Deployment, JobOutcome, Priority, Release, ReleaseStatus,
};
use crate::domain::{Act, Refusal};

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"

[timezones]
"shell:carol" = "America/New_York"

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob", "shell:carol"]
deployer = ["shell:dave"]

[services.api]
[services.web]

[environments.production]
timezone = "Europe/Berlin"
channels = ["shell:#releases"]
request = ["developer", "release-manager"]
approve = ["release-manager"]
deploy = ["deployer", "release-manager"]
rollback = ["deployer", "release-manager"]
approvals = 1
windows = ["MON-THU 09:00-16:00"]
freezes = [{ span = "FRI 15:00-24:00", reason = "weekend" }]
max_per_day = 2
service_gap_minutes = 60
ci = { kind = "simulate", delay_secs = 1 }

[environments.staging]
channels = ["shell:#staging"]
approve = ["developer"]
deploy = ["developer"]
approvals = 1
self_approval = true
windows = ["MON-FRI 09:00-17:00"]
conflicts = "warn"
"##;

/// What a slot conflict says: the clash and the next free slots.
fn slot_taken(refusal: Refusal) -> String {
    match refusal {
        Refusal::SlotTaken { why } => why,
        other => panic!("not a slot conflict: {other:?}"),
    }
}

fn harness() -> Harness {
    Harness::with_config(CONFIG)
}

#[test]
fn a_time_outside_the_windows_is_refused_with_the_next_free_slots() {
    let h = harness();
    let refusal = h.refusal(
        "alice",
        "request api 2.4.0 to production at 2026-12-03 17:00",
    );
    let Refusal::SlotTaken { why } = &refusal else {
        panic!("{refusal:?}");
    };
    assert_eq!(
        why,
        "2026-12-03 17:00 (Europe/Berlin) for api in production does not suit: it is outside the deploy \
         windows (MON-THU 09:00-16:00, Europe/Berlin); next free slots: MON 12-07 09:00, MON 12-07 09:30, MON 12-07 10:00."
    );
}

#[test]
fn capacity_and_service_gaps_name_the_clashing_release_and_owner() {
    let h = harness();
    h.ok(
        "alice",
        "request api 2.4.0 to production at 2026-12-03 10:00",
    );
    h.ok("bob", "request web 1.0.0 to production at 2026-12-03 13:00");
    let close = slot_taken(h.refusal(
        "alice",
        "request api 2.4.1 to production at 2026-12-03 10:30",
    ));
    assert!(
        close.contains("R-1 (owner alice) ships the same service within 60 min"),
        "{close}"
    );
    let full = slot_taken(h.refusal(
        "alice",
        "request web 1.0.1 to production at 2026-12-03 15:00",
    ));
    assert!(
        full.contains("that day already has 2 release(s) (R-1, R-2); at most 2 a day"),
        "{full}"
    );
    assert!(full.contains("next free slots: MON 12-07 09:00"), "{full}");
}

#[test]
fn a_warn_policy_accepts_with_a_heads_up() {
    let h = harness();
    let reply = h.ok("alice", "request api 2.4.0 to staging at 2026-12-05 10:00");
    assert!(reply.starts_with("R-1 requested"), "{reply}");
    assert!(
        reply.contains(
            "⚠️ Heads-up: 2026-12-05 10:00 (Europe/Berlin) for api in staging does not suit"
        ),
        "{reply}"
    );
}

#[test]
fn a_freeze_refuses_schedules_into_it_and_tells_owners_already_inside() {
    let h = harness();
    h.ok(
        "alice",
        "request api 2.4.0 to production at 2026-12-21 10:00",
    );
    let before = h.engine.store().outbox_depths().unwrap().0;
    assert!(matches!(
        h.refusal(
            "alice",
            r#"freeze production 2026-12-20 to 2027-01-04 "year-end freeze""#
        ),
        Refusal::NotAdmin {
            act: Act::Freeze,
            ..
        }
    ));
    let reply = h.ok(
        "bob",
        r#"freeze production 2026-12-20 to 2027-01-04 "year-end freeze""#,
    );
    assert_eq!(
        reply,
        "F-1: production is frozen from 2026-12-20 00:00 (Europe/Berlin) to 2027-01-05 00:00 (Europe/Berlin): year-end freeze. \
         Deploys and new schedules into it are refused; rollbacks stay allowed. Scheduled inside it, and told: R-1."
    );
    assert_eq!(
        h.engine.store().outbox_depths().unwrap().0,
        before + 1,
        "R-1's thread hears of it"
    );
    let refused = slot_taken(h.refusal(
        "alice",
        "request web 1.0.0 to production at 2026-12-22 10:00",
    ));
    assert!(
        refused.contains("freeze F-1 “year-end freeze” is on until 2027-01-05 00:00"),
        "{refused}"
    );
    assert!(matches!(
        h.refusal(
            "bob",
            r#"freeze production 2026-12-24 to 2026-12-26 "again""#
        ),
        Refusal::FreezeOverlaps { label, reason, .. } if label == "F-1" && reason == "year-end freeze"
    ));
    assert!(matches!(
        h.refusal(
            "bob",
            r#"freeze production 2026-12-24 to 2026-12-20 "backwards""#
        ),
        Refusal::FreezeBackwards { .. }
    ));
    for line in [
        r#"freeze staging 2026-10-01 to 2026-10-02 "old""#,
        r#"freeze staging 2026-11-25 to 2026-11-28 "from yesterday""#,
    ] {
        assert!(matches!(
            h.refusal("bob", line),
            Refusal::FreezeInPast { .. }
        ));
    }
    assert!(h.ok("bob", "freezes").contains("F-1 production ahead"));
    assert_eq!(
        h.ok("carol", "unfreeze F-1"),
        "F-1 “year-end freeze” on production is lifted."
    );
    assert!(h
        .ok(
            "alice",
            "request web 1.0.0 to production at 2026-12-22 10:00"
        )
        .starts_with("R-2 requested"));
}

#[tokio::test]
async fn deploys_stop_in_a_freeze_but_a_rollback_breaks_the_glass() {
    let h = harness();
    let relay = h.relay();
    for (id, version) in [(1, "2.3.0"), (2, "2.4.0")] {
        h.ok("alice", &format!("request api {version} to production"));
        h.ok("bob", &format!("approve R-{id}"));
        h.ok("dave", &format!("deploy R-{id}"));
        relay.run_due(h.clock.now()).await;
        h.clock.advance(Duration::seconds(2));
        relay.run_due(h.clock.now()).await;
        assert_eq!(h.status(id), ReleaseStatus::Deployed);
    }
    h.ok("alice", "request web 1.0.0 to production");
    h.ok("bob", "approve R-3");
    h.ok(
        "bob",
        r#"freeze production today to tomorrow "incident review""#,
    );
    let refused = h.refusal("dave", "deploy R-3");
    assert!(
        matches!(&refused, Refusal::Frozen { release, why, .. } if *release == ReleaseId::new(3) && why.starts_with("freeze F-1 “incident review”")),
        "{refused:?}"
    );
    let reply = h.ok("dave", "rollback R-2 checkout broken");
    assert!(
        reply.contains("(🧊 break-glass: freeze F-1 “incident review”"),
        "{reply}"
    );
    let audit: Vec<String> = h
        .engine
        .store()
        .audit_for(ReleaseId::new(2))
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert!(audit.iter().any(|d| d.contains("break-glass")), "{audit:?}");
}

#[test]
fn a_weekly_freeze_from_config_closes_friday_afternoon() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 27, 15, 30, 0).unwrap()); // Friday 16:30 Berlin
    let refused = h.refusal("dave", "deploy R-1");
    assert!(
        matches!(&refused, Refusal::Frozen { why, .. } if why.contains("the weekly freeze FRI 15:00-24:00 “weekend” is on until 2026-11-28 00:00")),
        "{refused:?}"
    );
    assert!(h
        .ok("bob", "freezes")
        .contains("weekly production: FRI 15:00-24:00 (Europe/Berlin) “weekend”"));
}

#[test]
fn a_lock_stops_others_and_shows_owner_reason_and_age() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    assert!(matches!(
        h.refusal("alice", r#"lock api production "db migration""#),
        Refusal::NotPermitted { act: Act::Lock, environment, .. } if environment.as_str() == "production"
    ));
    h.ok("dave", r#"lock api production "db migration""#);
    h.clock.advance(Duration::minutes(125));
    let refused = h.refusal("bob", "deploy R-1");
    assert!(
        matches!(&refused, Refusal::Locked { by, held_for, reason, .. } if by.as_str() == "shell:dave" && held_for == "2 h 5 min" && reason == "db migration"),
        "{refused:?}"
    );
    assert!(
        h.ok("dave", "deploy R-1").contains("R-1 is deploying"),
        "the owner may deploy"
    );
    assert!(matches!(
        h.refusal("alice", "unlock api production"),
        Refusal::LockHeldByOther { by, .. } if by.as_str() == "shell:dave"
    ));
    assert_eq!(
        h.ok("bob", "unlock api production"),
        "api is unlocked in production."
    );
}

#[test]
fn a_release_manager_bumps_a_release_out_of_its_slot() {
    let h = harness();
    h.ok(
        "alice",
        "request api 2.4.0 to production at 2026-12-03 10:00 priority low",
    );
    h.ok("bob", "approve R-1");
    assert_eq!(h.status(1), ReleaseStatus::Scheduled);
    assert!(matches!(
        h.refusal("alice", "bump R-1 hotfix needs the slot"),
        Refusal::NotAdmin { act: Act::Bump, .. }
    ));
    let reply = h.ok("bob", "bump R-1 hotfix needs the slot");
    assert_eq!(reply, "R-1 (low priority, alice) no longer holds 2026-12-03 10:00 (Europe/Berlin); alice was told why in its thread.");
    assert_eq!(h.status(1), ReleaseStatus::Approved);
    assert!(h
        .ok(
            "alice",
            "request api 9.9.9 to production at 2026-12-03 10:00"
        )
        .starts_with("R-2 requested"));
}

#[test]
fn the_calendar_lists_releases_and_freezes_per_environment() {
    let h = harness();
    h.ok(
        "alice",
        "request api 2.4.0 to production at 2026-12-01 14:00",
    );
    h.ok("alice", "request web 1.0.0 to staging at 2026-12-02 10:00");
    h.ok(
        "bob",
        r#"freeze production 2026-12-03 to 2026-12-03 "board meeting""#,
    );
    let week = h.ok("bob", "calendar 2026-12-02");
    assert!(
        week.starts_with("Calendar, week of 2026-11-30 (Europe/Berlin):"),
        "{week}"
    );
    let production = week.find("\nproduction").expect("a production section");
    let staging = week.find("\nstaging").expect("a staging section");
    assert!(production < staging);
    assert!(
        week.contains("🧊 THU 12-03 00:00 → FRI 12-04 00:00  F-1 board meeting"),
        "{week}"
    );
    assert!(week.contains("TUE 12-01 14:00  R-1    api 2.4.0"), "{week}");
    assert!(h.ok("bob", "calendar today").contains("nothing scheduled"));
    let for_carol = h.ok("carol", "calendar 2026-12-02");
    assert!(
        for_carol.starts_with("Calendar, week of 2026-11-30 (America/New_York):"),
        "{for_carol}"
    );
    assert!(
        for_carol.contains("TUE 12-01 08:00  R-1"),
        "her own timezone: {for_carol}"
    );
}

fn deployment(action: DeployAction, outcome: JobOutcome, started: i64, took: i64) -> Deployment {
    let base = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    Deployment {
        job: String::new(),
        action,
        version: Version::parse("1.0.0").unwrap(),
        by: UserRef::parse("shell:dave").unwrap(),
        started_at: base + Duration::hours(started),
        reason: None,
        finished_at: Some(base + Duration::hours(started + took)),
        outcome: Some(outcome),
        url: None,
        message: None,
    }
}

fn release(id: u64, service: &str, requested: i64, deployments: Vec<Deployment>) -> Release {
    let base = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    Release {
        id: ReleaseId::new(id),
        service: Name::parse(service).unwrap(),
        version: Version::parse("1.0.0").unwrap(),
        environment: Name::parse("production").unwrap(),
        status: ReleaseStatus::Deployed,
        requester: UserRef::parse("shell:alice").unwrap(),
        requested_at: base + Duration::hours(requested),
        updated_at: base,
        priority: Priority::Normal,
        notes: None,
        scheduled_at: None,
        approvals: vec![],
        checklist: vec![],
        deployments,
        previous: None,
        rejected: None,
        cancelled: None,
        promoted_from: None,
        fixes: None,
        incident: None,
        changes: None,
        revision: 0,
    }
}

#[test]
fn stats_on_a_known_history() {
    use DeployAction::{Deploy, Rollback};
    use JobOutcome::{Failed, Succeeded};
    let history = vec![
        // api: deployed 10 h after request; later rolled back (rollback took 1 h).
        release(
            1,
            "api",
            0,
            vec![
                deployment(Deploy, Succeeded, 9, 1),
                deployment(Rollback, Succeeded, 20, 1),
            ],
        ),
        // api: failed deploy at hour 31; nothing linked recovers it (R-3
        // is not its rollback or its incident's fix).
        release(2, "api", 28, vec![deployment(Deploy, Failed, 30, 1)]),
        release(3, "api", 32, vec![deployment(Deploy, Succeeded, 34, 1)]),
        // web: one clean deploy, 4 h lead time.
        release(4, "web", 0, vec![deployment(Deploy, Succeeded, 3, 1)]),
    ];
    let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let stats = super::compute_stats(&history, from, from + Duration::days(7));
    let api = &stats["api"];
    assert_eq!(
        (api.deploys, api.failed_jobs, api.failed_live, api.rollbacks),
        (2, 1, 1, 1)
    );
    assert_eq!(api.change_failure_rate(), Some(2.0 / 3.0));
    let mut leads: Vec<i64> = api.lead_times.iter().map(|d| d.num_hours()).collect();
    leads.sort();
    assert_eq!(leads, vec![3, 10]);
    let mut restores: Vec<i64> = api.restore_times.iter().map(|d| d.num_hours()).collect();
    restores.sort();
    assert_eq!(
        restores,
        vec![11],
        "R-1 went live at hour 10 and its rollback went live at hour 21"
    );
    assert_eq!(stats["web"].change_failure_rate(), Some(0.0));
}

#[test]
fn the_queue_puts_higher_priority_first() {
    let h = harness();
    h.ok("alice", "request api 1.0.0 to production priority low");
    h.ok("alice", "request web 1.0.0 to production");
    h.ok("alice", "request api 1.0.1 to production priority high");
    let pending = h.ok("bob", "list pending");
    let order: Vec<&str> = pending
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(order, vec!["R-3", "R-2", "R-1"]);
}
