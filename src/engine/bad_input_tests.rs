//! Bad input: lines that do not parse and commands the rules refuse each
//! get a clear reply, and leave the store as it was (`Harness::unparsed`
//! and `Harness::refusal` check the store's fingerprint).

use super::tests::Harness;
use crate::domain::ids::ReleaseId;
use crate::domain::release::ReleaseStatus;
use crate::domain::{Act, Refusal};

#[test]
fn a_line_that_does_not_parse_gets_a_clear_reply_and_changes_nothing() {
    let h = Harness::new();
    h.ok("alice", "request api 2.4.0 to production");
    let unparsed: &[(&str, &str, &str)] = &[
        ("alice", "aprove R-1", "Did you mean `approve`?"),
        (
            "alice",
            "request api 2..4 to production",
            "`2..4` is not a version",
        ),
        (
            "alice",
            "request api 2.4.1 to production at someday 10:00",
            "is not a date",
        ),
        (
            "alice",
            "request api 2.4.1 to production at 2026-12-01 25:00",
            "is not a time",
        ),
        ("bob", "reject R-1", "Missing the reason for rejecting"),
        ("alice", "", "the line is empty"),
    ];
    for (user, line, expected) in unparsed {
        let error = h.unparsed(user, line);
        assert!(
            error.message.contains(expected),
            "`{line}` replied {error:?}, expected {expected:?}"
        );
    }
}

#[test]
fn a_refused_command_gets_a_clear_reply_and_changes_nothing() {
    let h = Harness::new();
    h.ok("alice", "request api 2.4.0 to production");
    type Check = fn(&Refusal) -> bool;
    let refused: &[(&str, &str, Check)] = &[
        (
            "alice",
            "request billing 1.0 to production",
            |r| matches!(r, Refusal::NoSuchService { service, known } if service == "billing" && known == "api, web"),
        ),
        (
            "alice",
            "request api 1.0 to prod",
            |r| matches!(r, Refusal::NoSuchEnvironment { environment, known } if environment == "prod" && known == "production, staging"),
        ),
        (
            "alice",
            "request web 1.0 to production",
            |r| matches!(r, Refusal::NotReleasedTo { service, environment, .. } if service.as_str() == "web" && environment.as_str() == "production"),
        ),
        (
            "alice",
            "request api 2.4.1 to production at 2026-11-01 10:00",
            |r| matches!(r, Refusal::InThePast { .. }),
        ),
        ("bob", "approve R-99", |r| {
            *r == Refusal::NoSuchRelease(ReleaseId::new(99))
        }),
        (
            "alice",
            "approve R-1",
            |r| matches!(r, Refusal::NotPermitted { act: Act::Approve, environment, .. } if environment.as_str() == "production"),
        ),
        ("dave", "approve R-1", |r| {
            matches!(
                r,
                Refusal::NotPermitted {
                    act: Act::Approve,
                    ..
                }
            )
        }),
        (
            "alice",
            "deploy R-1",
            |r| matches!(r, Refusal::NotPermitted { act: Act::Deploy, environment, .. } if environment.as_str() == "production"),
        ),
        (
            "dave",
            "deploy R-1",
            |r| matches!(r, Refusal::NotApprovedYet { missing, .. } if missing.join(" and ") == "1 qa and 1 release-manager"),
        ),
        ("dave", "rollback R-1 oops", |r| {
            matches!(
                r,
                Refusal::NotRollbackable {
                    status: ReleaseStatus::Requested,
                    ..
                }
            )
        }),
        (
            "alice",
            "check R-1 9",
            |r| matches!(r, Refusal::NoChecklistItem { item, .. } if item == "9"),
        ),
    ];
    for (user, line, expected) in refused {
        let refusal = h.refusal(user, line);
        assert!(expected(&refusal), "`{line}` was refused with {refusal:?}");
    }
}
