//! Acknowledged is durable, on every inbound chat path. The real binary
//! (`releasebot run`) talks to the fake Slack or the fake Discord and is
//! killed (a failpoint aborts it, as SIGKILL would) once before an event's
//! command ran and once after it committed but before its ack went out.
//! Neither event is acknowledged. Restarted, Slack's redelivery makes the
//! command take effect exactly once; Discord redelivers nothing, so its
//! command took effect once when it had committed and not at all when it
//! had not, and nobody was told otherwise. On sled, and on PostgreSQL when
//! a test database is configured.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use releasebot::chat::slack::signing;
use releasebot::store::testkit::{database_url, TestSchema};
use serde_json::Value;

use crate::fake_discord::{self, FakeDiscord};
use crate::fake_slack::{self, eventually, slash_envelope, slash_payload, FakeSlack};

const ALICE: &str = "U0ALICE001";
const RELEASES: &str = "C0RELEASES";
const REQUEST: &str = "request api 2.4.0 to production";
/// Killed before the command's transaction: nothing ran.
const BEFORE_COMMAND: &str = "chat.before_command";
/// Killed after the command committed, before its ack.
const BEFORE_ACK: &str = "chat.before_ack";

/// A data dir (or PostgreSQL schema) and a config that instances share.
struct Instance {
    dir: tempfile::TempDir,
    config: PathBuf,
    _schema: Option<TestSchema>,
}

/// A running `releasebot run`, and the address of its HTTP listener.
struct Running {
    child: Child,
    http: String,
}

impl Instance {
    /// On sled, or with `postgres_url` on a schema of its own.
    fn new(config_text: &str, postgres_url: Option<&str>) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let schema = postgres_url.map(TestSchema::new);
        let store = schema.as_ref().map_or(String::new(), |schema| {
            format!(
                "\n[store]\nbackend = \"postgres\"\nurl_env = \"RELEASEBOT_TEST_DATABASE_URL\"\nschema = \"{}\"\n",
                schema.name
            )
        });
        let config = dir.path().join("releasebot.toml");
        std::fs::write(&config, format!("{config_text}{store}")).unwrap();
        Instance {
            dir,
            config,
            _schema: schema,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_releasebot"));
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .env_remove("RELEASEBOT_FAILPOINTS")
            .env("RB_TEST_SLACK_BOT_TOKEN", fake_slack::BOT_TOKEN)
            .env("RB_TEST_SLACK_APP_TOKEN", fake_slack::APP_TOKEN)
            .env(
                "RB_TEST_SLACK_SIGNING_SECRET",
                crate::slack_app::SIGNING_SECRET,
            )
            .env("RB_TEST_DISCORD_TOKEN", fake_discord::TOKEN)
            .env(
                "RB_TEST_DISCORD_PUBLIC_KEY",
                crate::discord_app::public_key_hex(),
            )
            .env("RUST_LOG", "warn");
        command
    }

    /// Starts `releasebot run`, armed to abort at `failpoint`; returns once
    /// its HTTP listener is up.
    async fn spawn(&self, failpoint: Option<&str>) -> Running {
        let mut command = self.command(&["run"]);
        if let Some(point) = failpoint {
            command.env("RELEASEBOT_FAILPOINTS", point);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn releasebot run");
        let (found, listening) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line
                    .split_once("HTTP listening on ")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                {
                    let _ = found.send(url.to_string());
                }
                // Kept draining, so the child never blocks on a full pipe.
                eprintln!("  [run] {line}");
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let http = loop {
            if let Ok(url) = listening.try_recv() {
                break url;
            }
            assert!(Instant::now() < deadline, "run did not start listening");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Running { child, http }
    }

    /// How many releases the store holds (read with the bot stopped).
    fn releases(&self) -> usize {
        let output = self.command(&["export"]).output().unwrap();
        assert!(
            output.status.success(),
            "export failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&output.stdout)
            .unwrap()
            .len()
    }
}

impl Running {
    /// Waits for the failpoint to abort the process.
    async fn killed(mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the failpoint did not stop the process"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops it cleanly (SIGTERM), so that the store can be read.
    async fn stop(mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "run did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Each backend the tests run on: sled, and PostgreSQL when configured.
fn backends() -> Vec<Option<String>> {
    let mut backends = vec![None];
    if let Some(url) = database_url("acknowledged-is-durable tests") {
        backends.push(Some(url));
    }
    backends
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
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if fake.ack(envelope).is_some() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            false
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
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if !fake.callbacks(id).is_empty() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            false
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
    let instance = Instance::new(&crate::discord_app::config(&fake), postgres);

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
