//! One release, two platforms: asked for in Slack, its stakeholders on
//! Discord. Announcements are routed by channel reference, not by where the
//! command came from.

use crate::chat_app::ChatApp;
use crate::fake_discord::{self, FakeDiscord};
use crate::fake_slack::{
    button_payload, eventually, interactive_envelope, slash_envelope, FakeSlack,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_request_is_announced_to_discord_stakeholders_and_edited_there() {
    let slack_fake = FakeSlack::start().await;
    let discord_fake = FakeDiscord::start().await;
    let config = format!(
        r#"
[slack]
api_url = "{slack_api}"
bot_token_env = "RB_TEST_SLACK_BOT_TOKEN"
app_token_env = "RB_TEST_SLACK_APP_TOKEN"
connections = 1

[discord]
token_env = "RB_TEST_DISCORD_TOKEN"
application_id = "{app}"
guilds = ["{guild}"]
proxy_url = "{discord_base}"

[roles]
developer = ["slack:U0ALICE001"]
release-manager = ["slack:U0BOB00001", "slack:U0CAROL001"]

[services.api]
channels = ["discord:{stakeholders}"]

[environments.production]
channels = ["slack:C0RELEASES"]
request = ["developer"]
approve = ["release-manager"]
approvals = 2
"#,
        slack_api = slack_fake.api_url,
        app = fake_discord::APP,
        guild = fake_discord::GUILD,
        discord_base = discord_fake.base,
        stakeholders = fake_discord::STAKEHOLDERS,
    );
    let fakes = (slack_fake.clone(), discord_fake.clone());
    let bot = ChatApp::start(fakes, tempfile::tempdir().unwrap(), &config).await;
    eventually("both connections", || {
        slack_fake.live_sockets() == 1 && discord_fake.live_gateways() == 1
    })
    .await;

    slack_fake.send(&slash_envelope(
        "env-1",
        "U0ALICE001",
        "C0RELEASES",
        "request api 2.4.0 to production",
        "trigger-1",
        &slack_fake.base,
    ));
    eventually("the Slack and Discord announcements", || {
        slack_fake.announcements("C0RELEASES").len() == 1
            && discord_fake.posted_in(fake_discord::STAKEHOLDERS).len() == 1
    })
    .await;
    let on_discord = &discord_fake.posted_in(fake_discord::STAKEHOLDERS)[0];
    let title = on_discord["embeds"][0]["title"].as_str().unwrap();
    assert_eq!(
        title,
        "🚦 R-1 api 2.4.0 → production: requested by Alice Ng"
    );
    let requester = on_discord["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Requester")
        .unwrap()["value"]
        .clone();
    assert_eq!(requester, "Alice Ng", "a Slack person by their Slack name");

    // Bob approves in Slack; the Discord message is edited and its thread told.
    slack_fake.send(&interactive_envelope(
        "env-2",
        button_payload(
            "U0BOB00001",
            "C0RELEASES",
            "1764151200.000001",
            "release_approve",
            "R-1",
            "trigger-2",
            &slack_fake.base,
        ),
    ));
    // The thread is opened right after the post: wait for it, not just the post.
    let thread_path = || {
        discord_fake
            .ok_calls(&format!(
                "POST /channels/{}/messages/",
                fake_discord::STAKEHOLDERS
            ))
            .iter()
            .any(|c| c.path.ends_with("/threads"))
    };
    eventually("the thread on the Discord announcement", thread_path).await;
    let discord_id = discord_fake
        .ok_calls(&format!(
            "POST /channels/{}/messages/",
            fake_discord::STAKEHOLDERS
        ))
        .iter()
        .find(|c| c.path.ends_with("/threads"))
        .map(|c| c.path.split('/').nth(4).unwrap().to_string())
        .expect("a thread on the Discord announcement");
    eventually("the Discord edit", || {
        discord_fake.message(&discord_id).is_some_and(|m| {
            m["embeds"][0]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == "Approvals" && f["value"] == "1/2")
        })
    })
    .await;
    eventually("the Discord thread line", || {
        !discord_fake
            .ok_calls(&format!("POST /channels/{discord_id}/messages"))
            .is_empty()
    })
    .await;
    assert_eq!(discord_fake.posted_in(fake_discord::STAKEHOLDERS).len(), 1);
    let line = &discord_fake.ok_calls(&format!("POST /channels/{discord_id}/messages"))[0].body;
    assert!(
        line["content"]
            .as_str()
            .unwrap()
            .contains("Bob Stone approved"),
        "{line}"
    );

    bot.stop().await;
}
