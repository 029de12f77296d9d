//! The bot connected to the fake Slack, with the real slack-morphism client,
//! in Socket Mode or HTTP mode.

use crate::chat_app::ChatApp;
use crate::fake_slack::FakeSlack;

pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// Slack ids in roles; Carol is a release manager through `@release-leads`.
pub fn config(fake: &FakeSlack, mode: &str) -> String {
    format!(
        r##"
[http]
listen = "127.0.0.1:0"

[delivery]
timeout_secs = 2

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

pub type SlackApp = ChatApp<FakeSlack>;

impl SlackApp {
    pub async fn spawn(mode: &str) -> SlackApp {
        let fake = FakeSlack::start().await;
        let text = config(&fake, mode);
        ChatApp::start(fake, tempfile::tempdir().unwrap(), &text).await
    }
}
