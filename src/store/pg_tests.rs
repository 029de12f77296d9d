//! The store on PostgreSQL alone: two instances on one schema (lanes,
//! leases, one audit chain), schema versions, refused and missing
//! databases, copying between the backends, and a database that goes away
//! while the bot runs. Each test says it was skipped without a server.

use chrono::{TimeZone, Utc};

use super::testkit::{TestSchema, TestStore};
use super::tests::{add_release, announcement, draft, release};
use super::*;
use crate::domain::ids::{ChannelRef, ReleaseId, UserRef};
use crate::domain::outbox::{Timer, TimerKind};
use crate::domain::release::ReleaseStatus;

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
        tx.announce(announcement(1, "slack:C1", "one"))?;
        tx.announce(announcement(2, "slack:C1", "two"))
    })
    .unwrap();
    let slack = ["slack".to_string()];
    let first = a.claim_announcements(&slack, 10).unwrap();
    assert_eq!(first.len(), 2, "a claims both lanes");
    assert!(
        b.claim_announcements(&slack, 10).unwrap().is_empty(),
        "b gets none while a's claims live"
    );
    a.transaction(|tx| tx.announce(announcement(1, "slack:C1", "one, later")))
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
        text.contains("schema version 99") && text.contains("reads version 4"),
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
        tx.announce(announcement(id.number(), "slack:C1", "requested"))?;
        tx.set_last_fired("cron:daily", due)?;
        tx.replace_timers(
            &[],
            &[Timer {
                due,
                kind: TimerKind::ApprovalNudge,
                release: id,
            }],
        )?;
        let incident = tx.allocate_record_id("incident")?;
        tx.put_record("incident", &incident.to_string(), Some(b"{\"kept\":true}"))?;
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
    assert_eq!(report.records, 1);
    assert_eq!(
        to.records("incident").unwrap(),
        from.records("incident").unwrap()
    );
    assert_eq!(
        to.transaction(|tx| tx.allocate_record_id("incident"))
            .unwrap(),
        2,
        "record ids go on"
    );
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
