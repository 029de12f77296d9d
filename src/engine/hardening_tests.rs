//! Reproducers from the hardening issue: extreme dates and counts get a
//! clear refusal (never a panic), permission comes before calendar
//! arithmetic, and `change` cannot carry a sign-off or a role across.

use super::tests::Harness;
use crate::domain::ids::ReleaseId;
use crate::domain::{Act, Refusal};

fn harness() -> Harness {
    Harness::with_config(super::tests::CONFIG)
}

#[test]
fn extreme_dates_are_refused_with_their_range_and_change_nothing() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to staging");
    for line in [
        "calendar +262142-12-31",
        "calendar -262143-01-01",
        "calendar 0000-01-01",
        "request api 1.0.0 to production at +262142-12-30 23:59",
        "request api 1.0.0 to production at -262143-01-01 00:00",
        "request api 1.0.0 to production at +262142-12-30T23:59",
        "schedule R-1 +262142-12-30 23:59",
        "freeze production 2026-12-01 to +262142-12-30 forever",
        "freeze production -262143-01-01 to 2026-12-30 backwards",
    ] {
        let error = h.unparsed("bob", line);
        assert!(
            error
                .message
                .contains("is out of range: dates go from 1970-01-01 to 9999-12-31"),
            "{line}: {error:?}"
        );
    }
}

#[test]
fn a_deploy_time_more_than_ten_years_ahead_is_refused() {
    let h = harness();
    let refusal = h.refusal(
        "alice",
        "request api 1.0.0 to production at 9999-12-30 23:59",
    );
    assert!(
        matches!(refusal, Refusal::TooFarAhead { years: 10, .. }),
        "{refusal:?}"
    );
    h.ok(
        "alice",
        "request api 1.0.0 to production at 2036-11-01 10:00",
    );
}

#[test]
fn who_may_request_is_settled_before_the_requested_time_is_read() {
    let h = harness();
    // mallory holds no role: the refusal is about the role, whatever the time.
    for line in [
        "request api 1.0.0 to production at 9999-12-30 23:59",
        "request api 1.0.0 to production at 2026-11-01 10:00",
        "request api 1.0.0 to production at 2027-03-28 02:30",
    ] {
        let refusal = h.refusal("mallory", line);
        assert!(
            matches!(&refusal, Refusal::NotPermitted { act: Act::Request, environment, .. } if environment.as_str() == "production"),
            "{line}: {refusal:?}"
        );
    }
    h.ok("alice", "request api 2.4.0 to production");
    let refusal = h.refusal("mallory", "schedule R-1 9999-12-30 23:59");
    assert!(
        matches!(refusal, Refusal::NotParticipant { act: Act::Schedule, release, .. } if release == ReleaseId::new(1)),
        "{refusal:?}"
    );
}

#[test]
fn changing_the_version_clears_the_checklist_and_says_so_in_the_audit() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("alice", "check R-1 1");
    h.ok("alice", "check R-1 2");
    let reply = h.ok("alice", "change R-1 version 2.4.1");
    assert!(reply.contains("checklist ticks dropped"), "{reply}");
    let release = h.release(1);
    assert_eq!(release.checklist.len(), 2);
    assert!(release.checklist.iter().all(|c| !c.done && c.by.is_none()));
    let audit = h.engine.store().audit_for(ReleaseId::new(1)).unwrap();
    let change = audit.iter().find(|e| e.action == "change").unwrap();
    assert!(
        change.detail.contains("2.4.0") && change.detail.contains("2.4.1"),
        "{}",
        change.detail
    );
    assert!(
        change.detail.contains("checklist cleared"),
        "{}",
        change.detail
    );
}

#[test]
fn moving_a_release_to_another_environment_takes_the_request_permission_there() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to staging");
    // dave deploys to staging (a participant) but may not request production.
    let refusal = h.refusal("dave", "change R-1 to production");
    assert!(
        matches!(&refusal, Refusal::MayNotMoveTo { environment, .. } if environment.as_str() == "production"),
        "{refusal:?}"
    );
    // bob may request production: he may move it, and its checklist is production's.
    h.ok("bob", "change R-1 to production");
    let release = h.release(1);
    assert_eq!(release.environment.as_str(), "production");
    assert_eq!(release.checklist.len(), 2);
}
