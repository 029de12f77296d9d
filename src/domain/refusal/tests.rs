//! The refusals' sentences, as people read them.
use super::*;

#[test]
fn people_in_a_refusal_are_named_not_pinged() {
    let alice = UserRef::parse("slack:U0ALICE001").unwrap();
    let refusal = Refusal::NotParticipant {
        act: Act::Schedule,
        release: ReleaseId::new(3),
        requester: alice.clone(),
        environment: Name::parse("production").unwrap(),
    };
    let text = refusal.text();
    assert!(text.pinged().is_empty());
    assert_eq!(
        text.to_string(),
        "You can't schedule R-3: only its requester (U0ALICE001) or someone who may approve or deploy to production can."
    );
}

#[test]
fn expired_approvers_are_named_and_the_sentence_ends_once() {
    let refusal = Refusal::ApprovalsStale {
        release: ReleaseId::new(2),
        missing: vec!["1 more approval".into()],
        expired: vec![
            UserRef::parse("shell:bob").unwrap(),
            UserRef::parse("shell:carol").unwrap(),
        ],
        environment: Name::parse("production").unwrap(),
        hours: 24,
    };
    assert_eq!(
        refusal.to_string(),
        "R-2 needs fresh approvals before it can deploy: missing 1 more approval (approvals from bob, carol expired: production approvals last 24 h)."
    );
    assert!(refusal.text().pinged().is_empty());
}
