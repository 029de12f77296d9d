//! The relay against fake GitHub, GitLab, Jenkins and webhook servers, CI
//! callbacks over HTTP, faults, and a restart between outbox and acceptance.

use releasebot::clock::Clock;
use serde_json::{json, Value};

use releasebot::domain::outbox::JobState;
use releasebot::domain::release::ReleaseStatus;

use crate::ci_app::{
    config, engine_for, test_clock, CiApp, CALLBACK_SECRET, OTHER_CALLBACK_SECRET,
};
use crate::fake_ci::{self, FakeCi, Fault};

fn github(fake: &FakeCi) -> String {
    format!(
        "kind = \"github\"\napi_url = \"{}\"\nrepo = \"acme/api\"\nworkflow = \"deploy.yml\"\nref = \"release\"\ntoken_env = \"RB_TEST_GITHUB_TOKEN\"\nrequest_timeout_secs = 1\nmax_attempts = 3",
        fake.url
    )
}

fn accepted(app: &CiApp, id: u64) -> bool {
    app.app
        .engine
        .store()
        .jobs()
        .unwrap()
        .iter()
        .any(|j| j.release.number() == id && matches!(j.state, JobState::Accepted { .. }))
}

fn status_is(status: ReleaseStatus, id: u64) -> impl Fn(&CiApp) -> bool {
    move |app: &CiApp| app.release(id).status == status
}

fn report(status: &str, app: &CiApp) -> Value {
    json!({"release": "R-1", "job": "R-1-deploy-1", "status": status, "url": "https://github.com/acme/api/actions/runs/4242", "timestamp": app.now_unix()})
}

#[tokio::test]
async fn github_workflow_dispatch_sends_inputs_links_the_run_and_hears_back() {
    let fake = FakeCi::start().await;
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    assert!(app.deploy("api", 1).contains("via github"));
    app.until("the run link", |a| a.chat_contains("GitHub accepted the deploy (job R-1-deploy-1): https://github.com/acme/api/actions/runs/4242")).await;

    let sent = fake.triggers();
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(
        request.path,
        "/repos/acme/api/actions/workflows/deploy.yml/dispatches"
    );
    assert_eq!(request.header("authorization"), "Bearer ghp_test_token");
    assert_eq!(request.header("idempotency-key"), "R-1-deploy-1");
    let body = request.json();
    assert_eq!(body["ref"], "release");
    assert_eq!(body["return_run_details"], true);
    assert_eq!(
        body["inputs"],
        json!({"release_id": "R-1", "idempotency_key": "R-1-deploy-1", "service": "api", "version": "2.4.0",
               "environment": "production", "action": "deploy", "requested_by": "shell:alice",
               "started_by": "shell:dave", "approvers": "shell:bob"})
    );

    let (status, answer) = app
        .callback(Some(CALLBACK_SECRET), &report("succeeded", &app))
        .await;
    assert_eq!((status, answer["result"].as_str()), (200, Some("recorded")));
    assert_eq!(app.release(1).status, ReleaseStatus::Deployed);
    app.until("the announcement", |a| {
        a.chat_contains("thread: CI deployed 2.4.0 ✔ (job R-1-deploy-1)")
    })
    .await;

    // No token or secret reaches the store, the audit log or chat.
    let export = serde_json::to_string(
        &app.app
            .engine
            .store()
            .all_releases()
            .collect::<Result<Vec<_>, _>>()
            .unwrap(),
    )
    .unwrap();
    let audit = serde_json::to_string(
        &app.app
            .engine
            .store()
            .audit_log()
            .collect::<Result<Vec<_>, _>>()
            .unwrap(),
    )
    .unwrap();
    let chat = app.chat.0.lock().unwrap().join("\n");
    for secret in [fake_ci::GITHUB_TOKEN, CALLBACK_SECRET] {
        for (name, text) in [("export", &export), ("audit", &audit), ("chat", &chat)] {
            assert!(!text.contains(secret), "{name} holds a secret");
        }
    }

    // The same report again changes nothing.
    let audit_before = app.app.engine.store().audit_log().count();
    let (status, answer) = app
        .callback(Some(CALLBACK_SECRET), &report("succeeded", &app))
        .await;
    assert_eq!(
        (status, answer["result"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(app.app.engine.store().audit_log().count(), audit_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_a_callbacks_record_and_its_answer_leaves_it_recorded_once() {
    let fake = FakeCi::start().await;
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    app.until("acceptance", |a| accepted(a, 1)).await;
    releasebot::failpoint::arm("ci.callback_before_answer", "R-1-deploy-1");
    let raw = serde_json::to_vec(&report("succeeded", &app)).unwrap();
    let answered = reqwest::Client::new()
        .post(format!("{}/ci/callback", app.http))
        .header(
            "X-Hub-Signature-256",
            crate::ci_app::sign(CALLBACK_SECRET, &raw),
        )
        .body(raw)
        .send()
        .await;
    assert!(answered.is_err(), "no answer after the crash: {answered:?}");
    assert_eq!(app.release(1).status, ReleaseStatus::Deployed, "recorded");
    let audit = app.app.engine.store().audit_log().count();
    // The pipeline's retry is answered, and changes nothing more.
    let (status, answer) = app
        .callback(Some(CALLBACK_SECRET), &report("succeeded", &app))
        .await;
    assert_eq!(
        (status, answer["result"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(app.app.engine.store().audit_log().count(), audit);
}

#[tokio::test]
async fn repository_dispatch_sends_at_most_ten_payload_keys() {
    let fake = FakeCi::start().await;
    let target = format!("kind = \"github\"\napi_url = \"{}\"\nrepo = \"acme/api\"\nevent_type = \"deploy\"\ntoken_env = \"RB_TEST_GITHUB_TOKEN\"", fake.url);
    let app = CiApp::spawn(&config(&target, &fake.url)).await;
    app.deploy("api", 1);
    app.until("acceptance", |a| accepted(a, 1)).await;
    let body = fake.triggers()[0].json();
    assert_eq!(fake.triggers()[0].path, "/repos/acme/api/dispatches");
    assert_eq!(body["event_type"], "deploy");
    let payload = body["client_payload"].as_object().unwrap();
    assert!(payload.len() <= 10);
    assert_eq!(payload["approvers"], json!(["shell:bob"]));
    assert_eq!(payload["rollback_to"], Value::Null);
}

#[tokio::test]
async fn gitlab_triggers_a_pipeline_with_variables_and_links_it() {
    let fake = FakeCi::start().await;
    let target = format!("kind = \"gitlab\"\nurl = \"{}\"\nproject = \"acme/api\"\ntoken_env = \"RB_TEST_GITLAB_TOKEN\"\nfields = {{ approvers = \"\" }}", fake.url);
    let app = CiApp::spawn(&config(&target, &fake.url)).await;
    app.deploy("api", 1);
    app.until("the pipeline link", |a| a.chat_contains("GitLab accepted the deploy (job R-1-deploy-1): https://gitlab.example.com/acme/api/-/pipelines/77")).await;
    let request = &fake.triggers()[0];
    assert_eq!(request.path, "/api/v4/projects/acme%2Fapi/trigger/pipeline");
    let form = request.form();
    let value = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    assert_eq!(value("token").as_deref(), Some(fake_ci::GITLAB_TOKEN));
    assert_eq!(value("ref").as_deref(), Some("main"));
    assert_eq!(value("variables[RELEASE_ID]").as_deref(), Some("R-1"));
    assert_eq!(value("variables[ACTION]").as_deref(), Some("deploy"));
    assert_eq!(
        value("variables[APPROVERS]"),
        None,
        "renamed to empty: left out"
    );
}

#[tokio::test]
async fn jenkins_builds_with_basic_auth_and_follows_the_queue_item() {
    let fake = FakeCi::start().await;
    let target = format!("kind = \"jenkins\"\nurl = \"{}\"\njob = \"deploy-api\"\nuser = \"ci-bot\"\ntoken_env = \"RB_TEST_JENKINS_TOKEN\"", fake.url);
    let app = CiApp::spawn(&config(&target, &fake.url)).await;
    app.deploy("api", 1);
    let build = format!(
        "CI run started (job R-1-deploy-1): {}/job/deploy-api/12/",
        fake.url
    );
    app.until("the build link", |a| a.chat_contains(&build))
        .await;
    let request = &fake.triggers()[0];
    assert_eq!(request.path, "/job/deploy-api/buildWithParameters");
    assert!(request
        .form()
        .contains(&("SERVICE".to_string(), "api".to_string())));
    assert_eq!(
        app.release(1).deployments[0].url.as_deref(),
        Some(format!("{}/job/deploy-api/12/", fake.url).as_str())
    );
}

#[tokio::test]
async fn jenkins_credentials_never_follow_a_location_to_another_origin() {
    let fake = FakeCi::start().await;
    let elsewhere = FakeCi::start().await;
    // Same host, other port: another origin all the same.
    fake.set_base(&format!("{}/steal?token=abc", elsewhere.url));
    let target = format!("kind = \"jenkins\"\nurl = \"{}\"\njob = \"deploy-api\"\nuser = \"ci-bot\"\ntoken_env = \"RB_TEST_JENKINS_TOKEN\"", fake.url);
    let app = CiApp::spawn(&config(&target, &fake.url)).await;
    app.deploy("api", 1);
    app.until("acceptance", |a| accepted(a, 1)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        elsewhere.requests().is_empty(),
        "credentials went to another origin: {:?}",
        elsewhere.requests()
    );
    assert_eq!(fake.requests().len(), 1, "only the trigger went to Jenkins");
    assert_eq!(app.release(1).status, ReleaseStatus::Deploying);
}

#[tokio::test]
async fn a_webhook_is_signed_github_style_and_per_service_targets_win() {
    let fake = FakeCi::start().await;
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    assert!(app.deploy("web", 1).contains("via webhook"));
    app.until("acceptance", |a| {
        a.chat_contains(
            "the webhook accepted the deploy (job R-1-deploy-1): https://deploy.example.com/runs/5",
        )
    })
    .await;
    let request = &fake.triggers()[0];
    assert_eq!(request.path, "/hook");
    assert_eq!(request.header("x-releasebot-delivery"), "R-1-deploy-1");
    assert_eq!(request.json()["release"], "R-1");
    // The production secret does not sign for web's target; web's own does.
    let body = json!({"release": "R-1", "job": "R-1-deploy-1", "status": "failed", "message": "smoke tests red", "timestamp": app.now_unix()});
    assert_eq!(app.callback(Some(CALLBACK_SECRET), &body).await.0, 401);
    assert_eq!(
        app.callback(Some(OTHER_CALLBACK_SECRET), &body).await.0,
        200
    );
    assert_eq!(app.release(1).status, ReleaseStatus::Failed);
    assert_eq!(
        app.release(1).deployments[0].message.as_deref(),
        Some("smoke tests red")
    );
}

#[tokio::test]
async fn a_500_then_success_is_retried_with_the_same_idempotency_key() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::Status(500, "Internal Server Error"));
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    app.until("the first attempt", |_| fake.triggers().len() == 1)
        .await;
    let job = app.first_retry().await;
    assert_eq!(
        job.last_error.as_deref(),
        Some("500 from GitHub: Internal Server Error")
    );
    let wait = (job.next_attempt_at - app.clock.now()).num_milliseconds();
    assert!(
        (1000..=2000).contains(&wait),
        "first backoff is 1–2 s, was {wait} ms"
    );
    app.advance(2);
    app.until("acceptance", |a| accepted(a, 1)).await;
    let sent = fake.triggers();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].header("idempotency-key"),
        sent[1].header("idempotency-key")
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::RetryAfter(30));
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    let job = app.first_retry().await;
    assert_eq!((job.next_attempt_at - app.clock.now()).num_seconds(), 30);
    app.advance(29);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(fake.triggers().len(), 1, "not before Retry-After");
    app.advance(1);
    app.until("acceptance", |a| accepted(a, 1)).await;
}

#[tokio::test]
async fn a_hang_past_the_request_timeout_is_retried() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::Hang(std::time::Duration::from_secs(3)));
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    let job = app.first_retry().await;
    assert_eq!(
        job.last_error.as_deref(),
        Some("no answer from GitHub within 1 s")
    );
    app.advance(2);
    app.until("acceptance", |a| accepted(a, 1)).await;
}

#[tokio::test]
async fn a_dispatch_whose_answer_never_came_is_found_among_the_runs_and_not_sent_again() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::Hang(std::time::Duration::from_secs(3)));
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    let job = app.first_retry().await;
    assert!(
        job.uncertain,
        "an unanswered request leaves the job uncertain"
    );
    app.advance(2);
    app.until("acceptance", |a| accepted(a, 1)).await;
    assert_eq!(fake.triggers().len(), 1, "the dispatch was sent again");
    let lookups: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/actions/workflows/deploy.yml/runs"))
        .collect();
    assert_eq!(lookups.len(), 1);
    assert_eq!(
        app.release(1).deployments[0].url.as_deref(),
        Some("https://github.com/acme/api/actions/runs/5000")
    );
}

#[tokio::test]
async fn a_jenkins_build_whose_answer_never_came_is_found_by_its_key_and_not_sent_again() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::Hang(std::time::Duration::from_secs(3)));
    let target = format!("kind = \"jenkins\"\nurl = \"{}\"\njob = \"deploy-api\"\nuser = \"ci-bot\"\ntoken_env = \"RB_TEST_JENKINS_TOKEN\"\nrequest_timeout_secs = 1", fake.url);
    let app = CiApp::spawn(&config(&target, &fake.url)).await;
    app.deploy("api", 1);
    assert!(app.first_retry().await.uncertain);
    app.advance(2);
    app.until("acceptance", |a| accepted(a, 1)).await;
    assert_eq!(fake.triggers().len(), 1, "the build was asked for again");
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.path == "/job/deploy-api/api/json"
            && r.header("authorization").starts_with("Basic ")));
    assert_eq!(
        app.release(1).deployments[0].url.as_deref(),
        Some(format!("{}/job/deploy-api/12/", fake.url).as_str())
    );
}

#[tokio::test]
async fn a_crash_between_githubs_answer_and_its_record_sends_the_dispatch_once() {
    let fake = FakeCi::start().await;
    // Failpoints are armed per process, by subject: other tests deploy R-1,
    // so this one deploys R-4 (the job key is the subject).
    releasebot::failpoint::arm("ci.after_answer", "R-4-deploy-1");
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    for version in ["2.1.0", "2.2.0", "2.3.0"] {
        app.run("alice", &format!("request api {version} to production"))
            .unwrap();
    }
    app.deploy("api", 4);
    app.until("the dispatch", |_| fake.triggers().len() == 1)
        .await;
    app.until("acceptance after the crash", |a| accepted(a, 4))
        .await;
    let sent: Vec<String> = fake
        .triggers()
        .iter()
        .map(|r| format!("{} {}", r.path, String::from_utf8_lossy(&r.body)))
        .collect();
    assert_eq!(sent.len(), 1, "the dispatch was sent again: {sent:#?}");
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/actions/workflows/deploy.yml/runs")));
}

#[tokio::test]
async fn a_lookup_that_keeps_failing_gives_up_without_sending_again() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::Hang(std::time::Duration::from_secs(3)));
    for _ in 0..3 {
        fake.fail_next_get(Fault::Status(403, "Resource not accessible by integration"));
    }
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    assert!(app.first_retry().await.uncertain);
    for _ in 0..3 {
        app.advance(300);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.until("the give-up", status_is(ReleaseStatus::Failed, 1))
        .await;
    let message = app.release(1).deployments[0]
        .message
        .clone()
        .unwrap_or_default();
    assert!(
        message.contains("could not be asked whether it took it"),
        "{message}"
    );
    assert_eq!(fake.triggers().len(), 1, "sent again without knowing");
}

#[tokio::test]
async fn an_unanswered_dispatch_that_started_no_run_is_sent_again_once() {
    let fake = FakeCi::start().await;
    fake.fail_next(Fault::Stall(std::time::Duration::from_secs(3)));
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    assert!(app.first_retry().await.uncertain);
    app.advance(2);
    app.until("acceptance", |a| accepted(a, 1)).await;
    let sent = fake.triggers();
    assert_eq!(sent.len(), 2, "looked, found nothing, sent once more");
    assert_eq!(
        sent[0].header("idempotency-key"),
        sent[1].header("idempotency-key")
    );
    assert!(!app.app.engine.store().jobs().unwrap()[0].uncertain);
}

#[tokio::test]
async fn a_401_fails_at_once_with_githubs_words() {
    let fake = FakeCi::start().await;
    let target = github(&fake).replace("RB_TEST_GITHUB_TOKEN", "RB_TEST_WRONG_TOKEN");
    let app = CiApp::spawn(&config(&target, &fake.url)).await;
    app.deploy("api", 1);
    app.until("the failure", status_is(ReleaseStatus::Failed, 1))
        .await;
    assert_eq!(fake.triggers().len(), 1);
    assert_eq!(
        app.release(1).deployments[0].message.as_deref(),
        Some("401 from GitHub: Bad credentials")
    );
    app.until("the announcement", |a| {
        a.chat_contains(
            "deploy of 2.4.0 failed ✘ (job R-1-deploy-1): 401 from GitHub: Bad credentials",
        )
    })
    .await;
    // A failed deploy frees the target and can be tried again.
    assert!(app
        .run("dave", "deploy R-1")
        .unwrap()
        .contains("R-1-deploy-2"));
}

#[tokio::test]
async fn exhausted_attempts_fail_the_deploy_and_say_why() {
    let fake = FakeCi::start().await;
    for _ in 0..3 {
        fake.fail_next(Fault::Status(503, "upstream down"));
    }
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    for attempt in 1..=2 {
        app.until("a retry", |a| {
            a.app
                .engine
                .store()
                .jobs()
                .unwrap()
                .first()
                .is_some_and(|j| j.attempts == attempt)
        })
        .await;
        app.advance(10);
    }
    app.until("the failure", status_is(ReleaseStatus::Failed, 1))
        .await;
    assert_eq!(fake.triggers().len(), 3);
    assert_eq!(
        app.release(1).deployments[0].message.as_deref(),
        Some("gave up after 3 attempts: 503 from GitHub: upstream down")
    );
}

#[tokio::test]
async fn callbacks_without_a_good_fresh_signature_change_nothing() {
    let fake = FakeCi::start().await;
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.deploy("api", 1);
    app.until("acceptance", |a| accepted(a, 1)).await;
    // The announcements of the deploy and its acceptance are delivered (and
    // their deliveries recorded) before the store is fingerprinted.
    app.until("the announcements delivered", |a| {
        a.app.engine.outbox_depths().unwrap().0 == 0
    })
    .await;
    let before = app.app.engine.store().fingerprint().unwrap();
    let good = report("succeeded", &app);
    let stale = json!({"release": "R-1", "job": "R-1-deploy-1", "status": "succeeded", "timestamp": app.now_unix() - 301});
    let unknown = json!({"release": "R-9", "job": "R-9-deploy-1", "status": "succeeded", "timestamp": app.now_unix()});
    let wrong_job = json!({"release": "R-1", "job": "R-1-deploy-7", "status": "succeeded", "timestamp": app.now_unix()});
    assert_eq!(app.callback(None, &good).await.0, 401, "unsigned");
    assert_eq!(
        app.callback(Some("not-the-secret"), &good).await.0,
        401,
        "badly signed"
    );
    assert_eq!(
        app.callback(Some(CALLBACK_SECRET), &stale).await,
        (
            401,
            json!({"error": "timestamp outside the 5-minute window (stale or replayed)"})
        )
    );
    // Timestamps at the edges of i64: wrapping `now - timestamp` would land
    // inside the window; checked arithmetic refuses them.
    for timestamp in [app.now_unix().wrapping_sub(i64::MIN), i64::MIN, i64::MAX] {
        let edge = json!({"release": "R-1", "job": "R-1-deploy-1", "status": "succeeded", "timestamp": timestamp});
        assert_eq!(
            app.callback(Some(CALLBACK_SECRET), &edge).await.0,
            401,
            "timestamp {timestamp}"
        );
    }
    assert_eq!(app.callback(Some(CALLBACK_SECRET), &unknown).await.0, 404);
    assert_eq!(app.callback(Some(CALLBACK_SECRET), &wrong_job).await.0, 404);
    assert_eq!(app.app.engine.store().fingerprint().unwrap(), before);
    assert_eq!(app.release(1).status, ReleaseStatus::Deploying);
    let metrics = reqwest::get(format!("{}/metrics", app.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("releasebot_ci_callbacks_rejected_total 8\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("releasebot_ci_jobs_sent_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("releasebot_outbox_depth{outbox=\"ci\"} 1\n"),
        "{metrics}"
    );
    let health: Value = reqwest::get(format!("{}/healthz", app.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn a_deploy_that_hears_nothing_is_declared_stuck() {
    let fake = FakeCi::start().await;
    let app = CiApp::spawn(&config(
        &format!("{}\ntimeout_minutes = 30", github(&fake)),
        &fake.url,
    ))
    .await;
    app.deploy("api", 1);
    app.until("acceptance", |a| accepted(a, 1)).await;
    app.advance(29 * 60);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.release(1).status, ReleaseStatus::Deploying);
    app.advance(60);
    app.until("the stuck verdict", status_is(ReleaseStatus::Failed, 1))
        .await;
    app.until("the announcement", |a| a.chat_contains("stuck: no report from GitHub within 30 min; check the run: https://github.com/acme/api/actions/runs/4242")).await;
}

#[tokio::test]
async fn a_restart_between_outbox_and_acceptance_delivers_exactly_once() {
    let fake = FakeCi::start().await;
    let text = config(&github(&fake), &fake.url);
    let dir = tempfile::tempdir().unwrap();
    let clock = test_clock();
    {
        // The bot takes the deploy, then dies before its relay runs.
        let engine = engine_for(&text, &dir.path().join("data"), clock.clone());
        let origin = releasebot::engine::Origin {
            channel: releasebot::domain::ids::ChannelRef::parse("shell:#t").unwrap(),
        };
        for (user, line) in [
            ("alice", "request api 2.4.0 to production"),
            ("bob", "approve R-1"),
            ("dave", "deploy R-1"),
        ] {
            let user = releasebot::domain::ids::UserRef::parse(&format!("shell:{user}")).unwrap();
            engine.handle_line(&user, line, &origin).unwrap();
        }
    }
    assert!(fake.triggers().is_empty());
    let app = CiApp::spawn_in(&text, dir, clock.clone()).await;
    app.until("acceptance", |a| accepted(a, 1)).await;
    app.app.stop().await;
    let restarted = CiApp::spawn_in(&text, app.dir, clock).await;
    restarted.advance(60);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        fake.triggers().len(),
        1,
        "exactly one delivery across restarts"
    );
    assert_eq!(restarted.release(1).status, ReleaseStatus::Deploying);
}

#[tokio::test]
async fn two_deploys_of_one_release_at_once_start_one_job() {
    let fake = FakeCi::start().await;
    let app = CiApp::spawn(&config(&github(&fake), &fake.url)).await;
    app.run("alice", "request api 2.4.0 to production").unwrap();
    app.run("bob", "approve R-1").unwrap();
    let results: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| app.run("dave", "deploy R-1")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    app.until("acceptance", |a| accepted(a, 1)).await;
    assert_eq!(fake.triggers().len(), 1);
}

#[tokio::test]
async fn a_hung_ci_target_holds_up_no_other_services_deploy() {
    let hung = FakeCi::start().await;
    let fast = FakeCi::start().await;
    hung.fail_next(Fault::Hang(std::time::Duration::from_secs(30)));
    let api = github(&hung).replace("request_timeout_secs = 1", "request_timeout_secs = 30");
    let app = CiApp::spawn(&config(&api, &fast.url)).await;
    app.deploy("api", 1);
    app.until("api's trigger to hang", |_| hung.triggers().len() == 1)
        .await;
    let asked = std::time::Instant::now();
    app.deploy("web", 2);
    app.until("web's trigger", |_| fast.triggers().len() == 1)
        .await;
    let took = asked.elapsed();
    println!(
        "figure: with one CI target hanging, another service's deploy reached its CI {} ms after the command",
        took.as_millis()
    );
    assert_eq!(
        fast.triggers()[0].header("x-releasebot-delivery"),
        "R-2-deploy-1"
    );
    assert!(!accepted(&app, 1), "api's job is still waiting for its CI");
    app.until("web's acceptance", |a| accepted(a, 2)).await;
}
