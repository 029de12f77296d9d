//! `stats`: DORA's five metrics for production unless told otherwise, per
//! environment and service, with a weekly trend; an unknown scope is
//! refused and changes nothing.

use chrono::Duration;

use super::tests::Harness;
use crate::domain::Refusal;

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"
admin_roles = ["deployer"]

[roles]
developer = ["shell:alice"]
deployer = ["shell:dave"]

[services.api]
[services.web]

[environments.staging]
approve = ["developer"]
deploy = ["developer"]
self_approval = true

[environments.production]
approve = ["developer"]
deploy = ["deployer"]
rollback = ["deployer"]
self_approval = true
"##;

fn ship(h: &Harness, id: u64, line: &str, by: &str) {
    h.ok("alice", line);
    h.ok("alice", &format!("approve R-{id}"));
    h.clock.advance(Duration::hours(2));
    h.ok(by, &format!("deploy R-{id}"));
    h.succeed(id);
}

#[test]
fn stats_count_production_by_default_with_all_five_and_a_trend() {
    let h = Harness::with_config(CONFIG);
    ship(&h, 1, "request api 1.0 to production", "dave");
    h.clock.advance(Duration::days(8));
    ship(&h, 2, "request api 1.1 to production", "dave");
    h.clock.advance(Duration::minutes(30));
    h.ok("dave", "rollback R-2 errors up");
    h.succeed(2);
    ship(&h, 3, "request web 3.0 to staging", "alice");
    h.clock.advance(Duration::minutes(1));

    let production = h.ok("alice", "stats month");
    let first = production.lines().next().unwrap();
    assert_eq!(
        first,
        "Stats for production, the last 30 days (medians; trend by week, oldest first):"
    );
    let row = |name: &str| {
        production
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in\n{production}"))
            .to_string()
    };
    assert!(
        row("deployment frequency").contains("2 deploys (0.5/week)"),
        "{production}"
    );
    assert!(
        row("change lead time").contains("2.0 h (from request)"),
        "{production}"
    );
    assert!(row("change fail rate").contains("50%"), "{production}");
    assert!(
        row("recovery time").contains("30 min"),
        "from R-2 going live to its rollback going live: {production}"
    );
    assert!(row("rework rate").contains("33%"), "{production}");
    // Four weeks, oldest first: one deploy in each of the last two.
    assert!(
        row("deployment frequency").ends_with("▁▁██"),
        "{production}"
    );
    assert!(
        row("rework rate").ends_with("  ▁█"),
        "weeks without deploys are blank"
    );
    assert!(
        !production.contains("\nweb "),
        "staging's web is not production's"
    );

    let staging = h.ok("alice", "stats staging");
    assert!(
        staging.starts_with("Stats for staging, the last 7 days"),
        "{staging}"
    );
    assert!(staging.contains("\nweb "), "{staging}");
    let api = h.ok("alice", "stats quarter api");
    assert!(
        api.starts_with("Stats for api in production, the last 91 days"),
        "{api}"
    );
    assert!(matches!(
        h.refusal("alice", "stats nowhere"),
        Refusal::NoSuchEnvironment { .. }
    ));
}

#[test]
fn a_sparkline_scales_to_the_highest_week_and_leaves_empty_weeks_blank() {
    use crate::view::sparkline;
    assert_eq!(sparkline(&[Some(0.0), Some(7.0), None, Some(3.5)]), "▁█ ▅");
    assert_eq!(sparkline(&[Some(0.0), Some(0.0)]), "▁▁");
}

#[test]
fn a_fix_is_rework_and_recovers_the_failure_it_is_linked_to() {
    let h = Harness::with_config(CONFIG);
    ship(&h, 1, "request api 1.0 to production", "dave");
    ship(&h, 2, "request api 1.1 to production", "dave");
    h.clock.advance(Duration::minutes(10));
    h.ok("dave", "incident open api production sev2 latency doubled");
    // R-3's own deploy lands 2 h later (`ship` waits before deploying).
    ship(&h, 3, "request api 1.2 to production fix I-1", "dave");
    h.clock.advance(Duration::minutes(1));
    let stats = h.ok("alice", "stats");
    let row = |name: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in\n{stats}"))
            .to_string()
    };
    assert!(row("deployment frequency").contains("3 deploys"), "{stats}");
    assert!(row("change fail rate").contains("33%"), "{stats}");
    assert!(row("rework rate").contains("33%"), "the fix: {stats}");
    assert!(
        row("recovery time").contains("2.2 h"),
        "from R-2 live to its incident's fix live: {stats}"
    );
}

#[test]
fn lead_time_starts_at_the_first_commit_where_the_code_says_when() {
    use crate::domain::notes::Changes;
    let h = Harness::with_config(CONFIG);
    ship(&h, 1, "request api 1.0 to production", "dave");
    let mut release = h.release(1);
    let deployed = release.deployments[0].finished_at.unwrap();
    release.changes = Some(Changes {
        key: "k".into(),
        summary: Some("1 change".into()),
        missing: None,
        first_commit_at: Some(deployed - Duration::days(3)),
    });
    let from = deployed - Duration::days(7);
    let stats =
        crate::domain::stats::compute(&[release.clone()], from, deployed + Duration::hours(1));
    assert_eq!(stats["api"].lead_times, vec![Duration::days(3)]);
    assert_eq!(stats["api"].from_commit, 1);
    // Without a source: from the request.
    release.changes = None;
    let stats = crate::domain::stats::compute(&[release], from, deployed + Duration::hours(1));
    assert_eq!(stats["api"].lead_times, vec![Duration::hours(2)]);
}
