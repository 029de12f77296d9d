//! Failure figures for two instances on one PostgreSQL database, each its
//! own `releasebot run` process, as an operator runs them:
//!
//! ```sh
//! cargo build --release
//! RELEASEBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release --example failover_bench
//! ```
//!
//! Both processes connect to the fake Slack from the tests in Socket Mode
//! (one connection each; envelopes are spread over both, as Slack does) and
//! relay deploys to a webhook receiver on loopback that counts requests per
//! idempotency key. Twenty times, a burst of commands goes out and the
//! process holding the scheduler lease is SIGKILLed 3–25 ms after one of
//! them was acknowledged; a replacement starts, and every envelope still
//! unacknowledged is sent again, as Slack does. At the end it prints the
//! acknowledged commands lost, duplicate announcements, CI requests per key,
//! whether the audit chain verifies, and the takeover time: from the kill
//! until no live claim or lease names the dead process and the scheduler
//! lease is held again (lease 3 s).
//!
//! Then the same on sled, one process taking Slack envelopes and Discord
//! interactions side by side, SIGKILLed twenty times at random 3–25 ms after
//! an ack; Discord sends nothing again, so an interaction answered before
//! the kill must be in the store, and one not answered may or may not be.
//! Last, commands per second on PostgreSQL and on sled, through the engine
//! in this process. Without a test database only the sled part runs.

#[path = "../tests/it/fake_discord.rs"]
#[allow(dead_code)]
mod fake_discord;
#[path = "../tests/it/fake_slack.rs"]
#[allow(dead_code)]
mod fake_slack;
#[path = "../tests/it/running.rs"]
#[allow(dead_code)]
mod running;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use releasebot::clock::{Clock, SystemClock};
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::engine::{Engine, Origin};
use releasebot::store::testkit::{database_url, TestSchema, TestStore};
use releasebot::store::Store;
use serde_json::Value;

use fake_discord::FakeDiscord;
use fake_slack::{slash_envelope, FakeSlack};
use running::{Instance, Running};

const KILLS: usize = 20;
/// Requests sent at once before each kill (with one deploy).
const BURST: usize = 6;
const RELEASES: &str = "C0RELEASES";
const ALICE: &str = "U0ALICE001";
const BOB: &str = "U0BOB00001";
const DAVE: &str = "U0DAVE0001";
/// How long Slack waits for an ack before it sends an envelope again.
const REDELIVERY: Duration = Duration::from_secs(3);

/// A webhook receiver on loopback: answers 200, counts requests per delivery id.
fn serve(listener: TcpListener, seen: Arc<Mutex<HashMap<String, usize>>>) {
    for stream in listener.incoming().flatten() {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let (mut delivery, mut length) = (String::new(), 0usize);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("x-releasebot-delivery:") {
                        delivery = v.trim().to_string();
                    }
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                *seen.lock().unwrap().entry(delivery).or_default() += 1;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
        });
    }
}

/// What the processes run with besides Slack: on PostgreSQL (schema) or
/// sled, with or without Discord.
struct Setup<'a> {
    schema: Option<&'a str>,
    discord: Option<&'a FakeDiscord>,
}

/// Slack (and Discord) ids, services `api` and `svc0`…`svc19` (one deploy
/// each, so no deploy waits on another), production with one approval,
/// deploys to the webhook receiver; on PostgreSQL a digest every minute and
/// leases of 3 s.
fn config_text(slack: &FakeSlack, ci_url: &str, setup: Setup<'_>) -> String {
    let services: String = (0..KILLS).map(|i| format!("[services.svc{i}]\n")).collect();
    let store = setup.schema.map_or(String::new(), |schema| {
        format!(
            "[store]\nbackend = \"postgres\"\nurl_env = \"RELEASEBOT_TEST_DATABASE_URL\"\nschema = \"{schema}\"\nlease_ttl_secs = 3\n\n[[schedules]]\nname = \"every-minute\"\ncron = \"* * * * *\"\ntimezone = \"UTC\"\ndigest = \"pending\"\nchannel = \"slack:{RELEASES}\"\n"
        )
    });
    let (discord, discord_user, discord_channel) = match setup.discord {
        Some(fake) => (
            format!(
                "[discord]\ntoken_env = \"RB_TEST_DISCORD_TOKEN\"\napplication_id = \"{}\"\nguilds = [\"{}\"]\nproxy_url = \"{}\"\n",
                fake_discord::APP,
                fake_discord::GUILD,
                fake.base
            ),
            format!(", \"discord:{}\"", fake_discord::ALICE),
            format!(", \"discord:{}\"", fake_discord::RELEASES),
        ),
        None => Default::default(),
    };
    format!(
        r##"
[http]
listen = "127.0.0.1:0"

[delivery]
timeout_secs = 2

[slack]
mode = "socket"
api_url = "{api}"
bot_token_env = "RB_TEST_SLACK_BOT_TOKEN"
app_token_env = "RB_TEST_SLACK_APP_TOKEN"
connections = 1

{discord}
[roles]
developer = ["slack:{ALICE}"{discord_user}]
release-manager = ["slack:{BOB}"]
deployer = ["slack:{DAVE}"]

[services.api]
{services}
[environments.production]
channels = ["slack:{RELEASES}"{discord_channel}]
request = ["developer"]
approve = ["release-manager"]
deploy = ["deployer"]
rollback = ["deployer"]
approvals = 1

[environments.production.ci]
kind = "webhook"
url = "{ci_url}"
secret_env = "RB_TEST_CI_SECRET"
callback_secret_env = "RB_TEST_CI_SECRET"
request_timeout_secs = 5

{store}"##,
        api = slack.api_url,
    )
}

/// A command sent as a Slack envelope, and what it must have done.
struct Sent {
    envelope: String,
    frame: Value,
    /// The first envelope's id: redeliveries count under it.
    first: String,
    acked: bool,
    what: Effect,
}

enum Effect {
    /// A release of this service and version exists, once.
    Request(String, String),
    /// This release is deploying (or further).
    Deploy(String),
    /// An approval (checked through the deploy that needs it).
    Approve,
}

struct Bench {
    fake: FakeSlack,
    sent: Vec<Sent>,
    next: usize,
}

impl Bench {
    /// Sends `/release <text>` as `user` on a live connection.
    fn send(&mut self, user: &str, text: &str, what: Effect) -> usize {
        self.next += 1;
        let envelope = format!("env-{}", self.next);
        let frame = slash_envelope(
            &envelope,
            user,
            RELEASES,
            text,
            &format!("trigger-{}", self.next),
            &self.fake.base,
        );
        self.fake.send_on(rand::random::<usize>(), &frame);
        self.sent.push(Sent {
            first: envelope.clone(),
            envelope,
            frame,
            acked: false,
            what,
        });
        self.sent.len() - 1
    }

    fn refresh_acks(&mut self) {
        for sent in &mut self.sent {
            sent.acked = sent.acked || self.fake.ack(&sent.envelope).is_some();
        }
    }

    /// Sends every unacknowledged envelope again (a new envelope id, the
    /// same payload), as Slack does after its 3 s, until all are acked.
    async fn redeliver_until_acked(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.refresh_acks();
            if self.sent.iter().all(|s| s.acked) || Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(REDELIVERY).await;
            self.refresh_acks();
            for sent in self.sent.iter_mut().filter(|s| !s.acked) {
                self.next += 1;
                sent.envelope = format!("{}-again-{}", sent.first, self.next);
                sent.frame["envelope_id"] = Value::String(sent.envelope.clone());
                self.fake.send_on(rand::random::<usize>(), &sent.frame);
            }
        }
    }

    /// The release a request's answer names (`R-7 requested: …`).
    async fn answered_id(&self, index: usize) -> Option<String> {
        let trigger = self.sent[index].frame["payload"]["trigger_id"]
            .as_str()?
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let found = self.fake.responses().into_iter().find_map(|r| {
                let text = r["text"].as_str()?;
                let id = text.split_once(" requested")?.0;
                (r["response_url_id"].as_str() == Some(&trigger)).then(|| id.to_string())
            });
            if found.is_some() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

/// The instance name (`host:pid:…`) holding the scheduler lease, if live.
async fn lease_holder(db: &tokio_postgres::Client, schema: &str) -> Option<String> {
    db.query_opt(
        &format!("SELECT holder FROM {schema}.leases WHERE name = 'scheduler' AND until > now()"),
        &[],
    )
    .await
    .ok()
    .flatten()
    .map(|row| row.get(0))
}

/// Whether `dead` still holds a live claim or lease, or nobody holds the
/// scheduler lease yet.
async fn not_yet_taken_over(db: &tokio_postgres::Client, schema: &str, dead: &str) -> bool {
    let sql = format!(
        "SELECT (SELECT count(*) FROM {schema}.outbox_notify WHERE claimed_by = $1)
              + (SELECT count(*) FROM {schema}.outbox_digest WHERE claimed_by = $1)
              + (SELECT count(*) FROM {schema}.outbox_ci WHERE claimed_by = $1)
              + (SELECT count(*) FROM {schema}.leases WHERE holder = $1 AND until > now())"
    );
    let held: i64 = match db.query_one(&sql, &[&dead]).await {
        Ok(row) => row.get(0),
        Err(_) => return true,
    };
    held > 0 || lease_holder(db, schema).await.is_none()
}

fn pid_of(instance: &str) -> Option<u32> {
    instance.split(':').nth(1)?.parse().ok()
}

async fn connected(fake: &FakeSlack, live: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.live_sockets() < live && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Commands per second through one engine: one at a time, and from four
/// threads at once.
fn throughput(label: &str, store: Store, config: &Arc<Config>) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(store, config.clone(), clock);
    let origin = Origin {
        channel: ChannelRef::parse("shell:#releases").unwrap(),
    };
    let alice = UserRef::parse("shell:alice").unwrap();
    let n = 300;
    let started = Instant::now();
    for _ in 0..n {
        engine
            .handle_line(&alice, "request api 2.4.0 to staging", &origin)
            .unwrap();
    }
    let one = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..n / 4 {
                    engine
                        .handle_line(&alice, "request api 2.4.0 to staging", &origin)
                        .unwrap();
                }
            });
        }
    });
    let piped = n as f64 / started.elapsed().as_secs_f64();
    println!("{label:<10} requests: {one:>7.0}/s one at a time, {piped:>7.0}/s from 4 threads");
}

fn percentile(sorted: &[Duration], q: f64) -> u128 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_millis()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ci_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let ci = Arc::new(Mutex::new(HashMap::new()));
    let ci_record = ci.clone();
    std::thread::spawn(move || serve(listener, ci_record));
    match database_url("failover bench") {
        Some(url) => postgres_phase(&url, &ci_url, &ci).await,
        None => println!("failover_bench: no test database; the PostgreSQL part is skipped"),
    }
    sled_phase(&ci_url).await;
    if let Some(url) = database_url("failover bench") {
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/releasebot.toml");
        let config = Arc::new(Config::load(&demo).unwrap());
        let pg = TestSchema::new(&url);
        throughput(
            "postgres",
            Store::connect(&pg.options("throughput")).unwrap(),
            &config,
        );
        let sled = TestStore::sled();
        throughput("sled", sled.store.clone(), &config);
    }
}

/// Two processes on one PostgreSQL schema behind the fake Slack; the lease
/// holder is SIGKILLed after each burst.
async fn postgres_phase(url: &str, ci_url: &str, ci: &Arc<Mutex<HashMap<String, usize>>>) {
    let (url, ci_url) = (url.to_string(), ci_url.to_string());
    let fake = FakeSlack::start().await;
    let schema = TestSchema::new(&url);
    let setup = Setup {
        schema: Some(&schema.name),
        discord: None,
    };
    let instance = Instance::new(&config_text(&fake, &ci_url, setup), None);
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);

    let mut running: Vec<Running> = vec![instance.spawn(None).await];
    connected(&fake, 1).await;
    running.push(instance.spawn(None).await);
    connected(&fake, 2).await;

    let mut bench = Bench {
        fake: fake.clone(),
        sent: Vec::new(),
        next: 0,
    };
    let mut takeovers = Vec::new();
    let mut acked_before_kill = Vec::new();
    for round in 0..KILLS {
        // A release of its own service, approved, so its deploy can go at once.
        let asked = bench.send(
            ALICE,
            &format!("request svc{round} 1.0.{round} to production"),
            Effect::Request(format!("svc{round}"), format!("1.0.{round}")),
        );
        bench.redeliver_until_acked().await;
        let Some(id) = bench.answered_id(asked).await else {
            eprintln!("round {round}: the request's answer never came; skipping its deploy");
            continue;
        };
        bench.send(BOB, &format!("approve {id}"), Effect::Approve);
        bench.redeliver_until_acked().await;

        // The burst: a deploy and requests, spread over both instances.
        let first = bench.sent.len();
        bench.send(DAVE, &format!("deploy {id}"), Effect::Deploy(id.clone()));
        for i in 0..BURST {
            bench.send(
                ALICE,
                &format!("request api 1.{round}.{i} to production"),
                Effect::Request("api".into(), format!("1.{round}.{i}")),
            );
        }
        // Kill the lease holder 3–25 ms after one of the burst was acked.
        let holder = lease_holder(&db, &schema.name).await;
        let pick = first + rand::thread_rng().gen_range(0..=BURST);
        let deadline = Instant::now() + Duration::from_secs(3);
        while fake.ack(&bench.sent[pick].envelope).is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(3..=25))).await;
        let Some((dead, at)) = holder.and_then(|h| {
            let pid = pid_of(&h)?;
            let at = running.iter().position(|r| r.child.id() == pid)?;
            Some((h, at))
        }) else {
            eprintln!("round {round}: no lease holder found; not killing");
            continue;
        };
        let mut victim = running.remove(at);
        victim.child.kill().unwrap();
        let killed = Instant::now();
        let _ = victim.child.wait();
        bench.refresh_acks();
        acked_before_kill.extend(
            bench.sent[first..]
                .iter()
                .filter(|s| s.acked)
                .map(|s| s.first.clone()),
        );
        while not_yet_taken_over(&db, &schema.name, &dead).await
            && killed.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        takeovers.push(killed.elapsed());
        running.push(instance.spawn(None).await);
        connected(&fake, 2).await;
        bench.redeliver_until_acked().await;
    }

    // Let the outboxes drain, then stop both cleanly.
    let deadline = Instant::now() + Duration::from_secs(60);
    let depth = format!(
        "SELECT (SELECT count(*) FROM {s}.outbox_notify) + (SELECT count(*) FROM {s}.outbox_ci)",
        s = schema.name
    );
    while Instant::now() < deadline {
        let left: i64 = db.query_one(&depth, &[]).await.unwrap().get(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for instance in running {
        instance.stop().await;
    }

    let releases = instance.export();
    let count = |service: &str, version: &str| {
        releases
            .iter()
            .filter(|r| r["service"] == service && r["version"] == version)
            .count()
    };
    let status_of = |id: &str| {
        releases
            .iter()
            .find(|r| r["id"] == id)
            .and_then(|r| r["status"].as_str())
            .unwrap_or("missing")
            .to_string()
    };
    let (mut lost, mut doubled, mut acked_total) = (Vec::new(), 0, 0);
    for sent in &bench.sent {
        let kept = match &sent.what {
            Effect::Request(service, version) => {
                let n = count(service, version);
                doubled += n.saturating_sub(1);
                n >= 1
            }
            Effect::Deploy(id) => {
                !matches!(status_of(id).as_str(), "approved" | "requested" | "missing")
            }
            Effect::Approve => true,
        };
        acked_total += usize::from(sent.acked);
        if sent.acked && !kept {
            lost.push(sent.first.clone());
        }
    }
    let mut posts: BTreeMap<String, usize> = BTreeMap::new();
    for message in fake.stored_in(RELEASES) {
        if let Some(release) = message["metadata"]["event_payload"]["release"].as_str() {
            *posts.entry(release.to_string()).or_default() += 1;
        }
    }
    let duplicate_posts: usize = posts.values().map(|n| n - 1).sum();
    let ci = ci.lock().unwrap();
    let resent: usize = ci.values().map(|n| n - 1).sum();
    let verify = instance.command(&["audit", "verify"]).output().unwrap();
    takeovers.sort();

    println!(
        "failover_bench: {} SIGKILLs of the lease holder (separate processes, lease 3 s), {} commands as Slack envelopes",
        takeovers.len(),
        bench.sent.len()
    );
    println!(
        "  acknowledged commands lost:            {} of {acked_total} ({} acked in a burst before its kill)",
        lost.len(),
        acked_before_kill.len()
    );
    println!("  requests that took effect twice:       {doubled}");
    println!(
        "  duplicate announcements (first posts): {duplicate_posts} of {} releases",
        posts.len()
    );
    println!(
        "  CI jobs:                               {} idempotency keys; {resent} re-sent with the same key after a kill",
        ci.len()
    );
    println!(
        "  audit chain:                           {}",
        String::from_utf8_lossy(&verify.stdout).trim()
    );
    if !takeovers.is_empty() {
        println!(
            "  takeover, kill → dead one's claims and lease taken: p50 {} ms, max {} ms",
            percentile(&takeovers, 0.5),
            takeovers.last().unwrap().as_millis()
        );
    }
    if !lost.is_empty() {
        println!("  lost: {lost:?}");
    }
}

/// One sled process taking Slack envelopes and Discord interactions,
/// SIGKILLed 3–25 ms after an ack, twenty times.
async fn sled_phase(ci_url: &str) {
    let slack = FakeSlack::start().await;
    let discord = FakeDiscord::start().await;
    let setup = Setup {
        schema: None,
        discord: Some(&discord),
    };
    let instance = Instance::new(&config_text(&slack, ci_url, setup), None);
    let mut run = instance.spawn(None).await;
    let mut bench = Bench {
        fake: slack.clone(),
        sent: Vec::new(),
        next: 0,
    };
    // Discord interactions: (id, version).
    let mut interactions: Vec<(String, String)> = Vec::new();
    let mut answered_before_kill = 0;
    let alice = (fake_discord::ALICE, "alice", &[] as &[&str]);
    for round in 0..KILLS {
        connected(&slack, 1).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while discord.live_gateways() == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let first = bench.sent.len();
        let first_interaction = interactions.len();
        for i in 0..BURST {
            let version = format!("2.{round}.{i}");
            if i % 2 == 0 {
                bench.send(
                    ALICE,
                    &format!("request api {version} to production"),
                    Effect::Request("api".into(), version),
                );
            } else {
                let id = format!(
                    "{}",
                    1_800_000_000_000_100_000u64 + (round * BURST + i) as u64
                );
                discord.dispatch(
                    "INTERACTION_CREATE",
                    fake_discord::slash(
                        &id,
                        alice,
                        "request",
                        &[
                            ("service", "api"),
                            ("version", &version),
                            ("environment", "production"),
                        ],
                    ),
                );
                interactions.push((id, version));
            }
        }
        let pick = first + rand::thread_rng().gen_range(0..bench.sent.len() - first);
        let deadline = Instant::now() + Duration::from_secs(3);
        while slack.ack(&bench.sent[pick].envelope).is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(3..=25))).await;
        run.child.kill().unwrap();
        let _ = run.child.wait();
        bench.refresh_acks();
        answered_before_kill += interactions[first_interaction..]
            .iter()
            .filter(|(id, _)| !discord.callbacks(id).is_empty())
            .count();
        run = instance.spawn(None).await;
        connected(&slack, 1).await;
        bench.redeliver_until_acked().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    run.stop().await;

    let releases = instance.export();
    let count = |version: &str| {
        releases
            .iter()
            .filter(|r| r["service"] == "api" && r["version"] == version)
            .count()
    };
    let slack_lost = bench
        .sent
        .iter()
        .filter(|s| matches!(&s.what, Effect::Request(_, v) if s.acked && count(v) == 0))
        .count();
    let doubled: usize = bench
        .sent
        .iter()
        .filter_map(|s| match &s.what {
            Effect::Request(_, v) => Some(count(v).saturating_sub(1)),
            _ => None,
        })
        .sum::<usize>()
        + interactions
            .iter()
            .map(|(_, v)| count(v).saturating_sub(1))
            .sum::<usize>();
    let answered: Vec<&(String, String)> = interactions
        .iter()
        .filter(|(id, _)| !discord.callbacks(id).is_empty())
        .collect();
    let discord_lost = answered.iter().filter(|(_, v)| count(v) == 0).count();
    let unanswered_kept = interactions
        .iter()
        .filter(|(id, v)| discord.callbacks(id).is_empty() && count(v) == 1)
        .count();
    let verify = instance.command(&["audit", "verify"]).output().unwrap();
    println!(
        "failover_bench, sled: {KILLS} SIGKILLs of one process at random 3–25 ms after an ack, {} Slack envelopes and {} Discord interactions",
        bench.sent.len(),
        interactions.len()
    );
    println!(
        "  Slack: acknowledged commands lost:     {slack_lost} of {} acked",
        bench.sent.iter().filter(|s| s.acked).count()
    );
    println!(
        "  Discord: answered interactions lost:   {discord_lost} of {} answered ({answered_before_kill} answered before their burst's kill; {unanswered_kept} never answered but kept)",
        answered.len()
    );
    println!("  requests that took effect twice:       {doubled}");
    println!(
        "  audit chain:                           {}",
        String::from_utf8_lossy(&verify.stdout).trim()
    );
}
