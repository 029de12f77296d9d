//! Discord end to end: the real serenity gateway and REST clients against
//! the fake Discord (through `proxy_url`), and the signed HTTP endpoint.

use std::time::Duration;

use serde_json::{json, Value};

use crate::discord_app::DiscordApp;
use crate::fake_discord::{
    autocomplete, chat_message, click, modal_submit, slash, Fault, ALICE, BOB, BOT, CAROL, DAVE,
    GUILD, LEADS_ROLE, RELEASES, STAKEHOLDERS,
};
use crate::fake_slack::eventually;

const ALICE_: (&str, &str, &[&str]) = (ALICE, "alice", &[]);
const BOB_: (&str, &str, &[&str]) = (BOB, "bob", &[]);
const CAROL_: (&str, &str, &[&str]) = (CAROL, "carol", &[LEADS_ROLE]);
const DAVE_: (&str, &str, &[&str]) = (DAVE, "dave", &[]);

async fn ready(bot: &DiscordApp) {
    eventually("the gateway session", || bot.fake.live_gateways() == 1).await;
    eventually("/release registered", || {
        !bot.fake.ok_calls("PUT /applications/").is_empty()
    })
    .await;
}

/// Dispatches an interaction and waits for its answer: the first response,
/// given once the command is durable, private to the person who acted.
async fn interact(bot: &DiscordApp, data: Value) -> String {
    let id = data["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", data);
    eventually("the interaction callback", || {
        !bot.fake.callbacks(&id).is_empty()
    })
    .await;
    let callback = &bot.fake.callbacks(&id)[0];
    assert_eq!(callback["type"], 4, "the answer itself: {callback}");
    // 64 ephemeral, 4 no link previews (a sign-in link is not unfurled).
    assert_eq!(callback["data"]["flags"], 64 | 4, "ephemeral: {callback}");
    callback["data"]["content"].as_str().unwrap().to_string()
}

fn embed_fields(message: &Value) -> Vec<(String, String)> {
    message["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn field(message: &Value, name: &str) -> Option<String> {
    embed_fields(message)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_idempotent_across_restarts() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let put = &bot.fake.ok_calls("PUT /applications/")[0].body;
    let command = &put[0];
    assert_eq!(command["name"], "release");
    let subs: Vec<&str> = command["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for wanted in [
        "request", "approve", "reject", "deploy", "rollback", "status", "list",
    ] {
        assert!(subs.contains(&wanted), "{wanted} in {subs:?}");
    }
    let request = &command["options"][0];
    assert_eq!(request["type"], 1);
    let service = &request["options"][0];
    assert_eq!(service["name"], "service");
    assert_eq!(service["required"], true);
    assert_eq!(
        service["choices"],
        json!([{"name": "api", "value": "api"}, {"name": "web", "value": "web"}])
    );
    let approve = command["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "approve")
        .unwrap();
    assert_eq!(approve["options"][0]["autocomplete"], true);

    // A restart finds /release as it wants it and leaves it alone.
    let (fake, dir) = bot.stop().await;
    let bot = DiscordApp::spawn_with(fake, dir).await;
    eventually("the second session", || bot.fake.identifies() == 2).await;
    eventually("the command check", || {
        bot.fake.ok_calls("GET /applications/").len() == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(bot.fake.ok_calls("PUT /applications/").len(), 1, "no churn");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_buttons_thread_approval_and_deploy_edit_one_announcement() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;

    let reply = interact(
        &bot,
        slash(
            "1800000000000000001",
            ALICE_,
            "request",
            &[
                ("service", "api"),
                ("version", "2.4.0"),
                ("environment", "production"),
                ("at", "2026-12-01 14:00"),
            ],
        ),
    )
    .await;
    assert!(reply.contains("R-1"), "{reply}");

    eventually("the announcements", || {
        bot.fake.posted_in(RELEASES).len() == 1 && bot.fake.posted_in(STAKEHOLDERS).len() == 1
    })
    .await;
    // The thread is opened right after the post: wait for it too.
    eventually("the thread on the announcement", || {
        bot.fake
            .ok_calls(&format!("POST /channels/{RELEASES}/messages/"))
            .iter()
            .any(|c| c.path.ends_with("/threads"))
    })
    .await;
    let posted = bot
        .fake
        .ok_calls(&format!("POST /channels/{RELEASES}/messages"));
    let announcement_id = {
        let calls = bot
            .fake
            .ok_calls(&format!("POST /channels/{RELEASES}/messages/"));
        let thread_call = calls
            .iter()
            .find(|c| c.path.ends_with("/threads"))
            .expect("a thread opened");
        thread_call.path.split('/').nth(4).unwrap().to_string()
    };
    assert_eq!(posted.len(), 2, "the message and its thread");
    let first = bot.fake.message(&announcement_id).unwrap();
    assert!(first["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .contains("R-1 api 2.4.0 → production"));
    assert_eq!(first["embeds"][0]["color"], 0xF1C40F);
    assert_eq!(
        field(&first, "Requester").as_deref(),
        Some(format!("<@{ALICE}>").as_str())
    );
    assert_eq!(field(&first, "Approvals").as_deref(), Some("0/2"));
    assert!(field(&first, "Window")
        .unwrap()
        .starts_with("2026-12-01 14:00"));
    let buttons = &first["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], "release:approve:R-1");
    assert_eq!(buttons[1]["custom_id"], "release:reject:R-1");
    assert_eq!(
        bot.release(1).unwrap().requester.as_str(),
        format!("discord:{ALICE}")
    );

    // Bob clicks Approve.
    let answer = interact(
        &bot,
        click(
            "1800000000000000002",
            BOB_,
            "release:approve:R-1",
            first.clone(),
        ),
    )
    .await;
    assert!(answer.contains("R-1"), "{answer}");
    eventually("the edit", || {
        bot.fake
            .message(&announcement_id)
            .and_then(|m| field(&m, "Approvals"))
            .as_deref()
            == Some("1/2")
    })
    .await;
    let thread_path = format!("POST /channels/{announcement_id}/messages");
    eventually("a thread line", || {
        !bot.fake.ok_calls(&thread_path).is_empty()
    })
    .await;

    // Chatter and the bot's own messages in the thread change nothing.
    bot.fake.dispatch(
        "MESSAGE_CREATE",
        chat_message(
            "1900000000000000001",
            &announcement_id,
            ALICE_,
            "lgtm once QA is done",
        ),
    );
    let mut own = chat_message(
        "1900000000000000002",
        &announcement_id,
        (BOT, "releasebot", &[]),
        "approve",
    );
    own["author"]["bot"] = json!(true);
    bot.fake.dispatch("MESSAGE_CREATE", own);

    // Carol, a release manager through her guild role, writes lgtm.
    let lgtm = chat_message("1900000000000000003", &announcement_id, CAROL_, "lgtm");
    bot.fake.dispatch("MESSAGE_CREATE", lgtm.clone());
    eventually("approved", || {
        bot.release(1).is_some_and(|r| r.approvals.len() == 2)
    })
    .await;
    // The gateway redelivers after a resume: nothing happens twice.
    bot.fake.dispatch("MESSAGE_CREATE", lgtm);
    let again = click(
        "1800000000000000002",
        BOB_,
        "release:approve:R-1",
        first.clone(),
    );
    bot.fake.dispatch("INTERACTION_CREATE", again);

    // Dave deploys with a mention; the simulated CI reports.
    bot.fake.dispatch(
        "MESSAGE_CREATE",
        chat_message(
            "1900000000000000004",
            RELEASES,
            DAVE_,
            &format!("<@{BOT}> deploy R-1"),
        ),
    );
    eventually("deployed", || {
        bot.release(1)
            .is_some_and(|r| r.status.as_str() == "deployed")
    })
    .await;
    eventually("the deployed edit", || {
        bot.fake
            .message(&announcement_id)
            .is_some_and(|m| m["embeds"][0]["color"] == 0x2ECC71)
    })
    .await;
    let last = bot.fake.message(&announcement_id).unwrap();
    assert_eq!(last["components"], json!([]), "no buttons once deployed");

    tokio::time::sleep(Duration::from_millis(200)).await;
    let announcements = |channel: &str| {
        bot.fake
            .posted_in(channel)
            .into_iter()
            .filter(|m| m["embeds"].as_array().is_some_and(|e| !e.is_empty()))
            .count()
    };
    assert_eq!(
        announcements(RELEASES),
        1,
        "one announcement, edited in place"
    );
    assert_eq!(announcements(STAKEHOLDERS), 1);
    assert_eq!(
        bot.fake.callback_latencies().len(),
        2,
        "one callback per interaction, none for the redelivery"
    );
    eventually("heartbeats, each acknowledged", || {
        bot.fake.heartbeats_acked() >= 2
    })
    .await;
    assert_eq!(
        bot.fake.identifies(),
        1,
        "one session throughout: no re-identify"
    );
    let mention_answer = &bot.fake.posted_in(RELEASES)[1];
    assert_eq!(
        mention_answer["message_reference"]["message_id"], "1900000000000000004",
        "the mention is answered as a reply: {mention_answer}"
    );
    assert_eq!(
        bot.fake.callbacks("1800000000000000002").len(),
        1,
        "a redelivered interaction is answered once"
    );
    let lines: Vec<String> = bot
        .fake
        .ok_calls(&thread_path)
        .iter()
        .map(|c| c.body["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        lines.iter().filter(|l| l.contains("approved")).count(),
        2,
        "{lines:?}"
    );
    assert!(
        bot.fake
            .posted_in(&announcement_id)
            .iter()
            .all(|m| !m["content"]
                .as_str()
                .unwrap_or_default()
                .contains("already")),
        "the redelivered lgtm was dropped, not refused"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_option_value_is_refused_privately_and_changes_nothing() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let reply = interact(
        &bot,
        slash(
            "1800000000000000011",
            ALICE_,
            "request",
            &[("service", "moon"), ("version", "1.0.0")],
        ),
    )
    .await;
    assert!(reply.contains("moon"), "{reply}");
    let reply = interact(
        &bot,
        slash("1800000000000000012", ALICE_, "reject", &[("id", "R-1")]),
    )
    .await;
    assert_eq!(
        reply,
        "`/release reject`: Missing `reason`: the reason for rejecting."
    );
    let reply = interact(&bot, slash("1800000000000000013", ALICE_, "launch", &[])).await;
    assert!(reply.contains("/release help"), "{reply}");
    // A sign-in link comes privately with previews off (`interact` checks
    // the flags), so no unfurler fetches it.
    let link = run(&bot, 14, ALICE_, "dashboard").await;
    assert!(link.contains("/signin/"), "{link}");
    assert_eq!(bot.release_count(), 0);
    assert!(bot.fake.posted_in(RELEASES).is_empty());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_offers_open_releases_and_reject_asks_why() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    interact(
        &bot,
        slash(
            "1800000000000000021",
            ALICE_,
            "request",
            &[("service", "api"), ("version", "2.4.0")],
        ),
    )
    .await;
    interact(
        &bot,
        slash(
            "1800000000000000022",
            ALICE_,
            "request",
            &[("service", "web"), ("version", "1.0.0")],
        ),
    )
    .await;

    bot.fake.dispatch(
        "INTERACTION_CREATE",
        autocomplete("1800000000000000023", BOB_, "approve", "web"),
    );
    eventually("choices", || {
        !bot.fake.callbacks("1800000000000000023").is_empty()
    })
    .await;
    let choices = &bot.fake.callbacks("1800000000000000023")[0];
    assert_eq!(choices["type"], 8);
    assert_eq!(choices["data"]["choices"].as_array().unwrap().len(), 1);
    assert_eq!(choices["data"]["choices"][0]["value"], "R-2");

    eventually("the announcement", || {
        bot.fake.posted_in(RELEASES).len() == 2
    })
    .await;
    let calls = bot
        .fake
        .ok_calls(&format!("POST /channels/{RELEASES}/messages/"));
    let first_id = calls[0].path.split('/').nth(4).unwrap().to_string();
    let announcement = bot.fake.message(&first_id).unwrap();
    bot.fake.dispatch(
        "INTERACTION_CREATE",
        click(
            "1800000000000000024",
            BOB_,
            "release:reject:R-1",
            announcement,
        ),
    );
    eventually("the modal", || {
        !bot.fake.callbacks("1800000000000000024").is_empty()
    })
    .await;
    let modal = &bot.fake.callbacks("1800000000000000024")[0];
    assert_eq!(modal["type"], 9, "{modal}");
    let custom_id = modal["data"]["custom_id"].as_str().unwrap().to_string();
    let reply = interact(
        &bot,
        modal_submit(
            "1800000000000000025",
            BOB_,
            &custom_id,
            "breaks the login page",
        ),
    )
    .await;
    assert!(reply.contains("R-1"), "{reply}");
    let release = bot.release(1).unwrap();
    assert_eq!(release.status.as_str(), "rejected");
    assert_eq!(
        release.rejected.unwrap().reason.as_deref(),
        Some("breaks the login page")
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_message_create_is_retried_and_posted_once() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let route = format!("POST /channels/{RELEASES}/messages");
    bot.fake.fail_next(&route, Fault::RateLimited(0.2));
    bot.fake.fail_next(&route, Fault::ServerError);
    interact(
        &bot,
        slash(
            "1800000000000000031",
            ALICE_,
            "request",
            &[("service", "api"), ("version", "2.4.0")],
        ),
    )
    .await;
    eventually("the announcement", || {
        bot.fake.posted_in(RELEASES).len() == 1
    })
    .await;
    let attempts: Vec<u16> = bot
        .fake
        .calls(&route)
        .iter()
        .filter(|c| c.path == format!("/channels/{RELEASES}/messages"))
        .map(|c| c.status)
        .collect();
    assert_eq!(attempts, vec![429, 500, 200]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(bot.fake.posted_in(RELEASES).len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_through_the_proxy_waits_what_discord_says_not_a_fixed_second() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let route = format!("POST /channels/{RELEASES}/messages");
    bot.fake.fail_next(&route, Fault::RateLimited(1.6));
    interact(
        &bot,
        slash(
            "1800000000000000032",
            ALICE_,
            "request",
            &[("service", "api"), ("version", "2.4.0")],
        ),
    )
    .await;
    eventually("the announcement", || {
        bot.fake.posted_in(RELEASES).len() == 1
    })
    .await;
    let attempts: Vec<_> = bot
        .fake
        .calls(&route)
        .into_iter()
        .filter(|c| c.path == format!("/channels/{RELEASES}/messages"))
        .collect();
    assert_eq!(
        attempts.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![429, 200]
    );
    let waited = attempts[1].at - attempts[0].at;
    println!(
        "figure: after a 429 with retry_after 1.6 s the post was retried {} ms later",
        waited.as_millis()
    );
    assert!(
        waited >= Duration::from_millis(1600),
        "retried after {waited:?}, before Discord's retry_after"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_identify_is_not_retried_in_a_tight_loop() {
    let fake = crate::fake_discord::FakeDiscord::start().await;
    let text = crate::discord_app::config(&fake)
        .replace("RB_TEST_DISCORD_TOKEN", "RB_TEST_DISCORD_WRONG_TOKEN");
    let bot = DiscordApp::start(fake, tempfile::tempdir().unwrap(), &text).await;
    eventually("a first attempt", || bot.fake.connections() == 1).await;
    // Discord closes with 4004 (authentication failed); the bot waits
    // seconds, not milliseconds, before it tries again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(bot.fake.connections(), 1);
    assert_eq!(bot.fake.identifies(), 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_whose_answer_was_lost_is_found_not_posted_again() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let route = format!("POST /channels/{RELEASES}/messages");
    bot.fake.fail_next(&route, Fault::LostResponse);
    interact(
        &bot,
        slash(
            "1800000000000000051",
            ALICE_,
            "request",
            &[("service", "api"), ("version", "2.4.0")],
        ),
    )
    .await;
    eventually("the adopted announcement is brought up to date", || {
        bot.fake
            .ok_calls(&format!("PATCH /channels/{RELEASES}/messages/"))
            .len()
            == 1
    })
    .await;
    let stored = bot.fake.stored_in(RELEASES);
    assert_eq!(stored.len(), 1, "posted once: {stored:#?}");
    let attempts = bot
        .fake
        .calls(&route)
        .into_iter()
        .filter(|c| c.path == format!("/channels/{RELEASES}/messages"))
        .count();
    assert_eq!(attempts, 1, "found by the lookup, not created again");
    let first = &bot.fake.calls(&route)[0].body;
    assert_eq!(first["enforce_nonce"], true, "{first}");
    assert!(first["nonce"].as_str().unwrap().starts_with("rb1-"));
    assert!(first["nonce"].as_str().unwrap().len() <= 25);
    assert_eq!(
        bot.fake
            .ok_calls(&format!("GET /channels/{RELEASES}/messages"))
            .len(),
        1
    );

    // The lost try never opened the thread: the first step's line opens it.
    let announcement = stored[0].clone();
    let id = announcement["id"].as_str().unwrap().to_string();
    interact(
        &bot,
        click(
            "1800000000000000052",
            BOB_,
            "release:approve:R-1",
            announcement,
        ),
    )
    .await;
    let thread_line = format!("POST /channels/{id}/messages");
    eventually("the line in a thread opened late", || {
        !bot.fake.ok_calls(&thread_line).is_empty()
    })
    .await;
    assert_eq!(
        bot.fake
            .ok_calls(&format!("POST /channels/{RELEASES}/messages/{id}/threads"))
            .len(),
        1
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_gateway_commands_are_still_registered() {
    let fake = crate::fake_discord::FakeDiscord::start().await;
    let text = crate::discord_app::config(&fake).replace(
        "public_key_env = \"RB_TEST_DISCORD_PUBLIC_KEY\"",
        "public_key_env = \"RB_TEST_DISCORD_PUBLIC_KEY\"\ngateway = false",
    );
    assert!(text.contains("gateway = false"));
    let bot = DiscordApp::start(fake, tempfile::tempdir().unwrap(), &text).await;
    eventually("/release registered over REST", || {
        bot.fake.ok_calls("PUT /applications/").len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(bot.fake.connections(), 0, "no gateway connection");
    bot.stop().await;
}

mod http_endpoint {
    use super::*;
    use crate::discord_app::sign;

    async fn post(bot: &DiscordApp, body: &str, signature: Option<String>) -> (u16, String) {
        let timestamp = "1764151200";
        let mut request = reqwest::Client::new()
            .post(format!("{}/discord/interactions", bot.http))
            .header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request
                .header("x-signature-ed25519", signature)
                .header("x-signature-timestamp", timestamp);
        }
        let response = request.body(body.to_string()).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_good_ed25519_signatures_are_answered() {
        let bot = DiscordApp::spawn().await;
        let ping = json!({"id": "1800000000000000041", "application_id": crate::fake_discord::APP, "type": 1, "token": "t", "version": 1}).to_string();
        let (status, body) = post(&bot, &ping, Some(sign("1764151200", &ping))).await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"type": 1})
        );

        let request = slash(
            "1800000000000000042",
            ALICE_,
            "request",
            &[("service", "api"), ("version", "2.4.0")],
        )
        .to_string();
        let (status, _) = post(&bot, &request, None).await;
        assert_eq!(status, 401);
        let (status, _) = post(&bot, &request, Some(sign("1764151200", "another body"))).await;
        assert_eq!(status, 401);
        let (status, _) = post(&bot, &request, Some("00".repeat(64))).await;
        assert_eq!(status, 401);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(bot.release_count(), 0, "nothing changed");

        let (status, body) = post(&bot, &request, Some(sign("1764151200", &request))).await;
        assert_eq!(status, 200);
        let response: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(response["type"], 4, "answered once durable: {response}");
        assert_eq!(response["data"]["flags"], 64 | 4);
        assert!(
            response["data"]["content"]
                .as_str()
                .unwrap()
                .contains("R-1 requested"),
            "{response}"
        );
        assert_eq!(bot.release_count(), 1, "committed before the answer");
        // The same interaction again is not run twice.
        let (status, _) = post(&bot, &request, Some(sign("1764151200", &request))).await;
        assert_eq!(status, 409);
        assert_eq!(bot.release_count(), 1);
        bot.stop().await;
    }
}

/// `/release run command:<line>` as `who`, answered privately.
async fn run(bot: &DiscordApp, id: u64, who: (&str, &str, &[&str]), line: &str) -> String {
    interact(
        bot,
        slash(
            &format!("{}", 1_810_000_000_000_000_000 + id),
            who,
            "run",
            &[("command", line)],
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_locks_updates_and_resolves_with_its_summary_in_the_thread() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    run(&bot, 1, ALICE_, "request api 2.4.0 to production").await;
    run(&bot, 2, BOB_, "approve R-1").await;
    run(&bot, 3, CAROL_, "approve R-1").await;
    run(&bot, 4, DAVE_, "deploy R-1").await;
    eventually("deployed", || {
        bot.release(1)
            .is_some_and(|r| r.status.as_str() == "deployed")
    })
    .await;
    let opened = run(
        &bot,
        5,
        DAVE_,
        "incident open api production sev1 checkout errors",
    )
    .await;
    assert!(
        opened.contains("I-1 opened: api in production (sev1), put down to R-1"),
        "{opened}"
    );
    run(&bot, 6, ALICE_, "request api 2.4.1 to production").await;
    run(&bot, 7, BOB_, "approve R-2").await;
    run(&bot, 8, CAROL_, "approve R-2").await;
    let locked = run(&bot, 9, DAVE_, "deploy R-2").await;
    assert!(locked.contains("locked by incident I-1"), "{locked}");
    let updated = run(&bot, 10, DAVE_, "update R-1 \"error rate falling\"").await;
    assert!(
        updated.contains("Update posted to I-1's stakeholders"),
        "{updated}"
    );
    let resolved = run(&bot, 11, DAVE_, "resolve I-1 a bad cache node, replaced").await;
    assert!(resolved.starts_with("✅ I-1 resolved"), "{resolved}");
    let announcement = bot
        .fake
        .ok_calls(&format!("POST /channels/{RELEASES}/messages/"))
        .iter()
        .find(|c| c.path.ends_with("/threads"))
        .expect("a thread opened")
        .path
        .split('/')
        .nth(4)
        .unwrap()
        .to_string();
    eventually("the summary in the release's thread", || {
        bot.fake.posted_in(&announcement).iter().any(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.contains("### Timeline"))
        })
    })
    .await;
    assert!(bot
        .fake
        .posted_in(&announcement)
        .iter()
        .any(|m| m["content"]
            .as_str()
            .is_some_and(|c| c.contains("I-1 update from"))));
    assert!(run(&bot, 12, ALICE_, "incident")
        .await
        .contains("No open incidents"));
    let stats = run(&bot, 13, ALICE_, "stats").await;
    assert!(stats.contains("rework rate"), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_links_a_release_to_its_discord_thread() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    run(&bot, 1, ALICE_, "request api 2.4.0 to production").await;
    eventually("the announcements", || {
        bot.fake.posted_in(RELEASES).len() == 1 && bot.fake.posted_in(STAKEHOLDERS).len() == 1
    })
    .await;
    let channel =
        releasebot::domain::ids::ChannelRef::parse(&format!("discord:{RELEASES}")).unwrap();
    let store = bot.app.engine.store();
    let posted = || {
        store
            .posted(releasebot::domain::ids::ReleaseId::new(1), &channel)
            .unwrap()
    };
    // The fake has the post a moment before the notifier records it.
    eventually("the announcement recorded", || posted().is_some()).await;
    let message = posted().unwrap();
    let link = run(&bot, 2, ALICE_, "dashboard").await;
    let cookie = crate::dashboard::sign_in_from(&bot.http, &link).await;
    let (status, body) = crate::dashboard::page(&bot.http, "/releases/R-1", &cookie).await;
    assert_eq!(status, 200, "{body}");
    let permalink = format!("https://discord.com/channels/{GUILD}/{RELEASES}/{message}");
    assert!(body.contains(&format!("href=\"{permalink}\"")), "{body}");
    bot.stop().await;
}
