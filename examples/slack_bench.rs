//! Figures for Slack, printed, not asserted.
//!
//! ```text
//! cargo run --release --example slack_bench
//! ```
//!
//! The bot runs against the fake Slack from the tests (loopback), with the
//! real slack-morphism client, a temporary sled store and simulated CI.
//!
//! 1. HTTP mode: signed `/release` slash commands at 500 requests/s, from
//!    sending the request to its HTTP 200 ack.
//! 2. Socket Mode: `slash_commands` envelopes at 500/s, from the fake
//!    sending the envelope to the bot's ack arriving back.
//!
//! Each command is really run (one `request` in five, the rest `status`),
//! and its ack waits until the command is durable (a `request` is fsynced
//! first), so the acks measure that work too.

#[path = "../tests/it/fake_slack.rs"]
#[allow(dead_code)]
mod fake_slack;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use releasebot::app::App;
use releasebot::chat::adapters::Adapters;
use releasebot::chat::slack::signing;
use releasebot::clock::{Clock, SystemClock};
use releasebot::config::Config;
use releasebot::engine::Engine;
use releasebot::store::Store;

use fake_slack::{slash_envelope, slash_payload, FakeSlack};

const RATE: u64 = 500;
const COMMANDS: usize = 5_000;
const SECRET: &str = "bench-signing-secret";

fn config(fake: &FakeSlack, mode: &str) -> String {
    format!(
        r#"
[slack]
mode = "{mode}"
api_url = "{api}"
bot_token_env = "BENCH_SLACK_BOT_TOKEN"
app_token_env = "BENCH_SLACK_APP_TOKEN"
signing_secret_env = "BENCH_SLACK_SIGNING_SECRET"
connections = 1

[http]
listen = "127.0.0.1:0"

[roles]
developer = ["slack:U0ALICE001"]
release-manager = ["slack:U0BOB00001"]

[services.api]

[environments.production]
channels = ["slack:C0RELEASES"]
request = ["developer"]
approve = ["developer"]
approvals = 1
max_per_day = 1000
"#,
        api = fake.api_url
    )
}

struct Bot {
    app: App,
    slack: Adapters,
    http: String,
    _dir: tempfile::TempDir,
}

async fn start(fake: &FakeSlack, mode: &str) -> Bot {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = Arc::new(Config::parse(&config(fake, mode), "bench.toml").expect("bench config"));
    let engine = Engine::new(
        Store::open(&dir.path().join("data")).unwrap(),
        config.clone(),
        clock.clone(),
    );
    let (mut app, slack) = Adapters::start(engine, clock, HashMap::new())
        .await
        .unwrap();
    let bound = app
        .serve_http("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Bot {
        app,
        slack,
        http: format!("http://{bound}"),
        _dir: dir,
    }
}

fn text(i: usize) -> String {
    if i % 5 == 0 {
        format!("request api 1.{}.{} to production", i / 1000, i % 1000)
    } else {
        "status R-1".to_string()
    }
}

fn report(what: &str, mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: {} in {:.1} s ({:.0}/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*latencies.last().unwrap()),
    );
}

async fn http_mode() {
    let fake = FakeSlack::start().await;
    let bot = start(&fake, "http").await;
    let client = reqwest::Client::new();
    let interval = Duration::from_micros(1_000_000 / RATE);
    let began = Instant::now();
    let mut tasks = Vec::with_capacity(COMMANDS);
    for i in 0..COMMANDS {
        // Open loop: requests leave on schedule whether or not earlier ones finished.
        tokio::time::sleep_until((began + interval * i as u32).into()).await;
        let payload = slash_payload(
            "U0ALICE001",
            "C0RELEASES",
            &text(i),
            &format!("http-{i}"),
            &fake.base,
        );
        let fields: Vec<(String, String)> = payload
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let body = serde_urlencoded::to_string(fields).unwrap();
        let client = client.clone();
        let url = format!("{}/slack/commands", bot.http);
        tasks.push(tokio::spawn(async move {
            let ts = SystemClock.now().timestamp().to_string();
            let signature = signing::sign(SECRET, &ts, body.as_bytes());
            let sent = Instant::now();
            let response = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-slack-request-timestamp", ts)
                .header("x-slack-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            sent.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(COMMANDS);
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    report(
        "HTTP mode, signed slash command → 200",
        latencies,
        began.elapsed(),
    );
    wait_for_answers(&fake, COMMANDS).await;
    bot.slack.stop().await;
    bot.app.stop().await;
}

async fn socket_mode() {
    let fake = FakeSlack::start().await;
    let bot = start(&fake, "socket").await;
    while fake.live_sockets() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let interval = Duration::from_micros(1_000_000 / RATE);
    let began = Instant::now();
    for i in 0..COMMANDS {
        tokio::time::sleep_until((began + interval * i as u32).into()).await;
        let envelope = format!("env-{i}");
        fake.send(&slash_envelope(
            &envelope,
            "U0ALICE001",
            "C0RELEASES",
            &text(i),
            &format!("socket-{i}"),
            &fake.base,
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.ack_latencies().len() < COMMANDS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report(
        "Socket Mode, envelope → ack",
        fake.ack_latencies(),
        began.elapsed(),
    );
    wait_for_answers(&fake, COMMANDS).await;
    bot.slack.stop().await;
    bot.app.stop().await;
}

/// The work behind the acks: every command answered on its response_url.
async fn wait_for_answers(fake: &FakeSlack, count: usize) {
    let began = Instant::now();
    while fake.responses().len() < count && began.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "  answered on response_url: {} of {count} ({:.1} s after the last ack)",
        fake.responses().len(),
        began.elapsed().as_secs_f64()
    );
}

fn main() {
    std::env::set_var("BENCH_SLACK_BOT_TOKEN", fake_slack::BOT_TOKEN);
    std::env::set_var("BENCH_SLACK_APP_TOKEN", fake_slack::APP_TOKEN);
    std::env::set_var("BENCH_SLACK_SIGNING_SECRET", SECRET);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        http_mode().await;
        socket_mode().await;
    });
}
