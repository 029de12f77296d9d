//! The engine against a real temporary sled store and a fixed clock.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::ci::Relay;
use crate::clock::FixedClock;
use crate::domain::ids::ReleaseId;
use crate::domain::release::ReleaseStatus;
use crate::domain::{Act, Refusal};

pub(super) const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob", "shell:carol"]
deployer = ["shell:dave"]
qa = ["shell:erin"]

[services.api]
channels = ["shell:#api"]
[services.web]
environments = ["staging"]

[environments.production]
channels = ["shell:#releases"]
request = ["developer", "release-manager"]
approve = ["release-manager", "qa"]
deploy = ["deployer", "release-manager"]
rollback = ["deployer", "release-manager"]
approvals = 2
approvals_by_role = { release-manager = 1, qa = 1 }
checklist = ["QA sign-off", "Release notes"]
ci = { kind = "simulate", delay_secs = 60 }

[environments.staging]
channels = ["shell:#staging"]
approve = ["developer", "release-manager"]
deploy = ["developer", "deployer"]
rollback = ["developer", "deployer"]
approvals = 1
self_approval = true
"##;

pub(super) struct Harness {
    pub(super) engine: Engine,
    pub(super) clock: Arc<FixedClock>,
    /// A temporary sled store, or a PostgreSQL schema of its own with
    /// `RELEASEBOT_TEST_BACKEND=postgres`; dropped with the harness.
    _store: crate::store::testkit::TestStore,
}

impl Harness {
    pub(super) fn new() -> Harness {
        Harness::with_config(CONFIG)
    }

    pub(super) fn with_config(text: &str) -> Harness {
        let test_store = crate::store::testkit::TestStore::under_test();
        let store = test_store.store.clone();
        let config = Arc::new(Config::parse(text, "test.toml").unwrap());
        let clock = Arc::new(FixedClock::at(
            Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
        ));
        let engine = Engine::new(store, config, clock.clone());
        Harness {
            engine,
            clock,
            _store: test_store,
        }
    }

    pub(super) fn run(&self, user: &str, line: &str) -> EngineResult<Reply> {
        let user = UserRef::parse(&format!("shell:{user}")).unwrap();
        let origin = Origin {
            channel: ChannelRef::parse("shell:#test").unwrap(),
        };
        self.engine.handle_line(&user, line, &origin)
    }

    /// Reports the running job of release `id` as succeeded, as CI would.
    pub(super) fn succeed(&self, id: u64) {
        let release = self
            .engine
            .store()
            .release(ReleaseId::new(id))
            .unwrap()
            .unwrap();
        self.engine
            .callback(&Callback {
                release: release.id,
                job: release.deployments.last().unwrap().job.clone(),
                outcome: Some(crate::domain::release::JobOutcome::Succeeded),
                url: None,
                message: None,
            })
            .unwrap();
    }

    pub(super) fn ok(&self, user: &str, line: &str) -> String {
        match self.run(user, line) {
            Ok(reply) => reply.text().to_string(),
            Err(error) => panic!("`{line}` as {user} failed: {error}"),
        }
    }

    /// Runs a command that must fail, and checks that the store did not change.
    fn failed(&self, user: &str, line: &str) -> EngineError {
        let before = self.engine.store().fingerprint().unwrap();
        let error = self.run(user, line).expect_err(line);
        assert_eq!(
            self.engine.store().fingerprint().unwrap(),
            before,
            "`{line}` changed the store"
        );
        error
    }

    /// Runs a command the engine must refuse, leaving the store as it was.
    pub(super) fn refusal(&self, user: &str, line: &str) -> Refusal {
        match self.failed(user, line) {
            EngineError::Refused(refusal) => refusal,
            other => panic!("`{line}` failed with {other:?}, not a refusal"),
        }
    }

    /// Runs a line that must not parse, leaving the store as it was.
    pub(super) fn unparsed(&self, user: &str, line: &str) -> crate::domain::command::ParseError {
        match self.failed(user, line) {
            EngineError::Unparsed(error) => error,
            other => panic!("`{line}` failed with {other:?}, not a parse error"),
        }
    }

    /// Release R-`id` as stored; it must exist.
    pub(super) fn release(&self, id: u64) -> crate::domain::release::Release {
        self.engine
            .store()
            .release(ReleaseId::new(id))
            .unwrap()
            .unwrap()
    }

    pub(super) fn status(&self, id: u64) -> ReleaseStatus {
        self.release(id).status
    }

    /// A production release approved by bob (release-manager) and erin (qa), checklist done.
    pub(super) fn ready_for_production(&self) {
        self.ok(
            "alice",
            "request api 2.4.0 to production at 2026-12-01 14:00",
        );
        self.ok("bob", "approve R-1");
        self.ok("erin", "approve R-1");
        self.ok("alice", "check R-1 1");
        self.ok("alice", "check R-1 release notes");
    }

    pub(super) fn relay(&self) -> Relay {
        Relay::new(
            self.engine.clone(),
            self.clock.clone(),
            Arc::new(crate::metrics::Metrics::default()),
        )
    }
}

#[test]
fn a_request_is_filed_with_its_window_quorum_and_checklist() {
    let h = Harness::new();
    let reply = h.ok(
        "alice",
        r#"request api 2.4.0 to production at 2026-12-01 14:00 notes "New checkout flow""#,
    );
    assert_eq!(
        reply,
        "R-1 requested: api 2.4.0 → production, 2026-12-01 14:00 (Europe/Berlin). \
         Needs 2 approvals: 1 qa + 1 release-manager. Checklist 0/2."
    );
    let release = h
        .engine
        .store()
        .release(ReleaseId::new(1))
        .unwrap()
        .unwrap();
    assert_eq!(
        release.scheduled_at,
        Some(Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap())
    );
    assert_eq!(
        h.engine.store().outbox_depths().unwrap(),
        (2, 0),
        "one announcement each for #releases and #api"
    );
}

#[test]
fn replies_carry_the_release_as_stored_and_reads_carry_typed_views() {
    let h = Harness::new();
    h.ok("alice", "request api 2.4.0 to production");
    let approved = h.run("erin", "approve R-1").unwrap();
    let stored = h
        .engine
        .store()
        .release(ReleaseId::new(1))
        .unwrap()
        .unwrap();
    assert_eq!(
        approved.view.release(),
        Some(&stored),
        "the release after the change"
    );
    assert_eq!(stored.revision, 1);
    let status = h.run("bob", "status R-1").unwrap();
    let crate::view::View::Release(view) = &status.view else {
        panic!("{:?}", status.view)
    };
    assert_eq!(view.release, stored);
    assert_eq!((view.quorum.counted, view.quorum.needed), (1, 2));
    assert!(matches!(
        h.run("bob", "list").unwrap().view,
        crate::view::View::List(crate::view::ListView { total: 1, .. })
    ));
}

#[test]
fn a_per_role_quorum_needs_both_roles_and_then_schedules() {
    let h = Harness::new();
    h.ok(
        "alice",
        "request api 2.4.0 to production at 2026-12-01 14:00",
    );
    assert!(h.ok("bob", "approve R-1").contains("still needs 1 qa"));
    assert!(h.ok("carol", "approve R-1").contains("still needs 1 qa"));
    assert!(h
        .ok("erin", "approve R-1 tested")
        .contains("it is now scheduled"));
    assert_eq!(h.status(1), ReleaseStatus::Scheduled);
}

#[test]
fn approving_twice_is_refused_and_counts_once() {
    let h = Harness::new();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    assert!(matches!(
        h.refusal("bob", "approve R-1 again"),
        Refusal::AlreadyApproved { release, .. } if release == ReleaseId::new(1)
    ));
}

#[test]
fn self_approval_follows_the_environment() {
    let h = Harness::new();
    h.ok("bob", "request api 2.4.0 to production");
    assert!(matches!(
        h.refusal("bob", "approve R-1"),
        Refusal::SelfApproval { .. }
    ));
    h.ok("alice", "request api 2.4.0 to staging");
    assert!(h.ok("alice", "approve R-2").contains("it is now approved"));
}

#[tokio::test]
async fn deploy_waits_for_the_checklist_then_the_relay_reports_success() {
    let h = Harness::new();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
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
    h.ok("alice", "check R-1 2");
    assert!(h.ok("dave", "deploy R-1").contains("R-1 is deploying"));
    assert!(matches!(
        h.refusal("dave", "deploy R-1"),
        Refusal::AlreadyRunning {
            status: ReleaseStatus::Deploying,
            ..
        }
    ));
    let relay = h.relay();
    let due = relay
        .run_due(h.clock.now())
        .await
        .expect("the simulated run reports later");
    assert_eq!(due, h.clock.now() + Duration::seconds(60));
    assert_eq!(h.status(1), ReleaseStatus::Deploying);
    h.clock.advance(Duration::seconds(60));
    relay.run_due(h.clock.now()).await;
    assert_eq!(h.status(1), ReleaseStatus::Deployed);
    assert_eq!(
        h.engine.store().outbox_depths().unwrap().1,
        0,
        "the job left the outbox"
    );
}

#[tokio::test]
async fn rollback_targets_the_version_live_before() {
    let h = Harness::new();
    let relay = h.relay();
    for version in ["2.3.0", "2.4.0"] {
        h.ok("alice", &format!("request api {version} to staging"));
    }
    for id in [1, 2] {
        h.ok("alice", &format!("approve R-{id}"));
        h.ok("alice", &format!("deploy R-{id}"));
        relay.run_due(h.clock.now()).await;
        h.clock.advance(Duration::seconds(5));
        relay.run_due(h.clock.now()).await;
        assert_eq!(h.status(id), ReleaseStatus::Deployed);
    }
    assert!(matches!(
        h.refusal("alice", "rollback R-1 whatever"),
        Refusal::NothingToRollBackTo { .. }
    ));
    let reply = h.ok("alice", "rollback R-2 checkout broken");
    assert!(
        reply.contains("api 2.4.0 → 2.3.0 (as shipped in R-1)"),
        "{reply}"
    );
    relay.run_due(h.clock.now()).await;
    h.clock.advance(Duration::seconds(5));
    relay.run_due(h.clock.now()).await;
    assert_eq!(h.status(2), ReleaseStatus::RolledBack);
    let history = h.ok("alice", "history R-2");
    assert!(
        history.contains("rollback R-2 deployed → rolling_back to 2.3.0"),
        "{history}"
    );
}

#[test]
fn a_deploy_is_refused_while_another_release_of_the_target_is_in_flight() {
    let h = Harness::new();
    for _ in 0..2 {
        h.ok("alice", "request api 2.4.0 to staging");
    }
    h.ok("alice", "approve R-1");
    h.ok("alice", "approve R-2");
    h.ok("alice", "deploy R-1");
    assert!(matches!(
        h.refusal("alice", "deploy R-2"),
        Refusal::TargetBusy { release, other, .. }
            if release == ReleaseId::new(2) && other == ReleaseId::new(1)
    ));
}

#[test]
fn changing_the_version_drops_approvals() {
    let h = Harness::new();
    h.ready_for_production();
    assert_eq!(h.status(1), ReleaseStatus::Scheduled);
    let reply = h.ok("alice", "change R-1 version 2.4.1");
    assert!(
        reply.contains("2 approvals and the checklist ticks dropped"),
        "{reply}"
    );
    assert_eq!(h.status(1), ReleaseStatus::Requested);
}

#[test]
fn approvals_expire_after_the_environment_limit() {
    let h = Harness::new();
    h.ready_for_production();
    h.clock.advance(Duration::hours(73));
    let refusal = h.refusal("dave", "deploy R-1");
    assert!(
        matches!(&refusal, Refusal::ApprovalsStale { expired, hours: 72, .. } if expired.len() == 2),
        "{refusal:?}"
    );
}

#[test]
fn concurrent_requests_never_share_an_id() {
    let h = Harness::new();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let engine = h.engine.clone();
            std::thread::spawn(move || {
                let alice = UserRef::parse("shell:alice").unwrap();
                let origin = Origin {
                    channel: ChannelRef::parse("shell:#t").unwrap(),
                };
                (0..25)
                    .map(|i| {
                        let reply = engine
                            .handle_line(
                                &alice,
                                &format!("request api 1.{t}.{i} to staging"),
                                &origin,
                            )
                            .unwrap();
                        reply
                            .text()
                            .to_string()
                            .split(' ')
                            .next()
                            .unwrap()
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    assert_eq!(h.engine.store().release_count().unwrap(), 100);
}

#[test]
fn lists_come_from_the_indexes() {
    let h = Harness::new();
    h.ok("alice", "request api 1.0.0 to staging");
    h.ok("alice", "request api 1.0.1 to staging at 2026-12-02 10:00");
    h.ok("bob", "request web 1.0.0 to staging");
    h.ok("alice", "approve R-2");
    let pending = h.ok("bob", "list pending");
    assert!(pending.starts_with("Pending releases (2):"), "{pending}");
    assert!(pending.contains("R-1") && pending.contains("R-3") && !pending.contains("R-2 "));
    assert!(h.ok("bob", "list scheduled").contains("R-2"));
    let mine = h.ok("bob", "list mine");
    assert!(mine.contains("R-3") && !mine.contains("R-1 "));
}

#[test]
fn help_lists_only_what_the_caller_may_do() {
    let h = Harness::new();
    let for_dave = h.ok("dave", "help");
    assert!(for_dave.contains("deploy <id>") && !for_dave.contains("approve <id>"));
    let for_bob = h.ok("bob", "help");
    assert!(for_bob.contains("approve <id>"));
    assert!(h.ok("bob", "help reject").contains("reject <id> <reason>"));
}

#[test]
fn notes_are_markdown_with_approvals_checklist_and_rollback_plan() {
    let h = Harness::new();
    h.ready_for_production();
    let notes = h.ok("bob", "notes R-1");
    for part in [
        "# R-1 — api 2.4.0 to production",
        "## Approvals",
        "- [x] QA sign-off",
        "## Rollback plan",
        "## Deploy instructions",
    ] {
        assert!(notes.contains(part), "missing {part:?} in\n{notes}");
    }
}

#[test]
fn every_change_is_audited_in_a_verifiable_chain() {
    let h = Harness::new();
    h.ready_for_production();
    let entries: Vec<_> = h
        .engine
        .store()
        .audit_log()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(crate::store::audit::verify(&entries), Ok(5));
    assert_eq!(entries[1].action, "approve");
    assert_eq!(entries[2].after, Some(ReleaseStatus::Scheduled));
}

#[test]
fn roles_granted_in_chat_count_and_are_audited() {
    let h = Harness::new();
    h.ok("alice", "request api 2.4.0 to production");
    h.ok("bob", "approve R-1");
    assert_eq!(
        h.refusal("alice", "grant shell:frank qa"),
        Refusal::NotAdmin {
            act: Act::Grant,
            needs: "release-manager".into()
        }
    );
    assert!(matches!(
        h.refusal("bob", "grant shell:frank wizard"),
        Refusal::NoSuchRole { role, .. } if role == "wizard"
    ));
    assert!(h
        .unparsed("bob", "grant frank qa")
        .message
        .contains("is not a user"));
    assert!(matches!(
        h.refusal("bob", "revoke shell:erin qa"),
        Refusal::RoleFromConfig { role, .. } if role == "qa"
    ));
    assert_eq!(
        h.ok("bob", "grant shell:frank qa"),
        "shell:frank is now qa."
    );
    assert!(matches!(
        h.refusal("bob", "grant shell:frank qa"),
        Refusal::AlreadyHasRole {
            in_config: false,
            ..
        }
    ));
    assert!(
        h.ok("frank", "approve R-1").contains("it is now approved"),
        "a granted qa fills the qa seat"
    );
    assert!(h.ok("bob", "roles").contains("\nfrank: qa*"));
    assert_eq!(
        h.ok("carol", "revoke shell:frank qa"),
        "shell:frank is no longer qa."
    );
    assert!(matches!(
        h.refusal("frank", "approve R-1"),
        Refusal::NotPermitted {
            act: Act::Approve,
            ..
        }
    ));
    let actions: Vec<String> = h
        .engine
        .store()
        .audit_log()
        .map(|e| e.unwrap().action)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "grant" || *a == "revoke")
            .count(),
        2
    );
}

#[test]
fn chat_group_members_hold_the_groups_roles_until_they_leave() {
    let config = CONFIG.replace(
        "release-manager = [\"shell:bob\", \"shell:carol\"]",
        "release-manager = [\"shell:bob\", \"slack:@release-leads\", \"discord:role:42\"]",
    );
    let h = Harness::with_config(&config);
    h.ok("alice", "request api 2.4.0 to production");
    let carol = UserRef::parse("shell:carol").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#test").unwrap(),
    };
    let refused = h.engine.handle_line(&carol, "approve R-1", &origin);
    assert!(refused.is_err(), "not yet in the group");

    let group = UserRef::parse("slack:@release-leads").unwrap();
    h.engine.set_group_members(&group, [carol.clone()]);
    h.engine
        .handle_line(&carol, "approve R-1", &origin)
        .unwrap();

    // A new member list replaces the old one.
    h.engine.set_group_members(&group, []);
    h.ok("alice", "request api 2.5.0 to production");
    assert!(h
        .engine
        .handle_line(&carol, "approve R-2", &origin)
        .is_err());

    // Discord tells a member's roles with each event.
    let role = UserRef::parse("discord:role:42").unwrap();
    h.engine.set_groups_of(&carol, [role].into());
    h.engine
        .handle_line(&carol, "approve R-2", &origin)
        .unwrap();
}
