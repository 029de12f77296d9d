//! The bot connected to the fake Slack: the real engine, notifier and relay
//! on a temporary sled store with a fixed clock, the real slack-morphism
//! client, Socket Mode or HTTP mode.

use std::collections::HashMap;
use std::sync::Arc;

use releasebot::app::App;
use releasebot::chat::adapters::Adapters;
use releasebot::clock::FixedClock;
use releasebot::domain::ids::ReleaseId;
use releasebot::domain::release::Release;

use crate::ci_app::{engine_for, test_clock};
use crate::fake_slack::FakeSlack;

pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// Slack ids in roles; Carol is a release manager through `@release-leads`.
pub fn config(fake: &FakeSlack, mode: &str) -> String {
    format!(
        r##"
[http]
listen = "127.0.0.1:0"

[slack]
mode = "{mode}"
api_url = "{api}"
bot_token_env = "RB_TEST_SLACK_BOT_TOKEN"
app_token_env = "RB_TEST_SLACK_APP_TOKEN"
signing_secret_env = "RB_TEST_SLACK_SIGNING_SECRET"
connections = 1

[roles]
developer = ["slack:U0ALICE001"]
release-manager = ["slack:U0BOB00001", "slack:@release-leads"]
deployer = ["slack:U0DAVE0001"]

[services.api]
channels = ["slack:C0STAKEHOLD"]

[services.web]

[environments.production]
channels = ["slack:C0RELEASES"]
request = ["developer"]
approve = ["release-manager"]
deploy = ["deployer"]
rollback = ["deployer"]
approvals = 2

[environments.production.ci]
kind = "simulate"
delay_secs = 0
"##,
        api = fake.api_url
    )
}

pub struct SlackApp {
    pub app: App,
    pub adapters: Option<Adapters>,
    pub fake: FakeSlack,
    pub clock: Arc<FixedClock>,
    /// The HTTP listener (HTTP mode's endpoints).
    pub http: String,
    pub dir: tempfile::TempDir,
}

impl SlackApp {
    pub async fn spawn(mode: &str) -> SlackApp {
        let fake = FakeSlack::start().await;
        SlackApp::spawn_with(fake, mode, tempfile::tempdir().unwrap()).await
    }

    pub async fn spawn_with(fake: FakeSlack, mode: &str, dir: tempfile::TempDir) -> SlackApp {
        let clock = test_clock();
        let engine = engine_for(
            &config(&fake, mode),
            &dir.path().join("data"),
            clock.clone(),
        );
        let (mut app, adapters) = Adapters::start(engine, clock.clone(), HashMap::new())
            .await
            .unwrap();
        let bound = app
            .serve_http("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        SlackApp {
            app,
            adapters: Some(adapters),
            fake,
            clock,
            http: format!("http://{bound}"),
            dir,
        }
    }

    pub fn release(&self, id: u64) -> Option<Release> {
        self.app.engine.store().release(ReleaseId::new(id)).unwrap()
    }

    pub fn release_count(&self) -> u64 {
        self.app.engine.store().release_count().unwrap()
    }

    pub async fn stop(mut self) -> (FakeSlack, tempfile::TempDir) {
        if let Some(adapters) = self.adapters.take() {
            adapters.stop().await;
        }
        self.app.stop().await;
        (self.fake, self.dir)
    }
}
