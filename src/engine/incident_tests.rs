//! Incident mode: a rollback opens an incident that locks deploys of its
//! service and environment until it is resolved; only its fix passes, in a
//! release manager's hands, audited as break-glass; the version rolled
//! back stays out until a release manager clears it; updates and the
//! resolution reach each audience in its own words; the lead is nudged
//! when an update is due. Bad input leaves the store as it was.

use chrono::Duration;

use super::tests::Harness;
use crate::clock::Clock;
use crate::domain::incident::IncidentId;
use crate::domain::Refusal;

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"
admin_roles = ["release-manager"]

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob"]
deployer = ["shell:dave"]

[services.api]
channels = ["shell:#api"]

[environments.staging]
approve = ["developer"]
deploy = ["developer"]
self_approval = true

[environments.production]
request = ["developer", "release-manager"]
approve = ["release-manager"]
deploy = ["deployer", "release-manager"]
rollback = ["deployer", "release-manager"]

[incidents]
rollback_severity = "sev1"
update_minutes = { sev1 = 30 }

[audiences.customers]
channels = ["shell:#status"]
incident = "We are looking into {impact} affecting {service}. Next update by {next_update}."
incident_update = "{service}: {update}"
resolution = "{service} is working normally again: {resolution}"
"##;

/// R-1 api 2.0 and R-2 api 2.1 live in production, then R-2 rolled back by dave.
fn rolled_back(h: &Harness) -> String {
    for (id, version) in [(1, "2.0"), (2, "2.1")] {
        h.ok("alice", &format!("request api {version} to production"));
        h.ok("bob", &format!("approve R-{id}"));
        h.ok("dave", &format!("deploy R-{id}"));
        h.succeed(id);
        h.clock.advance(Duration::minutes(10));
    }
    let reply = h.ok("dave", "rollback R-2 checkout errors above 5%");
    h.succeed(2);
    reply
}

fn digests(h: &Harness) -> Vec<(String, String)> {
    h.engine
        .store()
        .pending_digests(100)
        .unwrap()
        .into_iter()
        .map(|(_, d)| (d.channel.to_string(), d.text.to_string()))
        .collect()
}

#[test]
fn a_rollback_opens_an_incident_that_locks_deploys_until_resolved() {
    let h = Harness::with_config(CONFIG);
    let reply = rolled_back(&h);
    assert!(reply.contains("opened incident I-1 (sev1)"), "{reply}");
    assert_eq!(h.release(2).incident, Some(IncidentId::new(1)));
    let customers: Vec<_> = digests(&h)
        .into_iter()
        .filter(|(channel, _)| channel == "shell:#status")
        .collect();
    assert_eq!(customers.len(), 1, "{customers:?}");
    assert!(
        customers[0].1.starts_with(
            "We are looking into a major outage affecting api. Next update by 2026-11-26"
        ),
        "{customers:?}"
    );

    h.ok("alice", "request api 2.2 to production");
    h.ok("bob", "approve R-3");
    let Refusal::IncidentLocked { incident, lead, .. } = h.refusal("dave", "deploy R-3") else {
        panic!("not locked")
    };
    assert_eq!(
        (incident.to_string(), lead.to_string()),
        ("I-1".into(), "shell:dave".into())
    );
    // Staging is not locked.
    h.ok("alice", "request api 2.2 to staging");
    h.ok("alice", "approve R-4");
    h.ok("alice", "deploy R-4");

    h.clock.advance(Duration::minutes(20));
    let summary = h.ok("dave", "resolve R-2 rolled back to 2.0; fix in 2.2");
    for part in [
        "I-1 resolved; deploys of api in production are unlocked",
        "### Timeline",
        "rollback: R-2: to 2.0",
        "incident resolve: I-1: rolled back to 2.0; fix in 2.2",
        "### Who did what",
        "**Time to restore:** 10 min (from 2026-11-26 10:10",
        "### What changed in the bad deploy\nR-2 api (2.0..2.1).",
        "**Root cause:**",
    ] {
        assert!(summary.contains(part), "{part:?} in:\n{summary}");
    }
    assert!(digests(&h).iter().any(|(c, t)| c == "shell:#status"
        && t == "api is working normally again: rolled back to 2.0; fix in 2.2"));
    h.ok("dave", "deploy R-3");
    assert!(h.ok("bob", "history R-2").contains("incident_resolve"));
    // R-2's announcement carried the incident's state, edited as it moved.
    let states: Vec<String> = h
        .engine
        .store()
        .pending_announcements(500)
        .unwrap()
        .into_iter()
        .filter(|(_, a)| a.message.release == crate::domain::ids::ReleaseId::new(2))
        .filter_map(|(_, a)| {
            a.message
                .fields
                .iter()
                .find(|f| f.label == "Incident")
                .cloned()
        })
        .map(|f| f.value)
        .collect();
    assert_eq!(
        states.first().map(String::as_str),
        Some("🔴 I-1 sev1, open, led by dave: checkout errors above 5%")
    );
    assert_eq!(states.last().map(String::as_str), Some("✅ I-1 resolved"));
}

#[test]
fn only_the_fix_passes_the_lock_and_only_in_a_release_managers_hands() {
    let h = Harness::with_config(CONFIG);
    rolled_back(&h);
    h.ok("alice", "request api 2.2 to production fix I-1");
    h.ok("bob", "approve R-3");
    let Refusal::FixNeedsManager { incident, .. } = h.refusal("dave", "deploy R-3") else {
        panic!("a deployer passed the lock")
    };
    assert_eq!(incident, IncidentId::new(1));
    let reply = h.ok("bob", "deploy R-3");
    assert!(reply.contains("R-3 is deploying"), "{reply}");
    assert!(h
        .ok("bob", "history R-3")
        .contains("break-glass: the fix of I-1"));
    h.succeed(3);
    h.clock.advance(Duration::minutes(5));
    let summary = h.ok("bob", "resolve I-1 fixed by 2.2");
    assert!(summary.contains("deploy: R-3"), "{summary}");
    let incident =
        crate::store::incidents::Incidents::incident(&**h.engine.store(), IncidentId::new(1))
            .unwrap()
            .unwrap();
    assert!(incident
        .events
        .iter()
        .any(|e| e.release == Some(crate::domain::ids::ReleaseId::new(3))));
}

#[test]
fn the_rolled_back_version_stays_out_until_a_release_manager_clears_it() {
    let h = Harness::with_config(CONFIG);
    rolled_back(&h);
    h.ok("alice", "request api 2.1 to production");
    h.ok("bob", "approve R-3");
    let open = h.refusal("bob", "deploy R-3 override it was fine");
    assert!(
        matches!(open, Refusal::HeldBack { open: true, .. }),
        "{open:?}"
    );
    h.ok("dave", "resolve I-1 rolled back");
    let closed = h.refusal("dave", "deploy R-3");
    assert!(
        matches!(closed, Refusal::HeldBack { open: false, .. }),
        "{closed:?}"
    );
    assert!(closed.to_string().contains("deploy R-3 override <reason>"));
    assert!(matches!(
        h.refusal("dave", "deploy R-3 override it was fine"),
        Refusal::NotAdmin { .. }
    ));
    h.ok("bob", "deploy R-3 override the bug was in a flag, now off");
    assert!(h
        .ok("bob", "history R-3")
        .contains("clearing 2.1, rolled back in I-1: the bug was in a flag, now off"));
}

#[test]
fn updates_reach_the_audiences_and_the_lead_is_nudged_once_when_one_is_due() {
    let h = Harness::with_config(CONFIG);
    rolled_back(&h);
    let reply = h.ok("dave", "update R-2 \"error rate back under 1%, watching\"");
    assert!(reply.contains("Next update due"), "{reply}");
    assert!(digests(&h)
        .iter()
        .any(|(c, t)| c == "shell:#status" && t == "api: error rate back under 1%, watching"));
    let now = h.clock.now();
    assert!(h.engine.nudge_incident_leads(now).unwrap().is_empty());
    let due = now + Duration::minutes(30);
    let nudged = h.engine.nudge_incident_leads(due).unwrap();
    assert_eq!(nudged.len(), 1);
    assert!(
        nudged[0]
            .to_string()
            .contains("I-1 (sev1) is due an update"),
        "{}",
        nudged[0]
    );
    assert!(h
        .engine
        .nudge_incident_leads(due + Duration::minutes(5))
        .unwrap()
        .is_empty());
    h.ok("dave", "incident lead I-1 shell:bob");
    assert!(h.ok("alice", "incident I-1").contains("lead bob"));
}

#[test]
fn an_incident_opened_by_hand_is_put_down_to_what_is_live() {
    let h = Harness::with_config(CONFIG);
    h.ok("alice", "request api 2.0 to production");
    h.ok("bob", "approve R-1");
    h.ok("dave", "deploy R-1");
    h.succeed(1);
    let reply = h.ok("dave", "incident open api production sev2 latency doubled");
    assert!(
        reply.contains("I-1 opened: api in production (sev2), put down to R-1 (2.0)"),
        "{reply}"
    );
    assert_eq!(h.release(1).incident, Some(IncidentId::new(1)));
    assert!(h
        .ok("alice", "incident")
        .contains("I-1 api in production (sev2): latency doubled"));
    h.ok("dave", "resolve R-1 a cache node was restarted");
    assert!(h.ok("alice", "incident").contains("No open incidents"));
}

#[test]
fn bad_incident_input_is_refused_and_changes_nothing() {
    let h = Harness::with_config(CONFIG);
    h.ok("alice", "request api 2.0 to production");
    assert!(matches!(
        h.refusal("dave", "resolve R-1 nothing happened"),
        Refusal::NoOpenIncident { resolved: None, .. }
    ));
    assert!(matches!(
        h.refusal("dave", "resolve I-9 nothing"),
        Refusal::NoSuchIncident(_)
    ));
    assert!(matches!(
        h.refusal("alice", "request api 2.1 to production fix I-9"),
        Refusal::NoSuchIncident(_)
    ));
    h.ok("dave", "incident open api production sev3 slow");
    assert!(matches!(
        h.refusal("dave", "incident open api production sev1 again"),
        Refusal::IncidentAlreadyOpen { .. }
    ));
    assert!(matches!(
        h.refusal("alice", "request api 2.1 to staging fix I-1"),
        Refusal::FixElsewhere { .. }
    ));
    assert!(matches!(
        h.refusal("alice", "update I-1 hello"),
        Refusal::NotIncidentHandler { .. }
    ));
    h.ok("dave", "resolve I-1 fine now");
    assert!(matches!(
        h.refusal("dave", "resolve I-1 again"),
        Refusal::NoOpenIncident {
            resolved: Some(_),
            ..
        }
    ));
    assert!(matches!(
        h.refusal("alice", "request api 2.1 to production fix I-1"),
        Refusal::IncidentResolved { .. }
    ));
    for line in [
        "incident open api production sev4 x",
        "incident open api production sev1",
        "resolve I-1",
        "update X-1 hi",
        "deploy R-1 override",
    ] {
        h.unparsed("dave", line);
    }
}
