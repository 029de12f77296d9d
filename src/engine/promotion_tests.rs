//! Promotion with soak: `promote` files the next environment's release,
//! linked to the first; production's soak rule refuses a deploy until the
//! version has been live in staging long enough, says when it may go, and
//! yields to a release manager's override with a reason, audited. Bad
//! input leaves the store as it was (`Harness::refusal`, `unparsed`).

use chrono::Duration;

use super::tests::Harness;
use crate::clock::Clock;
use crate::domain::ids::ReleaseId;
use crate::domain::{Act, Refusal, SoakClock};

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"
admin_roles = ["release-manager"]

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob"]
deployer = ["shell:dave"]

[services.api]

[environments.staging]
approve = ["developer"]
deploy = ["developer"]
self_approval = true

[environments.production]
request = ["developer", "release-manager"]
approve = ["release-manager"]
deploy = ["deployer", "release-manager"]
requires = { environment = "staging", soak_minutes = 60 }
"##;

/// R-1: api 2.0 live in staging from now; R-2: promoted, approved for production.
fn staged_and_promoted(h: &Harness) -> String {
    h.ok(
        "alice",
        r#"request api 2.0 to staging notes "faster checkout""#,
    );
    h.ok("alice", "approve R-1");
    h.ok("alice", "deploy R-1");
    h.succeed(1);
    let promoted = h.ok("alice", "promote R-1");
    h.ok("bob", "approve R-2");
    promoted
}

#[test]
fn promote_files_the_next_environment_linked_and_with_the_notes() {
    let h = Harness::with_config(CONFIG);
    let reply = staged_and_promoted(&h);
    assert!(
        reply.starts_with("R-2 requested: api 2.0 → production"),
        "{reply}"
    );
    let r2 = h
        .engine
        .store()
        .release(ReleaseId::new(2))
        .unwrap()
        .unwrap();
    assert_eq!(r2.promoted_from, Some(ReleaseId::new(1)));
    assert_eq!(r2.notes.as_deref(), Some("faster checkout"));
    assert!(h.ok("bob", "status R-2").contains("Promoted from R-1"));
    assert!(h.ok("bob", "history R-2").contains("promoting R-1"));
}

#[test]
fn the_soak_rule_refuses_until_the_version_soaked_and_says_when() {
    let h = Harness::with_config(CONFIG);
    staged_and_promoted(&h);
    h.clock.advance(Duration::minutes(20));
    let refusal = h.refusal("dave", "deploy R-2");
    let Refusal::NotSoaked {
        earned_minutes,
        needed_minutes,
        clock,
        ..
    } = &refusal
    else {
        panic!("{refusal:?}")
    };
    assert_eq!((*earned_minutes, *needed_minutes), (20, 60));
    assert_eq!(
        *clock,
        SoakClock::ReadyAt(h.clock.now() + Duration::minutes(40))
    );
    let words = refusal.text().to_string();
    assert!(
        words.contains("in staging for 20 min of the 60 it needs; it may go at"),
        "{words}"
    );
    assert!(h
        .ok("bob", "status R-2")
        .contains("\nDrift: production runs no version of api yet\n"));
    h.clock.advance(Duration::minutes(40));
    assert!(h.ok("dave", "deploy R-2").starts_with("R-2 is deploying"));
    h.succeed(2);
    assert!(h
        .ok("bob", "status R-2")
        .contains("Drift: production runs 2.0, level with staging"));
    h.ok("alice", "request api 2.1 to staging");
    h.ok("alice", "approve R-3");
    h.ok("alice", "deploy R-3");
    h.succeed(3);
    let status = h.ok("bob", "status R-3");
    assert!(
        status.contains("Drift: production runs 2.0, 1 version behind staging (2.1)"),
        "{status}"
    );
}

#[test]
fn a_release_manager_may_override_with_a_reason_which_is_audited() {
    let h = Harness::with_config(CONFIG);
    staged_and_promoted(&h);
    h.clock.advance(Duration::minutes(5));
    // Only a release manager, and only with a reason.
    assert!(matches!(
        h.refusal("dave", "deploy R-2 override customers are down"),
        Refusal::NotAdmin {
            act: Act::Override,
            ..
        }
    ));
    let missing = h.unparsed("bob", "deploy R-2 override");
    assert!(
        missing
            .message
            .contains("Missing the reason for the override"),
        "{missing}"
    );
    h.ok("bob", "deploy R-2 override customers are down");
    let history = h.ok("bob", "history R-2");
    assert!(
        history.contains(
            "soak overridden before its soak in staging was done (5 of 60 min): customers are down"
        ),
        "{history}"
    );
}

#[test]
fn promote_refuses_a_release_that_never_reached_its_environment_or_has_nowhere_to_go() {
    let h = Harness::with_config(CONFIG);
    h.ok("alice", "request api 2.1 to staging");
    assert!(matches!(
        h.refusal("alice", "promote R-1"),
        Refusal::NotPromotable { .. }
    ));
    h.ok("alice", "approve R-1");
    h.ok("alice", "deploy R-1");
    h.succeed(1);
    h.clock.advance(Duration::minutes(90));
    h.ok("alice", "promote R-1 to production");
    h.ok("bob", "approve R-2");
    h.ok("dave", "deploy R-2");
    h.succeed(2);
    assert!(matches!(
        h.refusal("bob", "promote R-2"),
        Refusal::NoNextEnvironment { .. }
    ));
    assert!(matches!(
        h.refusal("bob", "promote R-9"),
        Refusal::NoSuchRelease(_)
    ));
}

#[test]
fn an_incident_in_the_required_environment_stops_the_soak_clock_while_open() {
    let h = Harness::with_config(CONFIG);
    staged_and_promoted(&h);
    h.clock.advance(Duration::minutes(20));
    h.ok("bob", "incident open api staging sev3 slow pages");
    h.clock.advance(Duration::minutes(60));
    let Refusal::NotSoaked {
        earned_minutes,
        clock,
        ..
    } = h.refusal("dave", "deploy R-2")
    else {
        panic!("not refused for soak")
    };
    assert_eq!(earned_minutes, 20);
    assert_eq!(
        clock,
        SoakClock::Incident(crate::domain::incident::IncidentId::new(1))
    );
    h.ok("bob", "resolve I-1 a noisy neighbour");
    h.clock.advance(Duration::minutes(39));
    assert!(matches!(
        h.refusal("dave", "deploy R-2"),
        Refusal::NotSoaked {
            earned_minutes: 59,
            ..
        }
    ));
    h.clock.advance(Duration::minutes(1));
    h.ok("dave", "deploy R-2");
}
