//! The store's behaviour, one suite run against both backends: a real
//! temporary sled store, and a real PostgreSQL schema of its own when
//! `RELEASEBOT_TEST_DATABASE_URL` is set.

use chrono::{TimeZone, Utc};

use super::testkit::{TestSchema, TestStore};
use super::*;
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef, Version};
use crate::domain::message::Message;
use crate::domain::outbox::{Announcement, Digest, Timer, TimerKind};
use crate::domain::release::{Priority, ReleaseStatus};

fn release(id: ReleaseId, status: ReleaseStatus) -> Release {
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
        revision: 0,
    }
}

fn draft(action: &str, id: Option<ReleaseId>) -> AuditDraft {
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

fn announcement(id: u64, channel: &str, line: &str) -> Announcement {
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
fn add_release(store: &Store, status: ReleaseStatus) -> ReleaseId {
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
        store.transaction(|tx| tx.announce(&announcement(7, "slack:C0RELEASES", "requested"))).unwrap();
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
                tx.announce(&announcement(1, "slack:C1", "first"))?;
                tx.announce(&announcement(2, "slack:C1", "other release"))?;
                tx.announce(&announcement(1, "slack:C1", "second"))?;
                tx.post_digest(&Digest { channel: ChannelRef::parse("slack:C1").unwrap(), text: "today".into() })
            })
            .unwrap();
        let lines: Vec<String> = store
            .claim_announcements(&["slack".into()], 10)
            .unwrap()
            .into_iter()
            .filter_map(|(_, a)| a.thread_line.map(|line| line.to_string()))
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

/// Two instances on one schema, for the tests below.
fn two_instances() -> Option<(TestSchema, Store, Store)> {
    let url = testkit::database_url("store suite")?;
    let schema = TestSchema::new(&url);
    let a = schema.connect("instance-a").unwrap();
    let b = schema.connect("instance-b").unwrap();
    Some((schema, a, b))
}

#[test]
fn postgres_two_instances_never_hold_one_lane_and_take_over_a_dead_ones() {
    let Some((_schema, a, b)) = two_instances() else {
        return;
    };
    a.transaction(|tx| {
        tx.announce(&announcement(1, "slack:C1", "one"))?;
        tx.announce(&announcement(2, "slack:C1", "two"))
    })
    .unwrap();
    let slack = ["slack".to_string()];
    let first = a.claim_announcements(&slack, 10).unwrap();
    assert_eq!(first.len(), 2, "a claims both lanes");
    assert!(
        b.claim_announcements(&slack, 10).unwrap().is_empty(),
        "b gets none while a's claims live"
    );
    a.transaction(|tx| tx.announce(&announcement(1, "slack:C1", "one, later")))
        .unwrap();
    assert!(
        b.claim_announcements(&slack, 10).unwrap().is_empty(),
        "a later step joins a's lane"
    );
    assert_eq!(
        a.claim_announcements(&slack, 10).unwrap().len(),
        3,
        "a renews its lanes"
    );
    // b knows when a's claims run out (the lease is 2 s in tests); a
    // holds nothing of b's.
    let due = b.next_takeover().unwrap().expect("a's claims run out");
    assert!(
        due > std::time::Duration::from_millis(1500) && due <= std::time::Duration::from_secs(2),
        "{due:?}"
    );
    assert_eq!(a.next_takeover().unwrap(), None);
    // a dies: b takes its lanes over once they run out.
    std::thread::sleep(due + std::time::Duration::from_millis(50));
    let taken = b.claim_announcements(&slack, 10).unwrap();
    assert_eq!(taken.len(), 3);
    assert_eq!(b.lease_counts().takeovers, 3);
    let release = ReleaseId::new(1);
    let channel = ChannelRef::parse("slack:C1").unwrap();
    assert!(
        matches!(a.begin_post(release, &channel), Err(StoreError::ClaimLost)),
        "a stale holder may not post"
    );
    assert_eq!(b.begin_post(release, &channel).unwrap(), None);
}

#[test]
fn postgres_one_scheduler_lease_with_a_rising_epoch() {
    let Some((_schema, a, b)) = two_instances() else {
        return;
    };
    assert_eq!(a.hold_lease("scheduler").unwrap(), Some(1));
    assert_eq!(b.hold_lease("scheduler").unwrap(), None);
    assert_eq!(
        a.hold_lease("scheduler").unwrap(),
        Some(1),
        "renewal keeps the epoch"
    );
    std::thread::sleep(std::time::Duration::from_millis(2300));
    assert_eq!(b.hold_lease("scheduler").unwrap(), Some(2), "taken over");
    assert_eq!(a.hold_lease("scheduler").unwrap(), None);
    assert!(b.health().leases.iter().any(|l| l.contains("scheduler")));
}

#[test]
fn postgres_concurrent_commands_on_two_instances_keep_one_chain_and_dense_ids() {
    let Some((_schema, a, b)) = two_instances() else {
        return;
    };
    let write = |store: Store| {
        std::thread::spawn(move || {
            for _ in 0..25 {
                store
                    .transaction(|tx| {
                        let id = tx.allocate_release_id()?;
                        tx.put_release(&release(id, ReleaseStatus::Requested), None)?;
                        tx.audit(draft("request", Some(id)))?;
                        Ok(())
                    })
                    .unwrap();
            }
        })
    };
    let (one, two) = (write(a.clone()), write(b.clone()));
    one.join().unwrap();
    two.join().unwrap();
    assert_eq!(a.release_count().unwrap(), 50);
    let log: Vec<AuditEntry> = b.audit_log().collect::<StoreResult<_>>().unwrap();
    assert_eq!(audit::verify(&log), Ok(50));
}

#[test]
fn postgres_a_schema_newer_than_this_build_is_refused_naming_both_versions() {
    let Some(url) = testkit::database_url("store suite") else {
        return;
    };
    let schema = TestSchema::new(&url);
    drop(schema.connect("first").unwrap());
    postgres::execute_once(
        &url,
        &format!(
            "INSERT INTO {}.schema_migrations (version) VALUES (99)",
            schema.name
        ),
    )
    .unwrap();
    let error = schema.connect("second").err().expect("refused");
    let text = error.to_string();
    assert!(
        text.contains("schema version 99") && text.contains("reads version 2"),
        "{text}"
    );
    assert!(
        text.contains("127.0.0.1") || text.contains("localhost"),
        "names the server: {text}"
    );
}

#[test]
fn postgres_a_wrong_password_or_missing_database_is_one_clear_line_without_the_password() {
    let Some(url) = testkit::database_url("store suite") else {
        return;
    };
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    config.dbname("releasebot_no_such_database");
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    let user = config.get_user().unwrap_or("postgres").to_string();
    let missing = format!("postgres://{user}:s3cret-pw@{host}/releasebot_no_such_database");
    let error = Store::connect(&postgres::PgOptions::new(missing))
        .err()
        .expect("refused");
    assert!(matches!(error, StoreError::Rejected(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("releasebot_no_such_database") && !text.contains("s3cret-pw"),
        "{text}"
    );
}

#[test]
fn a_database_that_is_down_is_unavailable_not_a_crash() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let options = postgres::PgOptions::new("postgres://releasebot:pw@127.0.0.1:1/releasebot");
    let error = Store::connect(&options).err().expect("no database there");
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("127.0.0.1:1") && !text.contains("pw@"),
        "{text}"
    );
}

#[test]
fn copy_moves_everything_from_sled_to_postgres_and_back() {
    let sled = TestStore::sled();
    let from = &sled.store;
    let id = add_release(from, ReleaseStatus::Requested);
    let bob = UserRef::parse("shell:bob").unwrap();
    let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    from.transaction(|tx| {
        tx.audit(draft("request", Some(id)))?;
        tx.grant(&bob, "approver")?;
        tx.announce(&announcement(id.number(), "slack:C1", "requested"))?;
        tx.set_last_fired("cron:daily", due)?;
        tx.replace_timers(
            &[],
            &[Timer {
                due,
                kind: TimerKind::ApprovalNudge,
                release: id,
            }],
        )?;
        tx.put_posted(id, &ChannelRef::parse("slack:C1").unwrap(), "1.000")
    })
    .unwrap();
    from.first_delivery("slack:event:Ev1", due).unwrap();
    let Some(pg) = TestStore::postgres("store suite") else {
        return;
    };
    let report = copy(from, &pg.store).unwrap();
    assert_eq!(
        (report.releases, report.audit_entries, report.announcements),
        (1, 1, 1)
    );
    let to = &pg.store;
    assert_eq!(to.release(id).unwrap(), from.release(id).unwrap());
    assert_eq!(to.grants().unwrap(), from.grants().unwrap());
    assert_eq!(to.last_fired("cron:daily").unwrap(), Some(due));
    assert_eq!(to.all_timers().unwrap().len(), 1);
    assert_eq!(
        to.release_for_thread(&ChannelRef::parse("slack:C1").unwrap(), "1.000")
            .unwrap(),
        Some(id)
    );
    assert!(to.delivery_seen("slack:event:Ev1").unwrap());
    assert_eq!(
        to.transaction(|tx| tx.allocate_release_id()).unwrap(),
        ReleaseId::new(2),
        "ids go on"
    );
    // A second copy into the same (now non-empty) store is refused, and changes nothing.
    let before = to.fingerprint().unwrap();
    assert!(matches!(copy(from, to), Err(StoreError::Rejected(_))));
    assert_eq!(to.fingerprint().unwrap(), before);
    // And back into a new sled store.
    let back = TestStore::sled();
    let report = copy(to, &back.store).unwrap();
    assert_eq!(report.releases, 1);
    let log: Vec<AuditEntry> = back.store.audit_log().collect::<StoreResult<_>>().unwrap();
    assert_eq!(audit::verify(&log), Ok(1));
}

/// A TCP proxy to the test server that can be cut (every connection
/// dropped, new ones refused) and restored: the database going away.
struct Cuttable {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Cuttable {
    fn to(url: &str) -> Cuttable {
        use std::sync::atomic::{AtomicBool, Ordering};
        let config: tokio_postgres::Config = url.parse().unwrap();
        let host = match &config.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(_) => "127.0.0.1".into(),
        };
        let target = format!(
            "{host}:{}",
            config.get_ports().first().copied().unwrap_or(5432)
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(AtomicBool::new(true));
        let flag = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let flag = flag.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        use std::io::{Read, Write};
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0
                                || !flag.load(Ordering::SeqCst)
                                || to.write_all(&buf[..n]).is_err()
                            {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        let _ = from.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Cuttable { port, open }
    }

    fn set(&self, open: bool) {
        self.open.store(open, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn postgres_gone_while_running_answers_unavailable_changes_nothing_and_comes_back() {
    let Some(url) = testkit::database_url("store suite") else {
        return;
    };
    let proxy = Cuttable::to(&url);
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    config.host("127.0.0.1").port(proxy.port);
    let user = config.get_user().unwrap_or("postgres").to_string();
    let database = config.get_dbname().unwrap_or("test").to_string();
    let via_proxy = format!("postgres://{user}@127.0.0.1:{}/{database}", proxy.port);
    let schema = TestSchema::new(&url);
    let store = Store::connect(
        &postgres::PgOptions {
            statement_timeout: std::time::Duration::from_secs(2),
            ..schema.options("flaky")
        }
        .with_url(via_proxy),
    )
    .unwrap();
    let before = add_release(&store, ReleaseStatus::Requested);
    proxy.set(false);
    // The pooled connection notices on its next statement.
    let _ = store.release(before);
    let gone = store.transaction(|tx| tx.allocate_release_id());
    assert!(matches!(gone, Err(StoreError::Unavailable(_))), "{gone:?}");
    assert!(store.health().problem.is_some());
    proxy.set(true);
    let back = (0..50).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        store.transaction(|tx| tx.allocate_release_id()).ok()
    });
    assert_eq!(
        back,
        Some(ReleaseId::new(2)),
        "nothing was taken while it was gone"
    );
    assert_eq!(store.release_count().unwrap(), 2);
}
