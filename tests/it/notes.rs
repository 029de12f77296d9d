//! Release notes from the code, against a fake GitHub and GitLab on
//! loopback: the real engine, store and notes worker (with its real HTTP
//! client) read a compare past the first 250 commits, group it, put the
//! summary on the announcement and the list in the thread; a missing tag,
//! a bad token, an unknown repository, an SCM that is down and a compare
//! over 10,000 commits each give the notes a clear reason, never block
//! the release, and never show the token.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, ReleaseId, UserRef};
use releasebot::domain::release::JobOutcome;
use releasebot::engine::{Callback, Engine, Origin};
use releasebot::scm::worker::NotesWorker;
use releasebot::store::testkit::TestStore;

use crate::fake_scm::{FakeScm, Repo, TOKEN};

struct Bot {
    engine: Engine,
    clock: Arc<FixedClock>,
    worker: NotesWorker,
    _store: TestStore,
}

fn config(scm: &str, source: &str) -> String {
    format!(
        r##"
[roles]
developer = ["shell:alice"]
release-manager = ["shell:alice"]

[services.api]
channels = ["shell:#api"]
[services.api.source]
api_url = "{scm}"
{source}

[environments.staging]
approve = ["developer"]
deploy = ["developer"]
self_approval = true

[environments.production]
approve = ["developer"]
deploy = ["developer"]
rollback = ["developer"]
self_approval = true

[audiences.customers]
channels = ["shell:#news"]
notes = "{{service}} {{version}}: {{changes}}"
announcement = "{{service}} {{version}} is live: {{changes}}"
"##
    )
}

impl Bot {
    fn new(config: &str) -> Bot {
        let store = TestStore::under_test();
        let config = Arc::new(Config::parse(config, "test.toml").unwrap());
        let clock = Arc::new(FixedClock::at(
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        ));
        let engine = Engine::new(store.store.clone(), config, clock.clone());
        let worker = NotesWorker::new(engine.clone(), clock.clone());
        Bot {
            engine,
            clock,
            worker,
            _store: store,
        }
    }

    fn run(&self, line: &str) -> String {
        let user = UserRef::parse("shell:alice").unwrap();
        let origin = Origin {
            channel: ChannelRef::parse("shell:#api").unwrap(),
        };
        match self.engine.handle_line(&user, line, &origin) {
            Ok(reply) => reply.text().to_string(),
            Err(error) => error.reply_text(),
        }
    }

    /// Requests, approves, deploys and reports success for `version` in `env`.
    fn ship(&self, id: u64, version: &str, env: &str) {
        self.run(&format!("request api {version} to {env}"));
        self.deploy(id);
    }

    /// Approves, deploys and reports success for R-`id`.
    fn deploy(&self, id: u64) {
        self.run(&format!("approve R-{id}"));
        self.run(&format!("deploy R-{id}"));
        let release = self
            .engine
            .store()
            .release(ReleaseId::new(id))
            .unwrap()
            .unwrap();
        self.engine
            .callback(&Callback {
                release: release.id,
                job: release.deployments.last().unwrap().job.clone(),
                outcome: Some(JobOutcome::Succeeded),
                url: None,
                message: None,
            })
            .unwrap();
    }

    fn changes(&self, id: u64) -> releasebot::domain::notes::Changes {
        let release = self
            .engine
            .store()
            .release(ReleaseId::new(id))
            .unwrap()
            .unwrap();
        release.changes.expect("the release names its changes")
    }

    /// Every thread line and digest waiting to go out, as text.
    fn outbox(&self) -> String {
        let store = self.engine.store();
        let mut all: Vec<String> = store
            .pending_announcements(1000)
            .unwrap()
            .into_iter()
            .map(|(_, a)| {
                format!(
                    "{} | {}",
                    a.message.to_text(),
                    a.thread_line
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                )
            })
            .collect();
        all.extend(
            store
                .pending_digests(1000)
                .unwrap()
                .into_iter()
                .map(|(_, d)| d.text.to_string()),
        );
        all.join("\n")
    }
}

/// v2.3.0, then 260 commits to v2.4.0: past the 250 an unpaged compare shows.
fn repository() -> Repo {
    let mut repo = Repo::default();
    repo.push("v2.3.0", &["feat: the beginning"]);
    let mut messages = vec![
        "feat(checkout): one-click pay PAY-12",
        "fix: rounding in totals",
        "feat!: drop the v1 API",
        "chore(deps): bump serde",
    ];
    let filler: Vec<String> = (0..256)
        .map(|n| format!("fix(cart): edge case {n}"))
        .collect();
    messages.extend(filler.iter().map(String::as_str));
    repo.push("v2.4.0", &messages);
    repo.commits[1].pull = Some((
        41,
        "One-click pay".into(),
        vec!["feature".into()],
        "alice".into(),
    ));
    repo
}

const GITHUB: &str = "kind = \"github\"\nrepository = \"acme/api\"\ntoken_env = \"RELEASEBOT_TEST_SCM_TOKEN\"\nexclude_authors = [\"dependabot[bot]\"]\nissue_links = { PAY = \"https://jira.example.com/browse/\" }";

fn set_token(token: &str) {
    // Every test here sets the same value before reading it, except the
    // bad-token test, which names its own variable.
    std::env::set_var("RELEASEBOT_TEST_SCM_TOKEN", token);
}

#[tokio::test(flavor = "multi_thread")]
async fn github_notes_reach_the_announcement_and_the_thread() {
    let scm = FakeScm::start().await;
    scm.repo("acme/api", repository());
    set_token(TOKEN);
    let bot = Bot::new(&config(&scm.url, GITHUB));
    bot.ship(1, "2.3.0", "production");
    assert!(bot
        .changes(1)
        .missing
        .unwrap()
        .contains("no earlier version"));
    bot.run("request api 2.4.0 to production");
    assert_eq!(
        bot.changes(2).summary,
        None,
        "the command did not wait for the SCM"
    );
    assert_eq!(bot.worker.run_due().await, 1);
    let changes = bot.changes(2);
    assert_eq!(
        changes.summary.as_deref(),
        Some("259 changes: 1 features, 257 fixes, 1 breaking")
    );
    assert!(
        scm.requests()
            .iter()
            .any(|r| r.contains("compare/v2.3.0...v2.4.0?per_page=100&page=3")),
        "paged past 250"
    );
    let notes = bot.run("notes R-2");
    for part in [
        "## Changes from the code",
        "### ⚠️ Breaking changes\n- drop the v1 API",
        "- **checkout:** one-click pay [PAY-12](https://jira.example.com/browse/PAY-12) ([#41](https://github.com/acme/api/pull/41) by @alice)",
        "- **cart:** edge case 255",
    ] {
        assert!(notes.contains(part), "{part:?} in:\n{notes}");
    }
    assert!(!notes.contains("serde"), "bots are left out");
    let outbox = bot.outbox();
    assert!(
        outbox.contains("changes 259 changes: 1 features, 257 fixes, 1 breaking"),
        "{outbox}"
    );
    assert!(outbox.contains("📝 Changes in this release:"), "{outbox}");
    assert!(bot
        .run("notes R-2 customers")
        .contains("api 2.4.0: 259 changes"));
    // The same range again is not fetched again.
    bot.run("request api 2.4.0 to production");
    assert_eq!(bot.changes(3).summary, changes.summary);
    assert_eq!(bot.worker.run_due().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_tag_is_named_and_the_notes_fill_in_once_it_is_pushed() {
    let scm = FakeScm::start().await;
    scm.repo("acme/api", repository());
    set_token(TOKEN);
    let bot = Bot::new(&config(&scm.url, GITHUB));
    bot.ship(1, "2.4.0", "production");
    bot.run("request api 2.5.0 to production");
    bot.worker.run_due().await;
    let missing = bot.changes(2).missing.unwrap();
    assert_eq!(missing, "GitHub has no tag `v2.5.0` in acme/api");
    assert!(bot
        .outbox()
        .contains("could not be read from the code: GitHub has no tag `v2.5.0`"));
    // Pushed later: the retry fills the notes in and edits the announcement.
    scm.edit("acme/api", |repo| repo.push("v2.5.0", &["feat: search"]));
    bot.clock.advance(Duration::seconds(31));
    assert_eq!(bot.worker.run_due().await, 1);
    assert_eq!(
        bot.changes(2).summary.as_deref(),
        Some("1 change: 1 features")
    );
    assert!(bot.outbox().contains("changes 1 change: 1 features"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_token_an_unknown_repository_and_a_dead_scm_say_why_and_block_nothing() {
    let scm = FakeScm::start().await;
    scm.repo("acme/api", repository());
    std::env::set_var("RELEASEBOT_TEST_SCM_BAD_TOKEN", "ghp_wrong_token_value");
    let bad = GITHUB.replace("RELEASEBOT_TEST_SCM_TOKEN", "RELEASEBOT_TEST_SCM_BAD_TOKEN");
    let bot = Bot::new(&config(&scm.url, &bad));
    bot.ship(1, "2.3.0", "production");
    bot.run("request api 2.4.0 to production");
    bot.worker.run_due().await;
    assert_eq!(
        bot.changes(2).missing.unwrap(),
        "GitHub refused the token: Bad credentials"
    );
    let notes = bot.run("notes R-2");
    assert!(
        !notes.contains("ghp_wrong") && !bot.outbox().contains("ghp_wrong"),
        "the token never shows"
    );
    let trail = bot.run("history R-2");
    assert!(!trail.contains("ghp_wrong"));

    set_token(TOKEN);
    let unknown = GITHUB.replace("acme/api", "acme/nope");
    let bot = Bot::new(&config(&scm.url, &unknown));
    bot.ship(1, "2.3.0", "production");
    bot.run("request api 2.4.0 to production");
    bot.worker.run_due().await;
    assert_eq!(
        bot.changes(2).missing.unwrap(),
        "GitHub has no repository `acme/nope` (or the token cannot see it)"
    );

    let dead = Bot::new(&config("http://127.0.0.1:9", GITHUB));
    dead.ship(1, "2.3.0", "production");
    let reply = dead.run("request api 2.4.0 to production");
    assert!(reply.starts_with("R-2 requested"), "{reply}");
    dead.worker.run_due().await;
    assert!(dead
        .changes(2)
        .missing
        .unwrap()
        .starts_with("GitHub could not be reached"));
    assert!(dead.run("approve R-2").contains("approved"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compare_over_ten_thousand_commits_is_capped_with_a_note() {
    let scm = FakeScm::start().await;
    let mut repo = Repo::default();
    repo.push("v1.0.0", &["feat: start"]);
    let many: Vec<String> = (0..10_050).map(|n| format!("fix: bug {n}")).collect();
    repo.push(
        "v2.0.0",
        &many.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    scm.repo("acme/api", repo);
    set_token(TOKEN);
    let bot = Bot::new(&config(&scm.url, GITHUB));
    bot.ship(1, "1.0.0", "production");
    bot.run("request api 2.0.0 to production");
    bot.worker.run_due().await;
    assert_eq!(
        bot.changes(2).summary.as_deref(),
        Some("10000 changes: 10000 fixes")
    );
    assert!(bot
        .run("notes R-2")
        .contains("_Only the first 10000 of 10050 commits were read (the cap is 10000)._"));
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_groups_by_merge_request_labels_and_names_what_is_missing() {
    let scm = FakeScm::start().await;
    let mut repo = repository();
    repo.commits[2].pull = Some((7, "Fix totals".into(), vec!["bug".into()], "bob".into()));
    repo.commits[3].pull = Some((8, "Drop v1".into(), vec!["breaking".into()], "carol".into()));
    scm.repo("acme/api", repo);
    set_token(TOKEN);
    let source = "kind = \"gitlab\"\nrepository = \"acme/api\"\ntoken_env = \"RELEASEBOT_TEST_SCM_TOKEN\"\nexclude_authors = [\"dependabot[bot]\"]\ncategories = [{ title = \"New\", labels = [\"feature\"] }, { title = \"Fixed\", labels = [\"bug\"] }, { title = \"Also\", labels = [\"*\"] }]";
    let bot = Bot::new(&config(&scm.url, source));
    bot.ship(1, "2.3.0", "production");
    bot.run("request api 2.4.0 to production");
    bot.worker.run_due().await;
    let notes = bot.run("notes R-2");
    for part in [
        "### New\n- One-click pay ([#41](https://gitlab.com/acme/api/-/merge_requests/41) by @alice)",
        "### Fixed\n- Fix totals ([#7](https://gitlab.com/acme/api/-/merge_requests/7) by @bob)",
        "### Also",
    ] {
        assert!(notes.contains(part), "{part:?} in:\n{notes}");
    }
    assert!(scm
        .requests()
        .iter()
        .any(|r| r.starts_with("/projects/acme%2Fapi/repository/compare?from=v2.3.0&to=v2.4.0")));
    bot.run("request api 9.9.9 to production");
    bot.worker.run_due().await;
    assert_eq!(
        bot.changes(3).missing.unwrap(),
        "GitLab has no tag `v9.9.9` in acme/api"
    );
    let nope = Bot::new(&config(&scm.url, &source.replace("acme/api", "acme/nope")));
    nope.ship(1, "2.3.0", "production");
    nope.run("request api 2.4.0 to production");
    nope.worker.run_due().await;
    assert!(nope
        .changes(2)
        .missing
        .unwrap()
        .starts_with("GitLab has no repository `acme/nope`"));
}

#[tokio::test(flavor = "multi_thread")]
async fn notes_between_environments_show_what_production_lacks() {
    let scm = FakeScm::start().await;
    scm.repo("acme/api", repository());
    set_token(TOKEN);
    let bot = Bot::new(&config(&scm.url, GITHUB));
    bot.ship(1, "2.3.0", "production");
    bot.ship(2, "2.4.0", "staging");
    let first = bot.run("notes staging..production api");
    assert!(
        first.contains("api: what production (2.3.0) lacks of staging (2.4.0)"),
        "{first}"
    );
    assert!(
        first.contains("reading v2.3.0..v2.4.0 from GitHub; ask again in a moment"),
        "{first}"
    );
    bot.worker.run_due().await;
    let second = bot.run("notes staging..production api");
    assert!(second.contains("259 changes"), "{second}");
    assert!(
        bot.run("notes 2.4.0..2.3.0 api").contains("259 changes"),
        "either way round"
    );
    let unknown = bot.run("notes qa..production api");
    assert!(unknown.contains("`qa`"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monorepo_folder_counts_only_the_commits_that_touch_it() {
    for (kind, source) in [
        ("github", GITHUB.to_string()),
        ("gitlab", GITHUB.replace("\"github\"", "\"gitlab\"")),
    ] {
        let scm = FakeScm::start().await;
        let mut repo = repository();
        for commit in repo.commits.iter_mut().skip(10) {
            commit.files = vec!["services/web/src/main.rs".into()];
        }
        scm.repo("acme/api", repo);
        set_token(TOKEN);
        let bot = Bot::new(&config(
            &scm.url,
            &format!("{source}\npath = \"services/api\""),
        ));
        bot.ship(1, "2.3.0", "production");
        bot.run("request api 2.4.0 to production");
        bot.worker.run_due().await;
        // Commits 1–9 touch the folder; the dependabot one is left out.
        assert_eq!(
            bot.changes(2).summary.as_deref(),
            Some("8 changes: 1 features, 6 fixes, 1 breaking"),
            "{kind}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_counts_the_changes_production_lacks() {
    let scm = FakeScm::start().await;
    scm.repo("acme/api", repository());
    set_token(TOKEN);
    let soaked = config(&scm.url, GITHUB).replace(
        "[environments.production]\n",
        "[environments.production]\nrequires = { environment = \"staging\", soak_minutes = 60 }\n",
    );
    let bot = Bot::new(&soaked);
    bot.ship(1, "2.3.0", "staging");
    bot.clock.advance(Duration::minutes(61));
    bot.ship(2, "2.3.0", "production");
    bot.ship(3, "2.4.0", "staging");
    bot.run("promote R-3");
    bot.worker.run_due().await;
    let status = bot.run("status R-4");
    assert!(
        status.contains(
            "Drift: production runs 2.3.0, 1 version behind staging (2.4.0), 259 changes"
        ),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incidents_summary_lists_what_the_bad_deploy_changed() {
    let scm = FakeScm::start().await;
    scm.repo("acme/api", repository());
    set_token(TOKEN);
    let bot = Bot::new(&config(&scm.url, GITHUB));
    bot.ship(1, "2.3.0", "production");
    bot.run("request api 2.4.0 to production");
    bot.worker.run_due().await;
    bot.deploy(2);
    assert!(
        bot.outbox()
            .contains("api 2.4.0 is live: 259 changes: 1 features, 257 fixes, 1 breaking"),
        "the customers hear of it in their words"
    );
    let rollback = bot.run("rollback R-2 checkout broken");
    assert!(rollback.contains("opened incident I-1"), "{rollback}");
    let summary = bot.run("resolve I-1 rolled back");
    for part in [
        "### What changed in the bad deploy\nR-2 api (2.3.0..2.4.0).",
        "**v2.3.0..v2.4.0** (259 changes: 1 features, 257 fixes, 1 breaking)",
        "- drop the v1 API (",
    ] {
        assert!(summary.contains(part), "{part:?} in:\n{summary}");
    }
}
