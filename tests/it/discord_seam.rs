//! What Discord users see of the chat seam, against the fake Discord:
//! people and roles as mentions with only the needed ones pingable,
//! buttons that follow the release's status, notes on the announcement,
//! and bad buttons and modals answered without changing anything.

use serde_json::{json, Value};

use crate::discord_app::DiscordApp;
use crate::fake_discord::{click, modal_submit, slash, ALICE, BOB, CAROL, LEADS_ROLE, RELEASES};
use crate::fake_slack::eventually;

const ALICE_: (&str, &str, &[&str]) = (ALICE, "alice", &[]);
const BOB_: (&str, &str, &[&str]) = (BOB, "bob", &[]);
const CAROL_: (&str, &str, &[&str]) = (CAROL, "carol", &[LEADS_ROLE]);

async fn ready(bot: &DiscordApp) {
    eventually("the gateway session", || bot.fake.live_gateways() == 1).await;
}

/// Dispatches an interaction; returns its answer (the first response's data).
async fn answer(bot: &DiscordApp, data: Value) -> Value {
    let mut callback = callback(bot, data).await;
    assert_eq!(callback["type"], 4, "the answer itself: {callback}");
    callback["data"].take()
}

/// Dispatches an interaction; returns its first callback (no deferral).
async fn callback(bot: &DiscordApp, data: Value) -> Value {
    let id = data["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", data);
    eventually("the callback", || !bot.fake.callbacks(&id).is_empty()).await;
    bot.fake.callbacks(&id).remove(0)
}

fn nobody_pinged(body: &Value) {
    let allowed = &body["allowed_mentions"];
    assert_eq!(allowed["parse"], json!([]), "{body}");
    assert_eq!(allowed["users"], json!([]), "{body}");
    assert_eq!(allowed["roles"], json!([]), "{body}");
}

/// Requests R-1 as alice with notes; returns the announcement in #releases.
async fn request(bot: &DiscordApp, notes: &str) -> Value {
    answer(
        bot,
        slash(
            "1800000000000000101",
            ALICE_,
            "request",
            &[
                ("service", "api"),
                ("version", "2.4.0"),
                ("environment", "production"),
                ("notes", notes),
            ],
        ),
    )
    .await;
    eventually("the announcement", || {
        bot.fake.stored_in(RELEASES).len() == 1
    })
    .await;
    bot.fake.stored_in(RELEASES).remove(0)
}

fn buttons(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .map(|b| b["custom_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_show_people_and_guild_roles_as_mentions_and_ping_nobody() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let roles = answer(&bot, slash("1800000000000000201", BOB_, "roles", &[])).await;
    let content = roles["content"].as_str().unwrap();
    assert!(
        content.contains(&format!("<@{BOB}>: release-manager")),
        "{content}"
    );
    assert!(
        content.contains(&format!("<@&{LEADS_ROLE}>: release-manager")),
        "{content}"
    );
    assert!(
        !content.contains("discord:"),
        "no half-rendered ids: {content}"
    );
    nobody_pinged(&roles);
    let help = answer(&bot, slash("1800000000000000202", BOB_, "help", &[])).await;
    let content = help["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("You are <@{BOB}> (")),
        "{content}"
    );
    nobody_pinged(&help);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_follow_the_status_and_only_a_rejection_pings_the_requester() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let first = request(&bot, "Fixes the \"login\" bug").await;
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(
        buttons(&first),
        ["release:approve:R-1", "release:reject:R-1"]
    );
    assert_eq!(first["embeds"][0]["description"], "Fixes the \"login\" bug");

    // Two approvals meet the quorum: Approve / Reject give way to Deploy.
    answer(
        &bot,
        click(
            "1800000000000000102",
            BOB_,
            "release:approve:R-1",
            first.clone(),
        ),
    )
    .await;
    answer(
        &bot,
        click(
            "1800000000000000103",
            CAROL_,
            "release:approve:R-1",
            first.clone(),
        ),
    )
    .await;
    eventually("the approved announcement", || {
        bot.fake
            .message(&id)
            .is_some_and(|m| buttons(&m) == ["release:deploy:R-1"])
    })
    .await;
    // The thread lines so far name people and ping nobody.
    eventually("two thread lines", || bot.fake.posted_in(&id).len() >= 2).await;
    for line in bot.fake.posted_in(&id) {
        assert!(
            line["content"]
                .as_str()
                .unwrap()
                .contains(&format!("<@{BOB}>"))
                || line["content"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("<@{CAROL}>"))
        );
        nobody_pinged(&line);
    }

    // A rejection through the modal keeps every character of the reason,
    // pings the requester and nobody the reason names.
    let reason = "say \"no\" to <@&1500000000000000001> @everyone";
    answer(
        &bot,
        modal_submit("1800000000000000104", CAROL_, "release:reason:R-1", reason),
    )
    .await;
    eventually("the rejection's thread line", || {
        bot.fake.posted_in(&id).iter().any(|l| {
            l["content"]
                .as_str()
                .unwrap_or_default()
                .contains("rejected")
        })
    })
    .await;
    let line = bot
        .fake
        .posted_in(&id)
        .into_iter()
        .find(|l| {
            l["content"]
                .as_str()
                .unwrap_or_default()
                .contains("rejected")
        })
        .unwrap();
    assert_eq!(
        line["content"],
        format!("<@{CAROL}> rejected it: {reason} — <@{ALICE}>")
    );
    assert_eq!(line["allowed_mentions"]["users"], json!([ALICE]));
    assert_eq!(line["allowed_mentions"]["roles"], json!([]));
    assert_eq!(line["allowed_mentions"]["parse"], json!([]));
    eventually("the ended announcement", || {
        bot.fake
            .message(&id)
            .is_some_and(|m| buttons(&m).is_empty())
    })
    .await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_buttons_and_modals_for_missing_releases_change_nothing() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let first = request(&bot, "notes").await;
    let before = bot.release(1).unwrap();

    let unknown = callback(
        &bot,
        click(
            "1800000000000000301",
            BOB_,
            "release:launch:R-1",
            first.clone(),
        ),
    )
    .await;
    assert_eq!(unknown["type"], 4, "answered at once: {unknown}");
    assert_eq!(unknown["data"]["flags"], 64 | 4, "privately: {unknown}");
    assert!(unknown["data"]["content"]
        .as_str()
        .unwrap()
        .contains("not one of mine"));

    let bad_id = callback(
        &bot,
        click(
            "1800000000000000302",
            BOB_,
            "release:approve:R-x",
            first.clone(),
        ),
    )
    .await;
    assert!(bad_id["data"]["content"]
        .as_str()
        .unwrap()
        .contains("names no release"));

    let gone = answer(
        &bot,
        modal_submit(
            "1800000000000000303",
            CAROL_,
            "release:reason:R-99",
            "too risky",
        ),
    )
    .await;
    assert!(gone["content"]
        .as_str()
        .unwrap()
        .contains("There is no release R-99"));

    let empty = answer(
        &bot,
        modal_submit("1800000000000000304", CAROL_, "release:reason:R-1", "   "),
    )
    .await;
    assert!(empty["content"]
        .as_str()
        .unwrap()
        .contains("needs a reason"));

    assert_eq!(bot.release(1).unwrap(), before, "R-1 unchanged");
    assert!(bot.release(99).is_none());
    bot.stop().await;
}

/// Typed options become the command without going through text: notes keep
/// every quote, backslash and keyword; an option out of range (a priority
/// Discord's choices would not offer, a date past 9999, an id that is not
/// one) is answered privately, naming the option, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_options_keep_their_words_and_bad_ones_change_nothing() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let notes = r#"fixes "login" \ and to staging at 10:00 priority low"#;
    request(&bot, notes).await;
    let stored = bot.release(1).unwrap();
    assert_eq!(stored.notes.as_deref(), Some(notes));
    assert_eq!(stored.environment.as_str(), "production");
    assert_eq!(stored.priority.as_str(), "normal");

    // (Each interaction's delivery id is recorded, so the store's
    // fingerprint moves; the releases and the channel do not.)
    let posts = bot.fake.stored_in(RELEASES).len();
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "request",
            &[
                ("service", "api"),
                ("version", "2.5.0"),
                ("priority", "urgent"),
            ],
            "`priority`: `urgent` is not a priority",
        ),
        (
            "request",
            &[
                ("service", "api"),
                ("version", "2.5.0"),
                ("at", "+262142-12-30 10:00"),
            ],
            "`at`: ",
        ),
        (
            "status",
            &[("id", "R-0")],
            "`id`: `R-0` is not a release id",
        ),
        ("deploy", &[("id", "R-1 now")], "`id`: Unexpected `now`"),
        (
            "reject",
            &[("id", "R-1"), ("reason", "   ")],
            "Missing `reason`",
        ),
        ("launch", &[], "is not a command this bot knows"),
    ];
    for (n, (sub, options, expected)) in cases.iter().enumerate() {
        let reply = answer(
            &bot,
            slash(&format!("18000000000000009{n:02}"), BOB_, sub, options),
        )
        .await;
        let content = reply["content"].as_str().unwrap_or_default();
        assert!(content.contains(expected), "`/release {sub}`: {content}");
        nobody_pinged(&reply);
    }
    assert_eq!(bot.release(1).unwrap(), stored);
    assert_eq!(bot.release_count(), 1);
    assert_eq!(bot.fake.stored_in(RELEASES).len(), posts);
    bot.stop().await;
}

/// An event for a platform this bot does not take over HTTP (Slack is not
/// configured here; Mattermost is not a platform at all) gets a 404 that
/// says what is served, and runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_for_platforms_not_served_here_are_answered_and_change_nothing() {
    let bot = DiscordApp::spawn().await;
    ready(&bot).await;
    let client = reqwest::Client::new();
    for path in ["/slack/events", "/slack/commands", "/mattermost/events"] {
        let response = client
            .post(format!("{}{path}", bot.http))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("command=%2Frelease&text=request+api+2.4.0+to+production&user_id=U0ALICE001")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body = response.text().await.unwrap();
        assert!(
            body.starts_with(&format!("nothing is served at {path}:"))
                && body.contains("chat events go to /discord/interactions"),
            "{path}: {body}"
        );
    }
    assert_eq!(bot.release_count(), 0);
    assert!(bot.fake.stored_in(RELEASES).is_empty());
    bot.stop().await;
}
