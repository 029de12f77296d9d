//! The change feed: what a committed transaction publishes, on both
//! backends; and on PostgreSQL, a change committed on one instance heard
//! on another, also across a lost listener connection.

use std::time::{Duration, Instant};

use super::testkit::{TestSchema, TestStore};
use super::tests::{add_release, announcement, release};
use super::*;
use crate::domain::ids::ReleaseId;
use crate::domain::release::ReleaseStatus;

/// The changes published so far, without waiting.
fn published(feed: &mut Subscription) -> Vec<Change> {
    std::iter::from_fn(|| feed.try_next())
        .map(|c| (*c).clone())
        .collect()
}

fn each_backend(test: impl Fn(&Store)) {
    test(&TestStore::sled().store);
    if let Some(kept) = TestStore::postgres("store suite") {
        test(&kept.store);
    }
}

#[test]
fn a_commit_publishes_what_it_changed_and_a_failed_one_nothing() {
    each_backend(|store| {
        let mut feed = store.feed().subscribe();
        let id = add_release(store, ReleaseStatus::Requested);
        let first = store.release(id).unwrap().unwrap();
        let mut approved = first.clone();
        approved.status = ReleaseStatus::Approved;
        store
            .transaction(|tx| {
                tx.put_release(&approved, Some(&first))?;
                tx.announce(announcement(id.number(), "slack:C1", "approved"))
            })
            .unwrap();
        let _ = store.transaction(|tx| {
            tx.put_release(&approved, Some(&first))?;
            Err::<(), _>(crate::domain::Refusal::NoSuchFreeze(1).into())
        });
        // Reads only: nothing to tell.
        store.transaction(|tx| tx.release(id)).unwrap();
        let changes = published(&mut feed);
        assert_eq!(changes.len(), 2, "{} {changes:?}", store.kind());
        assert_eq!(changes[0].releases, vec![(id, 0)]);
        assert!(!changes[0].announcements);
        // The revision is raised once, above the backends.
        assert_eq!(changes[1].releases, vec![(id, 1)]);
        assert_eq!(store.release(id).unwrap().unwrap().revision, 1);
        assert!(changes[1].wakes_notifier() && !changes[1].wakes_relay());
        assert!(!changes[1].remote);
        assert_eq!(changes[1].seq.is_some(), store.shared(), "{}", store.kind());
    });
}

#[test]
fn a_change_waiting_for_its_flush_is_published_by_the_flush() {
    each_backend(|store| {
        let mut feed = store.feed().subscribe();
        store
            .transaction_unflushed(|tx| {
                tx.put_release(&release(ReleaseId::new(7), ReleaseStatus::Requested), None)
            })
            .unwrap();
        assert!(published(&mut feed).is_empty(), "{}", store.kind());
        store.flush().unwrap();
        let changes = published(&mut feed);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].releases, vec![(ReleaseId::new(7), 0)]);
    });
}

/// Waits (at most 10 s: a deadline, not a figure) for a remote change
/// about `id`, and returns every change heard on the way.
fn hear(feed: &mut Subscription, id: ReleaseId) -> Vec<Change> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut heard = Vec::new();
    while Instant::now() < deadline {
        match feed.try_next() {
            Some(change) => {
                let found = change.releases.iter().any(|(r, _)| *r == id);
                heard.push((*change).clone());
                if found {
                    return heard;
                }
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    panic!("no change about {id} within 10 s; heard {heard:?}");
}

#[test]
fn postgres_a_change_on_one_instance_reaches_another_and_survives_a_reconnect() {
    let Some(url) = testkit::database_url("store suite") else {
        return;
    };
    let schema = TestSchema::new(&url);
    let a = schema.connect("instance-a").unwrap();
    let b = schema.connect("instance-b").unwrap();
    // A second schema's changes are not b's.
    let other = TestSchema::new(&url);
    let elsewhere = other.connect("instance-c").unwrap();
    let mut on_b = b.feed().subscribe();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The listener connects in the background: commit until b hears one.
    let mut other_ids = 1000..;
    let id = loop {
        let id = add_release(&a, ReleaseStatus::Requested);
        let other_id = ReleaseId::new(other_ids.next().unwrap());
        elsewhere
            .transaction(|tx| tx.put_release(&release(other_id, ReleaseStatus::Requested), None))
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        if b.feed().counts().remote > 0 {
            break id;
        }
        assert!(Instant::now() < deadline, "b heard nothing from a");
    };
    let heard = hear(&mut on_b, id);
    let last = heard.last().unwrap();
    assert!(last.remote && last.seq.is_some(), "{last:?}");
    let ids: Vec<u64> = heard
        .iter()
        .flat_map(|c| c.releases.iter().map(|(r, _)| r.number()))
        .collect();
    assert!(
        ids.iter().all(|n| *n < 1000),
        "another schema's change: {ids:?}"
    );
    let mut once = ids.clone();
    once.dedup();
    assert_eq!(once, ids, "each change heard once");

    // Cut b's listener; what a commits meanwhile reaches b on reconnect.
    super::postgres::execute_once(
        &url,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}'",
            super::postgres::listener_name(&schema.name)
        ),
    )
    .unwrap();
    let missed = add_release(&a, ReleaseStatus::Requested);
    let heard = hear(&mut on_b, missed);
    assert!(heard.last().unwrap().remote);
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.feed().counts().reconnects == 0 {
        assert!(Instant::now() < deadline, "b's listener did not reconnect");
        std::thread::sleep(Duration::from_millis(10));
    }
    let after = add_release(&a, ReleaseStatus::Requested);
    let heard = hear(&mut on_b, after);
    assert!(heard.iter().all(|c| c.remote));
    assert!(b.feed().counts().connected);
}
