//! The store's behaviour, one suite run against both backends: a real
//! temporary sled store, and a real PostgreSQL schema of its own when
//! `RELEASEBOT_TEST_DATABASE_URL` is set.

use chrono::{TimeZone, Utc};

use super::testkit::TestStore;
use super::*;
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef, Version};
use crate::domain::message::Message;
use crate::domain::outbox::{Announcement, Digest, Timer, TimerKind};
use crate::domain::release::{Priority, ReleaseStatus};

pub(super) fn release(id: ReleaseId, status: ReleaseStatus) -> Release {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    Release {
        id,
        service: Name::parse("api").unwrap(),
        version: Version::parse("1.0.0").unwrap(),
        environment: Name::parse("staging").unwrap(),
        status,
        requester: UserRef::parse("shell:alice").unwrap(),
        requested_at: now,
        updated_at: now,
        priority: Priority::Normal,
        notes: None,
        scheduled_at: None,
        approvals: vec![],
        checklist: vec![],
        deployments: vec![],
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

pub(super) fn draft(action: &str, id: Option<ReleaseId>) -> AuditDraft {
    AuditDraft {
        at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        actor: UserRef::parse("shell:bob").unwrap(),
        action: action.to_string(),
        release: id,
        before: None,
        after: None,
        detail: String::new(),
    }
}

pub(super) fn announcement(id: u64, channel: &str, line: &str) -> Announcement {
    Announcement {
        channel: ChannelRef::parse(channel).unwrap(),
        message: Message {
            release: ReleaseId::new(id),
            status: ReleaseStatus::Requested,
            headline: format!("R-{id}").into(),
            service: "api".into(),
            version: "1.0.0".into(),
            environment: "staging".into(),
            requester: "shell:alice".into(),
            fields: vec![],
            actions: vec![],
            notes: None,
        },
        thread_line: Some(line.into()),
    }
}

/// Writes one release through a transaction.
pub(super) fn add_release(store: &Store, status: ReleaseStatus) -> ReleaseId {
    store
        .transaction(|tx| {
            let id = tx.allocate_release_id()?;
            tx.put_release(&release(id, status), None)?;
            Ok(id)
        })
        .unwrap()
}

/// Each test function runs once per backend: `sled::name` and
/// `postgres::name` (which skips, saying so once, without a server).
macro_rules! store_suite {
    ($(fn $name:ident($store:ident: &Store) $body:block)*) => {
        $(fn $name($store: &Store) $body)*

        mod on_sled {
            $(#[test]
            fn $name() {
                let kept = super::TestStore::sled();
                super::$name(&kept.store);
            })*
        }

        mod on_postgres {
            $(#[test]
            fn $name() {
                if let Some(kept) = super::TestStore::postgres("store suite") {
                    super::$name(&kept.store);
                }
            })*
        }
    };
}

store_suite! {
    fn a_refused_transaction_writes_nothing(store: &Store) {
        let before = store.fingerprint().unwrap();
        let result = store.transaction(|tx| {
            let id = tx.allocate_release_id()?;
            tx.put_release(&release(id, ReleaseStatus::Requested), None)?;
            tx.audit(draft("request", Some(id)))?;
            Err::<(), _>(Refusal::NoSuchFreeze(1).into())
        });
        assert!(matches!(result, Err(StoreError::Refused(Refusal::NoSuchFreeze(1)))));
        assert_eq!(store.fingerprint().unwrap(), before);
        assert_eq!(store.release_count().unwrap(), 0);
        assert!(store.audit_log().next().is_none());
    }

    fn status_changes_move_index_entries_and_counts(store: &Store) {
        let first = release(ReleaseId::new(1), ReleaseStatus::Requested);
        store.transaction(|tx| tx.put_release(&first, None)).unwrap();
        let mut approved = first.clone();
        approved.status = ReleaseStatus::Approved;
        store
            .transaction(|tx| tx.put_release(&approved, Some(&first)))
            .unwrap();
        assert_eq!(store.count(ReleaseStatus::Requested).unwrap(), 0);
        assert_eq!(store.count(ReleaseStatus::Approved).unwrap(), 1);
        let stored = store.with_status(ReleaseStatus::Approved, 10).unwrap();
        assert_eq!(stored.total, 1);
        assert_eq!(stored.releases[0].revision, 1, "each change raises the revision");
        approved.revision = 1;
        assert_eq!(stored.releases, vec![approved]);
        assert!(store
            .with_status(ReleaseStatus::Requested, 10)
            .unwrap()
            .releases
            .is_empty());
    }

    fn indexes_answer_newest_first_and_by_time(store: &Store) {
        for _ in 0..3 {
            add_release(store, ReleaseStatus::Requested);
        }
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 14, 0, 0).unwrap();
        let mut scheduled = store.release(ReleaseId::new(2)).unwrap().unwrap();
        let before = scheduled.clone();
        scheduled.scheduled_at = Some(at);
        store
            .transaction(|tx| tx.put_release(&scheduled, Some(&before)))
            .unwrap();
        let ids = |releases: Vec<Release>| releases.iter().map(|r| r.id.number()).collect::<Vec<_>>();
        assert_eq!(ids(store.newest(2).unwrap()), vec![3, 2]);
        assert_eq!(ids(store.older_than(ReleaseId::new(3), 5).unwrap()), vec![2, 1]);
        assert_eq!(ids(store.older_than(ReleaseId::new(2), 1).unwrap()), vec![1]);
        assert!(store.older_than(ReleaseId::new(1), 5).unwrap().is_empty());
        assert_eq!(ids(store.newest_with_status(ReleaseStatus::Requested, 10).unwrap()), vec![3, 2, 1]);
        let alice = UserRef::parse("shell:alice").unwrap();
        assert_eq!(ids(store.requested_by(&alice, 10).unwrap()), vec![3, 2, 1]);
        let day = chrono::Duration::days(1);
        assert_eq!(ids(store.scheduled_between(at - day, at + day).unwrap()), vec![2]);
        assert!(store.scheduled_between(at + day, at + day * 2).unwrap().is_empty());
        assert_eq!(store.release_count().unwrap(), 3);
        assert_eq!(store.all_releases().count(), 3);
    }

    fn the_audit_log_is_one_verified_chain(store: &Store) {
        let id = add_release(store, ReleaseStatus::Requested);
        for action in ["request", "approve", "deploy"] {
            store.transaction(|tx| tx.audit(draft(action, Some(id)))).unwrap();
        }
        store.transaction(|tx| tx.audit(draft("freeze", None))).unwrap();
        let log: Vec<AuditEntry> = store.audit_log().collect::<StoreResult<_>>().unwrap();
        assert_eq!(audit::verify(&log), Ok(4));
        assert_eq!(store.audit_for(id).unwrap().len(), 3);
    }

    fn a_delivery_marked_in_a_transaction_is_refused_the_second_time(store: &Store) {
        let now = Utc::now();
        store.transaction(|tx| tx.mark_delivery("slack:event:Ev9", now)).unwrap();
        let before = store.fingerprint().unwrap();
        let again = store.transaction(|tx| {
            tx.mark_delivery("slack:event:Ev9", now)?;
            tx.allocate_release_id()
        });
        assert!(matches!(again, Err(StoreError::Duplicate)));
        assert_eq!(store.fingerprint().unwrap(), before, "the redelivery changed nothing");
        assert!(store.delivery_seen("slack:event:Ev9").unwrap());
    }

    fn a_delivery_is_new_once_and_forgotten_after_a_while(store: &Store) {
        let noon = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        assert!(store.first_delivery("slack:event:Ev1", noon).unwrap());
        assert!(!store.first_delivery("slack:event:Ev1", noon).unwrap());
        assert!(store
            .first_delivery("discord:interaction:1", noon + chrono::Duration::hours(2))
            .unwrap());
        assert_eq!(store.forget_deliveries(noon + chrono::Duration::hours(1)).unwrap(), 1);
        assert!(store.first_delivery("slack:event:Ev1", noon).unwrap(), "forgotten, so new again");
        assert!(!store.first_delivery("discord:interaction:1", noon).unwrap(), "kept");
    }

    fn a_posted_announcement_is_found_from_its_thread(store: &Store) {
        let channel = ChannelRef::parse("slack:C0RELEASES").unwrap();
        let other = ChannelRef::parse("slack:C0OTHER").unwrap();
        store.transaction(|tx| tx.announce(announcement(7, "slack:C0RELEASES", "requested"))).unwrap();
        let (key, _) = store.claim_announcements(&["slack".into()], 10).unwrap().remove(0);
        let before = Utc::now() - chrono::Duration::seconds(1);
        assert_eq!(store.begin_post(ReleaseId::new(7), &channel).unwrap(), None, "a first try");
        let began = store.begin_post(ReleaseId::new(7), &channel).unwrap();
        assert!(
            began.is_some_and(|at| at > before && at <= Utc::now()),
            "an earlier try is known, with when it began: {began:?}"
        );
        store.delivered(key, ReleaseId::new(7), &channel, "1764151200.000001").unwrap();
        assert_eq!(store.posted(ReleaseId::new(7), &channel).unwrap().as_deref(), Some("1764151200.000001"));
        assert_eq!(store.release_for_thread(&channel, "1764151200.000001").unwrap(), Some(ReleaseId::new(7)));
        assert_eq!(store.release_for_thread(&other, "1764151200.000001").unwrap(), None);
        assert_eq!(store.release_for_thread(&channel, "1764151200.000002").unwrap(), None);
        assert_eq!(store.outbox_depths().unwrap(), (0, 0));
    }

    fn outboxes_keep_their_order(store: &Store) {
        store
            .transaction(|tx| {
                tx.announce(announcement(1, "slack:C1", "first"))?;
                tx.announce(announcement(2, "slack:C1", "other release"))?;
                tx.announce(announcement(1, "slack:C1", "second"))?;
                tx.post_digest(&Digest { channel: ChannelRef::parse("slack:C1").unwrap(), text: "today".into() })
            })
            .unwrap();
        let lines: Vec<String> = store
            .claim_announcements(&["slack".into()], 10)
            .unwrap()
            .into_iter()
            .filter_map(|(_, a)| a.thread_line.as_ref().map(|line| line.to_string()))
            .collect();
        assert_eq!(lines, ["first", "other release", "second"]);
        assert_eq!(store.pending_digests(10).unwrap().len(), 1);
        assert_eq!(store.outbox_depths().unwrap(), (4, 0));
        let (key, _) = store.claim_digests(&["slack".into()], 10).unwrap().remove(0);
        store.digest_delivered(key).unwrap();
        assert_eq!(store.outbox_depths().unwrap(), (3, 0));
    }

    fn grants_are_read_inside_a_transaction(store: &Store) {
        let bob = UserRef::parse("shell:bob").unwrap();
        assert!(store.transaction(|tx| tx.grant(&bob, "approver")).unwrap());
        assert!(!store.transaction(|tx| tx.grant(&bob, "approver")).unwrap());
        let seen = store.transaction(|tx| tx.granted_roles(&bob)).unwrap();
        assert!(seen.contains("approver"));
        assert_eq!(store.grants().unwrap(), vec![(bob.clone(), "approver".to_string())]);
        assert!(store.transaction(|tx| tx.revoke(&bob, "approver")).unwrap());
        assert!(store.transaction(|tx| tx.grants()).unwrap().is_empty());
    }

    fn a_timer_fires_once_and_a_slot_is_recorded_once(store: &Store) {
        let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let timer = Timer { due, kind: TimerKind::ApprovalNudge, release: ReleaseId::new(1) };
        store.transaction(|tx| tx.replace_timers(&[], &[timer])).unwrap();
        assert_eq!(store.due_timers(due, 10).unwrap(), vec![timer]);
        assert!(store.due_timers(due - chrono::Duration::seconds(1), 10).unwrap().is_empty());
        assert_eq!(store.next_timer().unwrap(), Some(due));
        assert!(store.transaction(|tx| tx.take_timer(&timer)).unwrap());
        assert!(!store.transaction(|tx| tx.take_timer(&timer)).unwrap(), "gone already");
        assert!(store.transaction(|tx| tx.record_slot("cron:daily", due)).unwrap());
        assert!(!store.transaction(|tx| tx.record_slot("cron:daily", due)).unwrap());
        store.transaction(|tx| tx.set_last_fired("cron:daily", due)).unwrap();
        assert_eq!(store.last_fired("cron:daily").unwrap(), Some(due));
    }

    fn records_keep_by_kind_and_key_with_an_id_counter_per_kind(store: &Store) {
        assert_eq!(store.transaction(|tx| tx.allocate_record_id("incident")).unwrap(), 1);
        assert_eq!(store.transaction(|tx| tx.allocate_record_id("incident")).unwrap(), 2);
        assert_eq!(store.transaction(|tx| tx.allocate_record_id("notes")).unwrap(), 1);
        store.transaction(|tx| {
            tx.put_record("notes", "b", Some(b"2"))?;
            tx.put_record("notes", "a", Some(b"1"))?;
            tx.put_record("incident", "x", Some(b"3"))
        }).unwrap();
        assert_eq!(store.record("notes", "a").unwrap(), Some(b"1".to_vec()));
        let notes: Vec<String> = store.records("notes").unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(notes, ["a", "b"]);
        assert_eq!(store.record_kinds().unwrap(), ["incident", "notes"]);
        store.transaction(|tx| tx.put_record("notes", "a", None)).unwrap();
        assert_eq!(store.transaction(|tx| tx.record("notes", "a")).unwrap(), None);
        assert_eq!(store.transaction(|tx| tx.next_record_id("incident")).unwrap(), 3);
    }

    fn an_incidents_indexes_follow_it(store: &Store) {
        use crate::domain::incident::*;
        use crate::store::incidents::{Incidents, TxIncidents};
        use crate::domain::ids::{Name, Version};
        let alice = UserRef::parse("shell:alice").unwrap();
        let (api, prod) = (Name::parse("api").unwrap(), Name::parse("production").unwrap());
        let bad = Version::parse("2.1").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let mut incident = store.transaction(|tx| {
            let incident = Incident {
                id: tx.allocate_incident_id()?,
                service: api.clone(),
                environment: prod.clone(),
                severity: Severity::Sev2,
                summary: "errors".into(),
                lead: alice.clone(),
                opened_at: now,
                cause: None,
                events: Vec::new(),
                rolled_back: vec![bad.clone()],
                cleared: Vec::new(),
                nudged_at: None,
                resolved_at: None,
            };
            tx.put_incident(&incident)?;
            Ok(incident)
        }).unwrap();
        let open = store.transaction(|tx| tx.open_incident(&api, &prod)).unwrap();
        assert_eq!(open.as_ref().map(|i| i.id), Some(incident.id));
        assert_eq!(store.open_incidents().unwrap().len(), 1);
        incident.resolved_at = Some(now);
        store.transaction(|tx| tx.put_incident(&incident)).unwrap();
        assert!(store.transaction(|tx| tx.open_incident(&api, &prod)).unwrap().is_none());
        assert!(store.open_incidents().unwrap().is_empty());
        let held = store.transaction(|tx| tx.holding_back(&api, &prod, &bad)).unwrap();
        assert_eq!(held.map(|i| i.id), Some(incident.id));
        incident.cleared.push(bad.clone());
        store.transaction(|tx| tx.put_incident(&incident)).unwrap();
        assert!(store.transaction(|tx| tx.holding_back(&api, &prod, &bad)).unwrap().is_none());
        assert_eq!(store.incidents().unwrap(), vec![incident]);
    }

    fn one_process_holds_every_lease_it_asks_for(store: &Store) {
        assert!(store.hold_lease("scheduler").unwrap().is_some());
        assert!(store.hold_lease("scheduler").unwrap().is_some(), "renewed");
        assert_eq!(store.health().problem, None);
    }
}

#[test]
fn a_second_open_of_the_same_dir_names_the_dir() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    // sled locks the directory per process; a second process is what users hit,
    // and the integration tests cover that. Within one process sled shares
    // nothing between two `open`s, so the lock refuses here too.
    match Store::open(dir.path()) {
        Err(error @ StoreError::Locked(_)) => {
            assert!(error
                .to_string()
                .contains(&dir.path().display().to_string()));
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a second open succeeded"),
    }
}

#[test]
fn data_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        add_release(&store, ReleaseStatus::Requested);
    }
    // sled's flusher thread lets go of the directory's lock a moment after
    // the last handle drops (a new process never sees this).
    let mut reopened = Store::open(dir.path());
    for _ in 0..40 {
        if !matches!(reopened, Err(StoreError::Locked(_))) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        reopened = Store::open(dir.path());
    }
    let store = reopened.unwrap();
    assert_eq!(store.release_count().unwrap(), 1);
    assert!(store.release(ReleaseId::new(1)).unwrap().is_some());
}
