//! The store on a real temporary sled database.

use chrono::Utc;

use super::*;
use crate::domain::ids::{Name, Version};
use crate::domain::release::Priority;

fn release(id: ReleaseId, status: ReleaseStatus) -> Release {
    let now = Utc::now();
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

#[test]
fn a_refused_transaction_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let before = store.fingerprint().unwrap();
    let result = store.transaction(|tx| {
        let id = tx.allocate_release_id()?;
        tx.put_release(&release(id, ReleaseStatus::Requested), None)?;
        Err::<(), _>(Refusal::new("no").into())
    });
    assert!(matches!(result, Err(StoreError::Refused(_))));
    assert_eq!(store.fingerprint().unwrap(), before);
    assert_eq!(store.release_count().unwrap(), 0);
}

#[test]
fn status_changes_move_index_entries_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = release(ReleaseId::new(1), ReleaseStatus::Requested);
    store
        .transaction(|tx| tx.put_release(&first, None))
        .unwrap();
    let mut approved = first.clone();
    approved.status = ReleaseStatus::Approved;
    store
        .transaction(|tx| tx.put_release(&approved, Some(&first)))
        .unwrap();
    assert_eq!(store.count(ReleaseStatus::Requested).unwrap(), 0);
    let stored = store
        .with_status(ReleaseStatus::Approved, 10)
        .unwrap()
        .releases;
    assert_eq!(stored[0].revision, 1, "each change raises the revision");
    approved.revision = 1;
    assert_eq!(stored, vec![approved]);
    assert!(store
        .with_status(ReleaseStatus::Requested, 10)
        .unwrap()
        .releases
        .is_empty());
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
        store
            .transaction(|tx| {
                let id = tx.allocate_release_id()?;
                tx.put_release(&release(id, ReleaseStatus::Requested), None)
            })
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.release_count().unwrap(), 1);
    assert!(store.release(ReleaseId::new(1)).unwrap().is_some());
}

#[test]
fn a_delivery_is_new_once_and_forgotten_after_a_while() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let noon = Utc::now();
    assert!(store.first_delivery("slack:event:Ev1", noon).unwrap());
    assert!(!store.first_delivery("slack:event:Ev1", noon).unwrap());
    assert!(store
        .first_delivery("discord:interaction:1", noon + chrono::Duration::hours(2))
        .unwrap());
    assert_eq!(
        store
            .forget_deliveries(noon + chrono::Duration::hours(1))
            .unwrap(),
        1
    );
    assert!(
        store.first_delivery("slack:event:Ev1", noon).unwrap(),
        "forgotten, so new again"
    );
    assert!(
        !store.first_delivery("discord:interaction:1", noon).unwrap(),
        "kept"
    );
}

#[test]
fn a_posted_announcement_is_found_from_its_thread() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let channel = ChannelRef::parse("slack:C0RELEASES").unwrap();
    let other = ChannelRef::parse("slack:C0OTHER").unwrap();
    store
        .delivered(1, ReleaseId::new(7), &channel, "1764151200.000001")
        .unwrap();
    assert_eq!(
        store
            .posted(ReleaseId::new(7), &channel)
            .unwrap()
            .as_deref(),
        Some("1764151200.000001")
    );
    assert_eq!(
        store
            .release_for_thread(&channel, "1764151200.000001")
            .unwrap(),
        Some(ReleaseId::new(7))
    );
    assert_eq!(
        store
            .release_for_thread(&other, "1764151200.000001")
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .release_for_thread(&channel, "1764151200.000002")
            .unwrap(),
        None
    );
}
