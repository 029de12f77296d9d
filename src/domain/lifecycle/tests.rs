//! The lifecycle rules on one release, without a store.

use super::*;
use crate::domain::policy::tests::{directory, policy, user};
use chrono::Duration;

fn roles(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|r| r.to_string()).collect()
}

fn requested(policy: &EnvPolicy, now: DateTime<Utc>) -> Release {
    let alice = user("alice");
    let draft = RequestDraft {
        service: Name::parse("api").unwrap(),
        version: Version::parse("2.4.0").unwrap(),
        environment: policy.name.clone(),
        scheduled_at: None,
        notes: None,
        priority: Priority::Normal,
        fixes: None,
    };
    let actor = Actor {
        user: &alice,
        roles: &roles(&["developer"]),
    };
    request(ReleaseId::new(1), draft, actor, policy, now).unwrap()
}

/// A release Bob approved (quorum 1), and the directory where Dave deploys.
fn approved_by_bob(policy: &EnvPolicy, now: DateTime<Utc>) -> (Directory, Release) {
    let dir = directory(&[("bob", &["release-manager"]), ("dave", &["deployer"])]);
    let mut release = requested(policy, now);
    let bob = user("bob");
    let actor = Actor {
        user: &bob,
        roles: &roles(&["release-manager"]),
    };
    approve(&mut release, actor, None, policy, &dir, now).unwrap();
    (dir, release)
}

#[test]
fn the_requester_cannot_approve_when_self_approval_is_off() {
    let now = Utc::now();
    let p = policy(1, &[]);
    let mut release = requested(&p, now);
    let alice = user("alice");
    let rm = roles(&["release-manager"]);
    let refusal = approve(
        &mut release,
        Actor {
            user: &alice,
            roles: &rm,
        },
        None,
        &p,
        &directory(&[]),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(refusal, Refusal::SelfApproval { .. }),
        "{refusal:?}"
    );
    assert!(release.approvals.is_empty());
}

#[test]
fn reaching_quorum_approves_and_changing_the_version_drops_approvals() {
    let now = Utc::now();
    let p = policy(1, &[]);
    let dir = directory(&[("bob", &["release-manager"])]);
    let mut release = requested(&p, now);
    let bob = user("bob");
    let rm = roles(&["release-manager"]);
    let bob_acts = Actor {
        user: &bob,
        roles: &rm,
    };
    approve(&mut release, bob_acts, None, &p, &dir, now).unwrap();
    assert_eq!(release.status, ReleaseStatus::Approved);
    let dropped = change(
        &mut release,
        bob_acts,
        Some(Version::parse("2.4.1").unwrap()),
        None,
        &p,
        now,
    )
    .unwrap();
    assert_eq!((dropped, release.status), (1, ReleaseStatus::Requested));
}

#[test]
fn deploy_is_refused_once_approvals_expire() {
    let now = Utc::now();
    let p = policy(1, &[]);
    let (dir, mut release) = approved_by_bob(&p, now);
    let (dave, dep) = (user("dave"), roles(&["deployer"]));
    let later = now + Duration::hours(73);
    let refusal = start_deploy(
        &mut release,
        Actor {
            user: &dave,
            roles: &dep,
        },
        &p,
        &dir,
        None,
        later,
    )
    .unwrap_err();
    assert!(
        matches!(&refusal, Refusal::ApprovalsStale { expired, .. } if !expired.is_empty()),
        "{refusal:?}"
    );
    assert_eq!(release.status, ReleaseStatus::Approved);
}

#[test]
fn a_deploy_then_rollback_targets_the_previous_live_version() {
    let now = Utc::now();
    let p = policy(1, &[]);
    let (dir, mut release) = approved_by_bob(&p, now);
    let (dave, dep) = (user("dave"), roles(&["deployer"]));
    let live = LiveVersion {
        version: Version::parse("2.3.9").unwrap(),
        release: ReleaseId::new(9),
    };
    let deploy = start_deploy(
        &mut release,
        Actor {
            user: &dave,
            roles: &dep,
        },
        &p,
        &dir,
        Some(live),
        now,
    )
    .unwrap();
    assert_eq!(deploy.job, "R-1-deploy-1");
    assert!(finish_job(
        &mut release,
        &deploy.job,
        JobOutcome::Succeeded,
        None,
        None,
        now
    )
    .unwrap());
    assert!(!finish_job(
        &mut release,
        &deploy.job,
        JobOutcome::Failed,
        None,
        None,
        now
    )
    .unwrap());
    assert_eq!(release.status, ReleaseStatus::Deployed);
    let rollback = start_rollback(
        &mut release,
        Actor {
            user: &dave,
            roles: &dep,
        },
        "broken".into(),
        &p,
        now,
    )
    .unwrap();
    assert_eq!(rollback.version.as_str(), "2.3.9");
    assert_eq!(release.status, ReleaseStatus::RollingBack);
}

#[test]
fn checklist_items_are_found_by_number_or_name() {
    let now = Utc::now();
    let mut p = policy(1, &[]);
    p.checklist = vec!["QA sign-off".into(), "Release notes".into()];
    let release = requested(&p, now);
    assert_eq!(release.find_checklist_item("2"), Some(1));
    assert_eq!(release.find_checklist_item("qa"), Some(0));
    assert_eq!(release.find_checklist_item("3"), None);
}
