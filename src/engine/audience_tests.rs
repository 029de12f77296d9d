//! Words for every audience: `notes <id> <audience>` fills that audience's
//! template from the release; a release gone live reaches each audience
//! with an announcement template; a missing audience or template is
//! refused and changes nothing.

use super::tests::Harness;
use crate::domain::Refusal;

const CONFIG: &str = r##"
[bot]
timezone = "Europe/Berlin"
admin_roles = ["developer"]

[roles]
developer = ["shell:alice"]

[services.api]

[environments.staging]
approve = ["developer"]
deploy = ["developer"]
self_approval = true

[audiences.customers]
channels = ["shell:#status"]
notes = "{service} {version} reaches {environment}: {summary} ({release}, {{beta}})"

[audiences.support]
channels = ["shell:#support"]
announcement = "{service} {version} is live in {environment}."
"##;

#[test]
fn an_audience_sees_its_own_words_and_a_missing_one_is_named() {
    let h = Harness::with_config(CONFIG);
    h.ok(
        "alice",
        r#"request api 2.0 to staging notes "faster checkout""#,
    );
    assert_eq!(
        h.ok("alice", "notes R-1 customers"),
        "api 2.0 reaches staging: faster checkout (R-1, {beta})"
    );
    let Refusal::NoSuchAudience { known, .. } = h.refusal("alice", "notes R-1 executives") else {
        panic!("not NoSuchAudience")
    };
    assert_eq!(known, "customers, support");
    assert!(matches!(
        h.refusal("alice", "notes R-1 support"),
        Refusal::NoTemplate { kind: "notes", .. }
    ));
    assert!(matches!(
        h.refusal("alice", "notes R-9 customers"),
        Refusal::NoSuchRelease(_)
    ));
    // Without an audience: the Markdown notes, as before.
    assert!(h
        .ok("alice", "notes R-1")
        .starts_with("# R-1 — api 2.0 to staging"));
}

#[test]
fn a_release_gone_live_reaches_each_audience_with_an_announcement_template() {
    let h = Harness::with_config(CONFIG);
    h.ok("alice", "request api 2.0 to staging");
    h.ok("alice", "approve R-1");
    h.ok("alice", "deploy R-1");
    let digests = |h: &Harness| -> Vec<(String, String)> {
        h.engine
            .store()
            .pending_digests(10)
            .unwrap()
            .into_iter()
            .map(|(_, d)| (d.channel.to_string(), d.text.to_string()))
            .collect()
    };
    assert!(digests(&h).is_empty(), "not before it is live");
    h.succeed(1);
    assert_eq!(
        digests(&h),
        [(
            "shell:#support".to_string(),
            "api 2.0 is live in staging.".to_string()
        )],
        "customers have no announcement template"
    );
}
