//! One test per rule of the README's policy table ("Who may do what"):
//! who may, in which state, with which ids and spellings. Every refusal is
//! checked to leave the store as it was (`Harness::refusal`), and matched
//! by its variant, not its words.
//!
//! The harness config: production takes `request` = developer or release
//! manager, `approve` = release manager or QA (one of each), `deploy` and
//! `rollback` = deployer or release manager, self-approval off, a two-item
//! checklist; staging lets anyone request, developers and release managers
//! approve (self-approval on), developers and deployers deploy. alice is a
//! developer, bob and carol release managers, dave a deployer, erin QA,
//! mallory holds no role.

use super::tests::{Harness, CONFIG};
use crate::domain::ids::ReleaseId;
use crate::domain::release::ReleaseStatus;
use crate::domain::{Act, Refusal};

fn harness() -> Harness {
    Harness::with_config(CONFIG)
}

/// api 2.4.0 to production, approved by bob and erin, checklist done, no time.
fn approved_production(h: &Harness) {
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    h.ok("erin", "approve R-1");
    h.ok("alice", "check R-1 1");
    h.ok("alice", "check R-1 2");
}

#[test]
fn request_takes_the_environments_request_role() {
    let h = harness();
    for who in ["mallory", "erin", "dave"] {
        assert!(matches!(
            h.refusal(who, "request api 2.4.0 to production"),
            Refusal::NotPermitted { act: Act::Request, environment, .. } if environment.as_str() == "production"
        ));
    }
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "request api 2.4.1 to production");
    // staging leaves `request` unset: anyone.
    h.ok("mallory", "request api 2.4.2 to staging");
}

#[test]
fn approve_takes_the_approve_role_and_never_the_requesters_own_when_self_approval_is_off() {
    let h = harness();
    h.ok("bob", "request api 2.4.0 to production");
    for who in ["alice", "dave"] {
        assert!(matches!(
            h.refusal(who, "approve R-1"),
            Refusal::NotPermitted { act: Act::Approve, environment, .. } if environment.as_str() == "production"
        ));
    }
    assert!(matches!(
        h.refusal("bob", "approve R-1"),
        Refusal::SelfApproval { .. }
    ));
    h.ok("carol", "approve R-1");
    // staging: self-approval on.
    h.ok("alice", "request api 2.4.0 to staging");
    h.ok("alice", "approve R-2");
    assert_eq!(h.status(2), ReleaseStatus::Approved);
}

#[test]
fn an_approver_counts_once_and_the_quorum_needs_each_role() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    assert!(matches!(
        h.refusal("bob", "approve R-1"),
        Refusal::AlreadyApproved { .. }
    ));
    // Two release managers do not make the QA approval.
    h.ok("carol", "approve R-1");
    assert_eq!(h.status(1), ReleaseStatus::Requested);
    h.ok("erin", "approve R-1");
    assert_eq!(h.status(1), ReleaseStatus::Approved);
}

#[test]
fn reject_takes_the_approve_role_and_ends_the_request() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    assert!(matches!(
        h.refusal("alice", "reject R-1 not now"),
        Refusal::NotPermitted { act: Act::Reject, environment, .. } if environment.as_str() == "production"
    ));
    h.ok("erin", "reject R-1 smoke tests fail");
    assert_eq!(h.status(1), ReleaseStatus::Rejected);
    assert!(matches!(
        h.refusal("bob", "approve R-1"),
        Refusal::Ended {
            status: ReleaseStatus::Rejected,
            act: Act::Approve,
            ..
        }
    ));
}

#[test]
fn cancel_takes_the_requester_or_an_approver() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("alice", "request api 2.4.1 to production");
    for who in ["mallory", "dave"] {
        assert!(matches!(
            h.refusal(who, "cancel R-1"),
            Refusal::MayNotCancel { release, .. } if release == ReleaseId::new(1)
        ));
    }
    h.ok("alice", "cancel R-1 wrong build");
    h.ok("erin", "cancel R-2");
    assert_eq!(h.status(1), ReleaseStatus::Cancelled);
    assert_eq!(h.status(2), ReleaseStatus::Cancelled);
}

#[test]
fn schedule_change_and_check_take_a_participant() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    for line in [
        "schedule R-1 2026-12-01 14:00",
        "change R-1 version 2.4.1",
        "check R-1 1",
    ] {
        let refusal = h.refusal("mallory", line);
        assert!(
            matches!(refusal, Refusal::NotParticipant { .. }),
            "{line}: {refusal:?}"
        );
    }
    // The requester, an approver and a deployer are participants.
    h.ok("alice", "schedule R-1 2026-12-01 14:00");
    h.ok("erin", "check R-1 1");
    h.ok("dave", "unschedule R-1");
    h.ok("bob", "change R-1 version 2.4.1");
}

#[test]
fn deploy_takes_the_deploy_role_a_met_quorum_and_a_done_checklist() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    assert!(matches!(
        h.refusal("alice", "deploy R-1"),
        Refusal::NotPermitted { act: Act::Deploy, environment, .. } if environment.as_str() == "production"
    ));
    assert!(matches!(
        h.refusal("dave", "deploy R-1"),
        Refusal::NotApprovedYet { .. }
    ));
    h.ok("erin", "approve R-1");
    assert!(matches!(
        h.refusal("dave", "deploy R-1"),
        Refusal::ChecklistOpen {
            done: 0,
            total: 2,
            ..
        }
    ));
    h.ok("alice", "check R-1 1");
    h.ok("alice", "check R-1 Release notes");
    h.ok("dave", "deploy R-1");
    assert_eq!(h.status(1), ReleaseStatus::Deploying);
    assert!(matches!(
        h.refusal("bob", "deploy R-1"),
        Refusal::AlreadyRunning {
            status: ReleaseStatus::Deploying,
            ..
        }
    ));
}

#[test]
fn nothing_changes_once_a_release_has_ended() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("alice", "cancel R-1");
    for line in [
        "approve R-1",
        "reject R-1 late",
        "cancel R-1",
        "schedule R-1 2026-12-01 14:00",
        "change R-1 version 2.4.1",
        "check R-1 1",
        "deploy R-1",
    ] {
        let refusal = h.refusal("bob", line);
        assert!(
            matches!(
                refusal,
                Refusal::Ended {
                    status: ReleaseStatus::Cancelled,
                    ..
                } | Refusal::NotDeployable {
                    status: ReleaseStatus::Cancelled,
                    ..
                }
            ),
            "{line}: {refusal:?}"
        );
    }
}

#[test]
fn rollback_takes_the_rollback_role_and_a_deployed_or_failed_release() {
    let h = harness();
    approved_production(&h);
    assert!(matches!(
        h.refusal("dave", "rollback R-1 bad"),
        Refusal::NotRollbackable {
            status: ReleaseStatus::Approved,
            ..
        }
    ));
    assert!(matches!(
        h.refusal("alice", "rollback R-1 bad"),
        Refusal::NotPermitted { act: Act::Rollback, environment, .. } if environment.as_str() == "production"
    ));
}

#[test]
fn lock_takes_the_deploy_role_and_freeze_bump_and_grant_take_an_admin_role() {
    let h = harness();
    assert!(matches!(
        h.refusal("alice", "lock api production migration"),
        Refusal::NotPermitted { act: Act::Lock, environment, .. } if environment.as_str() == "production"
    ));
    h.ok("dave", "lock api production migration");
    h.ok("dave", "unlock api production");
    for line in [
        "freeze production 2026-12-20 to 2027-01-04 year end",
        "grant shell:mallory qa",
        "revoke shell:erin qa",
    ] {
        let refusal = h.refusal("dave", line);
        assert!(
            matches!(refusal, Refusal::NotAdmin { .. }),
            "{line}: {refusal:?}"
        );
    }
    h.ok("bob", "freeze production 2026-12-20 to 2027-01-04 year end");
    h.ok("bob", "unfreeze F-1");
    h.ok(
        "alice",
        "request api 2.4.0 to production at 2026-12-01 14:00",
    );
    assert_eq!(
        h.refusal("dave", "bump R-1 hotfix first"),
        Refusal::NotAdmin {
            act: Act::Bump,
            needs: "release-manager".into()
        }
    );
    h.ok("bob", "bump R-1 hotfix first");
}

#[test]
fn a_granted_role_counts_like_one_in_the_config() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    assert!(matches!(
        h.refusal("mallory", "approve R-1"),
        Refusal::NotPermitted {
            act: Act::Approve,
            ..
        }
    ));
    h.ok("bob", "grant shell:mallory qa");
    h.ok("mallory", "approve R-1");
    h.ok("bob", "revoke shell:mallory qa");
    h.ok("alice", "request api 2.4.1 to production");
    assert!(matches!(
        h.refusal("mallory", "approve R-2"),
        Refusal::NotPermitted {
            act: Act::Approve,
            ..
        }
    ));
}

#[test]
fn ids_are_read_in_every_documented_spelling() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to staging");
    for (who, line) in [
        ("bob", "approve R-1"),
        ("carol", "status r-1"),
        ("carol", "status #1"),
        ("carol", "status 1"),
        ("carol", "history R-1"),
    ] {
        let reply = h.ok(who, line);
        assert!(reply.contains("R-1"), "{line}: {reply}");
    }
    assert!(h
        .unparsed("bob", "status R-x")
        .message
        .contains("is not a release id; release ids look like R-42"));
    assert_eq!(
        h.refusal("bob", "status R-2"),
        Refusal::NoSuchRelease(ReleaseId::new(2))
    );
}

#[test]
fn read_commands_are_open_to_anyone() {
    let h = harness();
    h.ok("alice", "request api 2.4.0 to production");
    for line in [
        "status R-1",
        "list",
        "history R-1",
        "calendar",
        "freezes",
        "roles",
        "help",
    ] {
        h.ok("mallory", line);
    }
    assert_eq!(h.release(1).approvals.len(), 0);
}
