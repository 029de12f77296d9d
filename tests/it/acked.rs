//! Acknowledged is durable, on every inbound chat path. The real binary
//! (`releasebot run`) talks to the fake Slack or the fake Discord and is
//! killed (a failpoint aborts it, as SIGKILL would) once before an event's
//! command ran and once after it committed but before its ack went out.
//! Neither event is acknowledged. Restarted, Slack's redelivery makes the
//! command take effect exactly once; Discord redelivers nothing, so its
//! command took effect once when it had committed and not at all when it
//! had not, and nobody was told otherwise. On sled, and on PostgreSQL when
//! a test database is configured.

use std::time::{Duration, Instant};

use releasebot::chat::slack::signing;
use releasebot::store::testkit::database_url;

use crate::fake_discord::{self, FakeDiscord};
use crate::fake_slack::{eventually, slash_envelope, slash_payload, FakeSlack};
use crate::running::{Instance, Running};

const ALICE: &str = "U0ALICE001";
const RELEASES: &str = "C0RELEASES";
const REQUEST: &str = "request api 2.4.0 to production";
/// Killed before the command's transaction: nothing ran.
const BEFORE_COMMAND: &str = "chat.before_command";
/// Killed after the command committed, before its ack.
const BEFORE_ACK: &str = "chat.before_ack";

/// Each backend the tests run on: sled, and PostgreSQL when configured.
fn backends() -> Vec<Option<String>> {
    let mut backends = vec![None];
    if let Some(url) = database_url("acknowledged-is-durable tests") {
        backends.push(Some(url));
    }
    backends
}

/// Whether `check` comes true within 5 s (an ack that will come comes in
/// milliseconds).
async fn within_a_while(check: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// How an event reaches the bot.
#[derive(Debug, Clone, Copy)]
enum Slack {
    Socket,
    Http,
}

/// Sends `/release request …` with `trigger`; true when Slack got its ack.
async fn slack_request(fake: &FakeSlack, run: &Running, way: Slack, envelope: &str) -> bool {
    match way {
        Slack::Socket => {
            fake.send(&slash_envelope(
                envelope,
                ALICE,
                RELEASES,
                REQUEST,
                "trigger-kill",
                &fake.base,
            ));
            within_a_while(|| fake.ack(envelope).is_some()).await
        }
        Slack::Http => {
            let payload = slash_payload(ALICE, RELEASES, REQUEST, "trigger-kill", &fake.base);
            let form: Vec<(String, String)> = payload
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let body = serde_urlencoded::to_string(form).unwrap();
            let now = chrono::Utc::now().timestamp().to_string();
            let signed = signing::sign(crate::slack_app::SIGNING_SECRET, &now, body.as_bytes());
            let sent = reqwest::Client::new()
                .post(format!("{}/slack/commands", run.http))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-slack-request-timestamp", now)
                .header("x-slack-signature", signed)
                .body(body)
                .send()
                .await;
            sent.is_ok_and(|response| response.status().is_success())
        }
    }
}

async fn slack_connected(fake: &FakeSlack, way: Slack, opened_before: usize) {
    if let Slack::Socket = way {
        eventually("a Socket Mode connection", || {
            fake.connections_opened() > opened_before && fake.live_sockets() == 1
        })
        .await;
    }
}

/// Slack: killed at `point`, not acked; restarted, the redelivery is acked
/// and the request exists exactly once.
async fn slack_survives(way: Slack, point: &str, postgres: Option<&str>) {
    let fake = FakeSlack::start().await;
    let mode = match way {
        Slack::Socket => "socket",
        Slack::Http => "http",
    };
    let instance = Instance::new(&crate::slack_app::config(&fake, mode), postgres);

    let first = instance.spawn(Some(point)).await;
    slack_connected(&fake, way, 0).await;
    let acked = slack_request(&fake, &first, way, "env-kill").await;
    first.killed().await;
    assert!(!acked, "{way:?}, {point}: acknowledged, then killed");

    let opened = fake.connections_opened();
    let second = instance.spawn(None).await;
    slack_connected(&fake, way, opened).await;
    // Slack sends what it has no ack for again.
    assert!(
        slack_request(&fake, &second, way, "env-kill-again").await,
        "{way:?}, {point}: the redelivery is acknowledged"
    );
    second.stop().await;
    assert_eq!(
        instance.releases(),
        1,
        "{way:?}, {point}: the request took effect once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_envelope_killed_before_its_ack_is_not_acked_and_takes_effect_once() {
    for postgres in backends() {
        for point in [BEFORE_COMMAND, BEFORE_ACK] {
            slack_survives(Slack::Socket, point, postgres.as_deref()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_http_request_killed_before_its_answer_is_not_acked_and_takes_effect_once() {
    for postgres in backends() {
        for point in [BEFORE_COMMAND, BEFORE_ACK] {
            slack_survives(Slack::Http, point, postgres.as_deref()).await;
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Discord {
    Gateway,
    Http,
}

/// Sends `/release request …` as interaction `id`; true when answered.
async fn discord_request(fake: &FakeDiscord, run: &Running, way: Discord, id: &str) -> bool {
    let alice = (fake_discord::ALICE, "alice", &[] as &[&str]);
    let interaction = fake_discord::slash(
        id,
        alice,
        "request",
        &[
            ("service", "api"),
            ("version", "2.4.0"),
            ("environment", "production"),
        ],
    );
    match way {
        Discord::Gateway => {
            fake.dispatch("INTERACTION_CREATE", interaction);
            within_a_while(|| !fake.callbacks(id).is_empty()).await
        }
        Discord::Http => {
            let body = interaction.to_string();
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let sent = reqwest::Client::new()
                .post(format!("{}/discord/interactions", run.http))
                .header("content-type", "application/json")
                .header(
                    "x-signature-ed25519",
                    crate::discord_app::sign(&timestamp, &body),
                )
                .header("x-signature-timestamp", timestamp)
                .body(body)
                .send()
                .await;
            sent.is_ok_and(|response| response.status().is_success())
        }
    }
}

/// Discord: killed at `point`, not answered. Discord sends nothing again,
/// so the request exists once if it had committed, else not at all.
async fn discord_survives(way: Discord, point: &str, postgres: Option<&str>) {
    let fake = FakeDiscord::start().await;
    let mut instance = Instance::new(&crate::discord_app::config(&fake), postgres);
    instance.discord_public_key = Some(crate::discord_app::public_key_hex());

    let first = instance.spawn(Some(point)).await;
    eventually("the gateway session", || fake.live_gateways() == 1).await;
    let answered = discord_request(&fake, &first, way, "1800000000000000901").await;
    first.killed().await;
    assert!(!answered, "{way:?}, {point}: answered, then killed");

    let second = instance.spawn(None).await;
    eventually("the new gateway session", || fake.live_gateways() == 1).await;
    let committed = usize::from(point == BEFORE_ACK);
    // The next command works, and numbers after what survived.
    assert!(
        discord_request(&fake, &second, way, "1800000000000000902").await,
        "{way:?}, {point}: the next interaction is answered"
    );
    let answer = &fake.callbacks("1800000000000000902");
    if let Discord::Gateway = way {
        let said = answer[0]["data"]["content"].as_str().unwrap_or_default();
        assert!(
            said.starts_with(&format!("R-{} requested", committed + 1)),
            "{said}"
        );
    }
    second.stop().await;
    assert_eq!(
        instance.releases(),
        committed + 1,
        "{way:?}, {point}: what committed is kept, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_interaction_killed_before_its_answer_is_kept_once_if_it_committed() {
    for postgres in backends() {
        for point in [BEFORE_COMMAND, BEFORE_ACK] {
            discord_survives(Discord::Gateway, point, postgres.as_deref()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_http_interaction_killed_before_its_answer_is_kept_once_if_it_committed() {
    for postgres in backends() {
        for point in [BEFORE_COMMAND, BEFORE_ACK] {
            discord_survives(Discord::Http, point, postgres.as_deref()).await;
        }
    }
}
