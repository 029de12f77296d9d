//! The lost-post lookup in a busy channel: the platform took the first post
//! of an announcement but its answer was lost, and then hundreds of other
//! messages landed in the channel. The retry pages back through history to
//! when the first try began, finds the post far below the latest page, and
//! edits it: the announcement stands once, on Slack and on Discord.
//!
//! And a late answer: the platform holds the first post past the bot's
//! timeout and carries it out only after the retry found nothing and posted
//! again. The sweep after that re-post finds the late copy and deletes it:
//! one copy stands, the recorded one. `RB_TEST_LATE_SECS` sets the hold
//! (default 8 s; the figure is 40).

use serde_json::Value;

use crate::discord_app::DiscordApp;
use crate::fake_discord::{self, slash};
use std::time::{Duration, Instant};

use crate::fake_slack::{eventually, slash_envelope, Fault as SlackFault};
use crate::slack_app::SlackApp;

/// More than two of the bot's pages on Slack (200) and on Discord (100).
const CHATTER: usize = 450;

fn announcements_of(messages: &[Value], release: &str) -> usize {
    messages
        .iter()
        .filter(|m| m["metadata"]["event_payload"]["release"] == release)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_finds_a_lost_post_under_hundreds_of_newer_messages() {
    let bot = SlackApp::spawn("socket").await;
    eventually("a Socket Mode connection", || bot.fake.live_sockets() >= 1).await;
    // Only #releases gets the announcement: the service has no channel.
    bot.fake
        .fail_next("chat.postMessage", SlackFault::LostInBusyChannel(CHATTER));
    bot.fake.send(&slash_envelope(
        "env-busy",
        "U0ALICE001",
        "C0RELEASES",
        "request web 1.0.0 to production",
        "trigger-busy",
        &bot.fake.base,
    ));
    eventually("the retry adopts the first post", || {
        !bot.fake.ok_calls("chat.update").is_empty()
    })
    .await;
    let stored = bot.fake.stored_in("C0RELEASES");
    assert_eq!(stored.len(), CHATTER + 1);
    assert_eq!(announcements_of(&stored, "R-1"), 1, "posted once");
    let pages = bot.fake.ok_calls("conversations.history");
    assert!(
        pages.len() >= 3,
        "paged back: {} history calls",
        pages.len()
    );
    assert!(
        pages.iter().all(|p| p["oldest"].as_str().is_some()),
        "bounded by when the first try began: {pages:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_finds_a_lost_post_under_hundreds_of_newer_messages() {
    let bot = DiscordApp::spawn().await;
    eventually("the gateway session", || bot.fake.live_gateways() == 1).await;
    let route = format!("POST /channels/{}/messages", fake_discord::RELEASES);
    bot.fake.fail_next(
        &route,
        crate::fake_discord::Fault::LostInBusyChannel(CHATTER),
    );
    bot.fake.dispatch(
        "INTERACTION_CREATE",
        slash(
            "1800000000000000961",
            (fake_discord::ALICE, "alice", &[]),
            "request",
            &[("service", "web"), ("version", "1.0.0")],
        ),
    );
    let edits = format!("PATCH /channels/{}/messages/", fake_discord::RELEASES);
    eventually("the retry adopts the first post", || {
        !bot.fake.ok_calls(&edits).is_empty()
    })
    .await;
    let posts = bot
        .fake
        .calls(&route)
        .into_iter()
        .filter(|c| c.path == format!("/channels/{}/messages", fake_discord::RELEASES))
        .count();
    assert_eq!(posts, 1, "found by the lookup, not created again");
    let ours: Vec<Value> = bot
        .fake
        .stored_in(fake_discord::RELEASES)
        .into_iter()
        .filter(|m| m["author"]["id"] == fake_discord::BOT)
        .collect();
    assert_eq!(ours.len(), 1, "one announcement among the chatter");
    let pages = bot.fake.ok_calls(&format!(
        "GET /channels/{}/messages",
        fake_discord::RELEASES
    ));
    assert!(pages.len() >= 3, "paged back: {} reads", pages.len());
    bot.stop().await;
}

/// How long the platform holds the first post before carrying it out.
fn late_secs() -> u64 {
    std::env::var("RB_TEST_LATE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8)
}

/// Polls `count` until it is `want` after the late copy can have landed;
/// how long after the request that took.
async fn settles(what: &str, want: usize, mut count: impl FnMut() -> usize) -> Duration {
    let started = Instant::now();
    // The late copy lands after the hold; the sweep looks at most 15 s apart.
    let deadline = started + Duration::from_secs(late_secs() + 40);
    let mut landed = false;
    loop {
        let now = count();
        landed |= now > want;
        if landed && now == want {
            return started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {now} copies, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_deletes_a_late_copy_of_a_post_that_went_again() {
    let bot = SlackApp::spawn("socket").await;
    eventually("a Socket Mode connection", || bot.fake.live_sockets() >= 1).await;
    bot.fake
        .fail_next("chat.postMessage", SlackFault::LateEffect(late_secs()));
    bot.fake.send(&slash_envelope(
        "env-late",
        "U0ALICE001",
        "C0RELEASES",
        "request web 1.0.0 to production",
        "trigger-late",
        &bot.fake.base,
    ));
    let took = settles("Slack", 1, || {
        announcements_of(&bot.fake.stored_in("C0RELEASES"), "R-1")
    })
    .await;
    println!(
        "figure: with a post held {} s, one copy remained {} ms after the request",
        late_secs(),
        took.as_millis()
    );
    let kept = bot.fake.ok_calls("chat.postMessage");
    let recorded = kept.last().unwrap()["ts"].clone();
    let deleted = bot.fake.ok_calls("chat.delete");
    assert_eq!(deleted.len(), 1, "the late copy, once");
    assert_ne!(deleted[0]["ts"], recorded, "the recorded copy stays");
    // Later steps edit the copy that stands.
    let standing = bot.fake.stored_in("C0RELEASES");
    assert_eq!(standing.len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_deletes_a_late_copy_of_a_post_that_went_again() {
    // The bot gives up on a call after 2 s, as on Slack.
    let fake = crate::fake_discord::FakeDiscord::start().await;
    let text = format!(
        "[delivery]\ntimeout_secs = 2\n{}",
        crate::discord_app::config(&fake)
    );
    let bot = DiscordApp::start(fake, tempfile::tempdir().unwrap(), &text).await;
    eventually("the gateway session", || bot.fake.live_gateways() == 1).await;
    // Discord drops a repeat of an enforced nonce for a few minutes; a post
    // held longer than that lands as a second message.
    bot.fake.forget_nonces_after(Duration::from_secs(1));
    let route = format!("POST /channels/{}/messages", fake_discord::RELEASES);
    bot.fake
        .fail_next(&route, crate::fake_discord::Fault::LateEffect(late_secs()));
    bot.fake.dispatch(
        "INTERACTION_CREATE",
        slash(
            "1800000000000000962",
            (fake_discord::ALICE, "alice", &[]),
            "request",
            &[("service", "web"), ("version", "1.0.0")],
        ),
    );
    let ours = || {
        bot.fake
            .stored_in(fake_discord::RELEASES)
            .into_iter()
            .filter(|m| m["author"]["id"] == fake_discord::BOT)
            .count()
    };
    let took = settles("Discord", 1, ours).await;
    println!(
        "figure: with a post held {} s, one copy remained {} ms after the request",
        late_secs(),
        took.as_millis()
    );
    let deletes = bot.fake.ok_calls(&format!(
        "DELETE /channels/{}/messages/",
        fake_discord::RELEASES
    ));
    assert_eq!(deletes.len(), 1, "the late copy, once");
    bot.stop().await;
}
