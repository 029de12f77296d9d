//! One view, rendered by the shell, Slack and Discord: the same facts on
//! each, with people in each platform's own form; and the typed values a
//! web page would read, without parsing a sentence.

use chrono::{TimeZone, Utc};

use super::*;
use crate::domain::ids::{UserRef, Version};
use crate::domain::release::{Approval, Priority, ReleaseStatus};

fn user(r: &str) -> UserRef {
    UserRef::parse(r).unwrap()
}

fn status_view() -> View {
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap();
    let release = Release {
        id: ReleaseId::new(7),
        service: Name::parse("api").unwrap(),
        version: Version::parse("2.4.0").unwrap(),
        environment: Name::parse("production").unwrap(),
        status: ReleaseStatus::Requested,
        requester: user("slack:U024BE7LH"),
        requested_at: at,
        updated_at: at,
        priority: Priority::Normal,
        notes: Some("fixes the <login> bug".into()),
        scheduled_at: None,
        approvals: vec![Approval {
            by: user("discord:80351110224678912"),
            at,
            comment: None,
        }],
        checklist: vec![],
        deployments: vec![],
        previous: None,
        rejected: None,
        cancelled: None,
        promoted_from: None,
        fixes: None,
        incident: None,
        changes: None,
        revision: 3,
    };
    View::Release(Box::new(ReleaseView {
        release,
        timezone: chrono_tz::Europe::Berlin,
        quorum: QuorumState {
            counted: 1,
            needed: 2,
            missing: vec!["1 more approval".into()],
            expired: vec![],
        },
        expired: vec![false],
        drift: vec![],
    }))
}

#[test]
fn one_view_shows_the_same_facts_on_the_shell_slack_and_discord() {
    let view = status_view();
    let name = |u: &UserRef| (u.local() == "U024BE7LH").then(|| "alice".to_string());
    let shell = crate::chat::shell::render(&view, &name);
    let slack = crate::chat::slack::render::view(&view, &name);
    let discord = crate::chat::discord::render::view(&view, &name);
    for (platform, shown) in [("shell", &shell), ("slack", &slack), ("discord", &discord)] {
        for fact in [
            "R-7 api 2.4.0 → production: requested",
            "at 2026-12-07 10:30 (Europe/Berlin) · priority normal",
            "Window: not scheduled",
            "Approvals 1/2",
            "needs 1 more approval",
        ] {
            assert!(shown.contains(fact), "{platform} lacks {fact:?}:\n{shown}");
        }
    }
    // People in each platform's own form: a Discord approver is a mention
    // on Discord, and by id elsewhere; the Slack requester by the name known.
    assert!(shell.contains("Requested by alice") && shell.contains(": 80351110224678912"));
    assert!(slack.contains("Requested by alice") && slack.contains(": 80351110224678912"));
    assert!(discord.contains("Requested by alice") && discord.contains("<@80351110224678912>"));
    // Each platform's escaping of the requester's words.
    assert!(shell.contains("Notes: fixes the <login> bug"));
    assert!(slack.contains("Notes: fixes the &lt;login&gt; bug"));
}

#[test]
fn a_view_is_read_as_values() {
    let view = status_view();
    let release = view.release().expect("a status view is about a release");
    assert_eq!((release.id, release.revision), (ReleaseId::new(7), 3));
    let View::Release(status) = &view else {
        panic!("{view:?}")
    };
    assert!(!status.quorum.met());
    assert_eq!(status.quorum.counted, 1);
    let list = View::List(ListView {
        kind: ListKind::Status(ReleaseStatus::Deployed),
        rows: vec![],
        total: 0,
    });
    assert_eq!(list.text().to_string(), "Deployed releases: none.");
    assert!(list.release().is_none());
}
