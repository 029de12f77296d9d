//! `spawn_app()` for CI tests: the real engine, relay, notifier and HTTP
//! listener on port 0, a temporary sled store, a fixed clock, and a chat sink
//! that records what would be posted.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use hmac::{Hmac, Mac};
use releasebot::app::App;
use releasebot::clock::{Clock, FixedClock};
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, ReleaseId, UserRef};
use releasebot::domain::message::Message;
use releasebot::domain::outbox::CiJob;
use releasebot::domain::release::Release;
use releasebot::domain::text::Text;
use releasebot::engine::{Engine, Origin};
use releasebot::notify::{ChatSink, DeliveryError};
use releasebot::store::Store;
use serde_json::Value;
use sha2::Sha256;

use crate::fake_ci;

pub const CALLBACK_SECRET: &str = "callback-secret-production";
pub const OTHER_CALLBACK_SECRET: &str = "callback-secret-web";
pub const CALENDAR_TOKEN: &str = "calendar-feed-token";

static SECRETS: Once = Once::new();

/// Secrets come from the environment; set them once, before any config loads.
pub fn set_secrets() {
    SECRETS.call_once(|| {
        std::env::set_var("RB_TEST_GITHUB_TOKEN", fake_ci::GITHUB_TOKEN);
        std::env::set_var("RB_TEST_WRONG_TOKEN", "ghp_revoked");
        std::env::set_var("RB_TEST_GITLAB_TOKEN", fake_ci::GITLAB_TOKEN);
        std::env::set_var("RB_TEST_JENKINS_TOKEN", fake_ci::JENKINS_TOKEN);
        std::env::set_var("RB_TEST_HOOK_SECRET", fake_ci::HOOK_SECRET);
        std::env::set_var("RB_TEST_CALLBACK_SECRET", CALLBACK_SECRET);
        std::env::set_var("RB_TEST_OTHER_CALLBACK_SECRET", OTHER_CALLBACK_SECRET);
        std::env::set_var("RB_TEST_CALENDAR_TOKEN", CALENDAR_TOKEN);
        std::env::set_var("RB_TEST_SLACK_BOT_TOKEN", crate::fake_slack::BOT_TOKEN);
        std::env::set_var("RB_TEST_SLACK_APP_TOKEN", crate::fake_slack::APP_TOKEN);
        std::env::set_var(
            "RB_TEST_SLACK_SIGNING_SECRET",
            crate::slack_app::SIGNING_SECRET,
        );
        std::env::set_var("RB_TEST_DISCORD_TOKEN", crate::fake_discord::TOKEN);
        std::env::set_var("RB_TEST_DISCORD_WRONG_TOKEN", "revoked.discord.token");
        std::env::set_var(
            "RB_TEST_DISCORD_PUBLIC_KEY",
            crate::discord_app::public_key_hex(),
        );
    });
}

/// A config whose production CI target is `ci` (TOML keys, one per line).
pub fn config(ci: &str, fake_url: &str) -> String {
    format!(
        r##"
[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob"]
deployer = ["shell:dave"]

[services.api]

[services.web.ci.production]
kind = "webhook"
url = "{fake_url}/hook"
secret_env = "RB_TEST_HOOK_SECRET"
callback_secret_env = "RB_TEST_OTHER_CALLBACK_SECRET"

[environments.production]
channels = ["shell:#releases"]
request = ["developer"]
approve = ["release-manager"]
deploy = ["deployer"]
rollback = ["deployer"]
approvals = 1

[environments.production.ci]
callback_secret_env = "RB_TEST_CALLBACK_SECRET"
{ci}
"##
    )
}

/// Remembers every announcement as a line of text.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<String>>);

#[async_trait]
impl ChatSink for Recorder {
    async fn post(&self, _: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        self.0.lock().unwrap().push(message.to_text().to_string());
        Ok(message.release.to_string())
    }
    async fn update(
        &self,
        _: &ChannelRef,
        _: &str,
        message: &Message,
    ) -> Result<(), DeliveryError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("(edited) {}", message.to_text()));
        Ok(())
    }
    async fn reply_in_thread(
        &self,
        _: &ChannelRef,
        _: &str,
        line: &Text,
    ) -> Result<(), DeliveryError> {
        self.0.lock().unwrap().push(format!("thread: {line}"));
        Ok(())
    }
    async fn post_text(&self, channel: &ChannelRef, text: &Text) -> Result<(), DeliveryError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("[{}] {text}", channel.local()));
        Ok(())
    }
}

pub struct CiApp {
    pub app: App,
    pub clock: Arc<FixedClock>,
    pub http: String,
    pub chat: Arc<Recorder>,
    pub dir: tempfile::TempDir,
}

pub fn engine_for(config_text: &str, data: &Path, clock: Arc<FixedClock>) -> Engine {
    set_secrets();
    let config =
        Arc::new(Config::parse(config_text, "ci-test.toml").expect("test config is valid"));
    // A stopped app's last blocking flush may hold sled's file lock for a
    // moment after it returns; a restarted process would not race it.
    let mut store = Store::open(data);
    for _ in 0..100 {
        if store.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        store = Store::open(data);
    }
    Engine::new(store.expect("open store"), config, clock)
}

pub fn test_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at(
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
    ))
}

impl CiApp {
    pub async fn spawn(config_text: &str) -> CiApp {
        CiApp::spawn_in(config_text, tempfile::tempdir().unwrap(), test_clock()).await
    }

    pub async fn spawn_in(
        config_text: &str,
        dir: tempfile::TempDir,
        clock: Arc<FixedClock>,
    ) -> CiApp {
        let engine = engine_for(config_text, &dir.path().join("data"), clock.clone());
        let chat = Arc::new(Recorder::default());
        let sinks: HashMap<String, Arc<dyn ChatSink>> =
            HashMap::from([("shell".to_string(), chat.clone() as Arc<dyn ChatSink>)]);
        let mut app = App::start(engine, clock.clone(), sinks);
        let bound = app
            .serve_http("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        CiApp {
            app,
            clock,
            http: format!("http://{bound}"),
            chat,
            dir,
        }
    }

    pub fn run(&self, user: &str, line: &str) -> Result<String, String> {
        let user = UserRef::parse(&format!("shell:{user}")).unwrap();
        let origin = Origin {
            channel: ChannelRef::parse("shell:#test").unwrap(),
        };
        // No wake: the change feed wakes the workers.
        self.app
            .engine
            .handle_line(&user, line, &origin)
            .map(|r| r.text().to_string())
            .map_err(|e| e.reply_text())
    }

    /// Requests, approves and deploys `service` 2.4.0 to production as R-`id`.
    pub fn deploy(&self, service: &str, id: u64) -> String {
        self.run("alice", &format!("request {service} 2.4.0 to production"))
            .unwrap();
        self.run("bob", &format!("approve R-{id}")).unwrap();
        self.run("dave", &format!("deploy R-{id}")).unwrap()
    }

    pub fn release(&self, id: u64) -> Release {
        self.app
            .engine
            .store()
            .release(ReleaseId::new(id))
            .unwrap()
            .unwrap()
    }

    /// Waits (at most 10 s of real time) for `done`, nudging the workers.
    /// Waits until the only job's first attempt failed and its retry is
    /// planned; returns the job as stored.
    pub async fn first_retry(&self) -> CiJob {
        self.until("the retry to be planned", |a| {
            a.app.engine.store().jobs().unwrap()[0].attempts == 1
        })
        .await;
        self.app.engine.store().jobs().unwrap().remove(0)
    }

    pub async fn until(&self, what: &str, done: impl Fn(&CiApp) -> bool) {
        // A deadline (30 s), not a figure: generous for a loaded 2-core CI.
        for _ in 0..1500 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "timed out waiting for {what}; chat so far: {:#?}",
            self.chat.0.lock().unwrap()
        );
    }

    pub fn chat_contains(&self, text: &str) -> bool {
        self.chat
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains(text))
    }

    /// Moves the fixed clock on and wakes the relay.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(chrono::Duration::seconds(seconds));
        self.app.wake_workers();
    }

    /// Posts a callback signed with `secret` (or unsigned).
    pub async fn callback(&self, secret: Option<&str>, body: &Value) -> (u16, Value) {
        let raw = serde_json::to_vec(body).unwrap();
        let mut request = reqwest::Client::new()
            .post(format!("{}/ci/callback", self.http))
            .body(raw.clone());
        if let Some(secret) = secret {
            request = request.header("X-Hub-Signature-256", sign(secret, &raw));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or_default();
        (status, body)
    }

    pub fn now_unix(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
