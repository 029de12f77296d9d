//! Soak time: earned while live and healthy, kept across a newer version,
//! lost to a failed deploy or a rollback.

use chrono::TimeZone;

use super::*;
use crate::domain::ids::{ReleaseId, UserRef};
use crate::domain::release::{Deployment, Priority, ReleaseStatus};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn v(text: &str) -> Version {
    Version::parse(text).unwrap()
}

/// A staging release of `version` with runs (action, version put live, minute, outcome).
fn release(id: u64, version: &str, runs: &[(DeployAction, &str, i64, JobOutcome)]) -> Release {
    Release {
        id: ReleaseId::new(id),
        service: Name::parse("api").unwrap(),
        version: v(version),
        environment: Name::parse("staging").unwrap(),
        status: ReleaseStatus::Deployed,
        requester: UserRef::parse("shell:alice").unwrap(),
        requested_at: t(-60),
        updated_at: t(0),
        priority: Priority::Normal,
        notes: None,
        scheduled_at: None,
        approvals: vec![],
        checklist: vec![],
        deployments: runs
            .iter()
            .map(|(action, live, at, outcome)| Deployment {
                job: format!("R-{id}-{at}"),
                action: *action,
                version: v(live),
                by: UserRef::parse("shell:dave").unwrap(),
                started_at: t(*at) - Duration::minutes(1),
                reason: None,
                finished_at: Some(t(*at)),
                outcome: Some(*outcome),
                url: None,
                message: None,
            })
            .collect(),
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

use DeployAction::{Deploy, Rollback};
use JobOutcome::{Failed, Succeeded};

#[test]
fn a_live_version_earns_until_now_and_says_when_it_is_done() {
    let history = [release(1, "2.0", &[(Deploy, "2.0", 0, Succeeded)])];
    let soak = soak(&history, &v("2.0"), t(45));
    assert_eq!(soak.earned, Duration::minutes(45));
    assert!(soak.running);
    assert_eq!(soak.done_at(Duration::minutes(60), t(45)), Some(t(60)));
    assert_eq!(soak.done_at(Duration::minutes(30), t(45)), Some(t(45)));
    assert_eq!(
        super::soak(&history, &v("3.0"), t(45)).earned,
        Duration::zero()
    );
}

#[test]
fn a_newer_version_stops_the_clock_but_keeps_what_was_earned() {
    let mut history = vec![
        release(1, "2.0", &[(Deploy, "2.0", 0, Succeeded)]),
        release(2, "2.1", &[(Deploy, "2.1", 30, Succeeded)]),
    ];
    let stopped = soak(&history, &v("2.0"), t(100));
    assert_eq!(stopped.earned, Duration::minutes(30));
    assert!(!stopped.running);
    assert_eq!(stopped.done_at(Duration::minutes(60), t(100)), None);
    // Back on 2.0 at minute 80: its clock runs on from 30.
    history.push(release(3, "2.0", &[(Deploy, "2.0", 80, Succeeded)]));
    let resumed = soak(&history, &v("2.0"), t(100));
    assert_eq!(resumed.earned, Duration::minutes(50));
    assert!(resumed.running);
}

#[test]
fn a_failed_deploy_or_a_rollback_of_the_version_loses_the_time_before_it() {
    let failed_again = [
        release(1, "2.0", &[(Deploy, "2.0", 0, Succeeded)]),
        release(2, "2.0", &[(Deploy, "2.0", 40, Failed)]),
    ];
    let soak_after_failure = soak(&failed_again, &v("2.0"), t(70));
    // Still live: its clock runs again from the failure.
    assert_eq!(soak_after_failure.earned, Duration::minutes(30));
    assert!(soak_after_failure.running);
    let rolled_back = [
        release(1, "1.9", &[(Deploy, "1.9", -100, Succeeded)]),
        release(
            2,
            "2.0",
            &[
                (Deploy, "2.0", 0, Succeeded),
                (Rollback, "1.9", 20, Succeeded),
            ],
        ),
    ];
    let gone = soak(&rolled_back, &v("2.0"), t(90));
    assert_eq!(gone.earned, Duration::zero());
    assert!(!gone.running);
    // The version rolled back to earns as usual.
    assert_eq!(
        soak(&rolled_back, &v("1.9"), t(90)).earned,
        Duration::minutes(100 + 70)
    );
}

#[test]
fn drift_counts_the_versions_gone_live_since_the_later_environment_s_one() {
    let history = [
        release(1, "2.0", &[(Deploy, "2.0", 0, Succeeded)]),
        release(2, "2.1", &[(Deploy, "2.1", 10, Succeeded)]),
        release(3, "2.2", &[(Deploy, "2.2", 20, Failed)]),
        release(4, "2.3", &[(Deploy, "2.3", 30, Succeeded)]),
    ];
    let names = |found: Option<Vec<&Version>>| {
        found.map(|vs| vs.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(
        names(drift(&history, &v("2.0"))),
        Some(vec!["2.1".into(), "2.3".into()])
    );
    assert_eq!(names(drift(&history, &v("2.3"))), Some(vec![]));
    assert_eq!(names(drift(&history, &v("1.0"))), None);
}
