//! Failure figures for two instances on one PostgreSQL database:
//!
//! ```sh
//! RELEASEBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release --example failover_bench
//! ```
//!
//! Two instances run on one schema; requests, approvals and deploys stream
//! in through both. Twenty times, the instance holding the scheduler lease
//! is killed mid-stream (its runtime stops dead: no cleanup, its claims left
//! to run out) and a new one starts in its place. A counting chat sink
//! (with the lost-post lookup) and a webhook receiver on loopback count what
//! went out. Then it prints commands per second on PostgreSQL and on sled.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use releasebot::app::App;
use releasebot::clock::{Clock, SystemClock};
use releasebot::config::Config;
use releasebot::domain::ids::ReleaseId;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::domain::message::Message;
use releasebot::domain::release::{JobOutcome, ReleaseStatus};
use releasebot::domain::text::Text;
use releasebot::engine::{Callback, Engine, Origin};
use releasebot::notify::{ChatSink, DeliveryError};
use releasebot::store::testkit::{database_url, TestSchema, TestStore};
use releasebot::store::Store;

const KILLS: usize = 20;
const RELEASES_PER_ROUND: usize = 5;

#[derive(Default)]
struct Seen {
    /// First posts per (channel, release).
    posts: BTreeMap<(String, String), usize>,
    digests: usize,
    /// When the newest delivery of any kind arrived.
    last: Option<Instant>,
}

struct Sink(Arc<Mutex<Seen>>);

impl Sink {
    fn note(&self) {
        self.0.lock().unwrap().last = Some(Instant::now());
    }
}

#[async_trait]
impl ChatSink for Sink {
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        self.note();
        *self
            .0
            .lock()
            .unwrap()
            .posts
            .entry((channel.to_string(), message.release.to_string()))
            .or_default() += 1;
        Ok(format!("{}-{channel}", message.release))
    }
    async fn update(&self, _: &ChannelRef, _: &str, _: &Message) -> Result<(), DeliveryError> {
        self.note();
        Ok(())
    }
    async fn reply_in_thread(
        &self,
        _: &ChannelRef,
        _: &str,
        _: &Text,
    ) -> Result<(), DeliveryError> {
        self.note();
        Ok(())
    }
    fn uncertain_posts(&self) -> bool {
        true
    }
    async fn find_post(
        &self,
        channel: &ChannelRef,
        message: &Message,
    ) -> Result<Option<String>, DeliveryError> {
        let made = self
            .0
            .lock()
            .unwrap()
            .posts
            .contains_key(&(channel.to_string(), message.release.to_string()));
        Ok(made.then(|| format!("{}-{channel}", message.release)))
    }
    async fn post_text(&self, _: &ChannelRef, _: &Text) -> Result<(), DeliveryError> {
        self.note();
        self.0.lock().unwrap().digests += 1;
        Ok(())
    }
}

/// A webhook receiver on loopback: answers 200, counts requests per delivery id.
fn serve(listener: TcpListener, seen: Arc<Mutex<HashMap<String, usize>>>) {
    for stream in listener.incoming().flatten() {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
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
        });
    }
}

fn config(dir: &std::path::Path, ci_url: &str) -> Arc<Config> {
    let demo = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/releasebot.toml"),
    )
    .unwrap();
    let simulated =
        "[environments.staging.ci]\nkind = \"simulate\"\ndelay_secs = 1\noutcome = \"succeed\"";
    let text = demo.replace(
        simulated,
        &format!(
            "[environments.staging.ci]\nkind = \"webhook\"\nurl = \"{ci_url}\"\nsecret_env = \"RB_BENCH_SECRET\"\ncallback_secret_env = \"RB_BENCH_SECRET\"\nrequest_timeout_secs = 300"
        ),
    ) + "\n[[schedules]]\nname = \"every-minute\"\ncron = \"* * * * *\"\ntimezone = \"UTC\"\ndigest = \"pending\"\nchannel = \"shell:#releases\"\n";
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).unwrap();
    std::env::set_var("RB_BENCH_SECRET", "bench-secret");
    Arc::new(Config::load(&path).unwrap())
}

struct Instance {
    runtime: tokio::runtime::Runtime,
    app: App,
    engine: Engine,
}

fn start(store: Store, config: &Arc<Config>, seen: &Arc<Mutex<Seen>>) -> Instance {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(store, config.clone(), clock.clone());
    let sink: Arc<dyn ChatSink> = Arc::new(Sink(seen.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = {
        let _entered = runtime.enter();
        App::start(
            engine.clone(),
            clock,
            HashMap::from([("shell".to_string(), sink)]),
        )
    };
    Instance {
        runtime,
        app,
        engine,
    }
}

/// Once the CI receiver has a release's deploy, the pipeline reports
/// success (through `via`), so the next deploy of api to staging may start.
fn finish(via: &Instance, id: &str, ci: &Arc<Mutex<HashMap<String, usize>>>) {
    let release = ReleaseId::parse(id).unwrap();
    let key = format!("{id}-deploy-1");
    let report = Callback {
        release,
        job: key.clone(),
        outcome: Some(JobOutcome::Succeeded),
        url: None,
        message: None,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        via.app.wake_workers();
        if ci.lock().unwrap().contains_key(&key.to_ascii_lowercase()) {
            let _ = via.engine.callback(&report);
        }
        let done = via
            .engine
            .release(release)
            .unwrap()
            .is_some_and(|r| r.status == ReleaseStatus::Deployed);
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("{id} did not finish within 30 s");
}

fn kill(instance: Instance) {
    let Instance {
        runtime,
        app,
        engine,
    } = instance;
    std::mem::forget(app);
    runtime.shutdown_background();
    drop(engine);
}

fn leads(instance: &Instance) -> bool {
    instance
        .engine
        .health()
        .0
        .leases
        .iter()
        .any(|l| l.starts_with("scheduler"))
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

fn main() {
    let Some(url) = database_url("failover bench") else {
        std::process::exit(2);
    };
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ci_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let ci = Arc::new(Mutex::new(HashMap::new()));
    let ci_record = ci.clone();
    std::thread::spawn(move || serve(listener, ci_record));
    let config = config(dir.path(), &ci_url);
    let schema = TestSchema::new(&url);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let options = |name: &str| releasebot::store::PgOptions {
        lease_ttl: Duration::from_secs(3),
        ..schema.options(name)
    };
    let connect = |name: &str| Store::connect(&options(name)).unwrap();

    let bench_start = chrono::Utc::now();
    let mut a = start(connect("a-0"), &config, &seen);
    while !leads(&a) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut b = start(connect("b-0"), &config, &seen);
    let origin = Origin {
        channel: ChannelRef::parse("shell:#releases").unwrap(),
    };
    let (alice, bob) = (
        UserRef::parse("shell:alice").unwrap(),
        UserRef::parse("shell:bob").unwrap(),
    );
    let mut acknowledged = Vec::new();
    let mut takeovers = Vec::new();
    let mut next_release = 1u64;
    for round in 0..KILLS {
        // Stream work in through both instances; the last release of the
        // round goes through the lease holder, which is killed the moment
        // its deploy is acknowledged, before its workers deliver it.
        for i in 0..RELEASES_PER_ROUND {
            let last = i + 1 == RELEASES_PER_ROUND;
            let leader_first = leads(&a);
            let via = match (last, i % 2 == 0, leader_first) {
                (true, _, true) | (false, true, _) => &a,
                _ => &b,
            };
            let id = format!("R-{next_release}");
            next_release += 1;
            for (user, line) in [
                (&alice, "request api 2.4.0 to staging".to_string()),
                (&bob, format!("approve {id}")),
                (&alice, format!("check {id} 1")),
                (&alice, format!("deploy {id}")),
            ] {
                via.engine.handle_line(user, &line, &origin).unwrap();
                via.app.wake_workers();
            }
            acknowledged.push(id.clone());
            if last {
                break;
            }
            finish(via, &id, &ci);
        }
        let id = acknowledged.last().unwrap().clone();
        let killed = Instant::now();
        let (leader, other) = if leads(&a) { (a, b) } else { (b, a) };
        kill(leader);
        let replacement = start(connect(&format!("r-{round}")), &config, &seen);
        // The survivor takes the dead one's lanes once their claims run out.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && seen.lock().unwrap().last.is_none_or(|t| t <= killed) {
            std::thread::sleep(Duration::from_millis(5));
        }
        takeovers.push(
            seen.lock()
                .unwrap()
                .last
                .map(|t| t - killed)
                .unwrap_or_default(),
        );
        finish(&other, &id, &ci);
        a = other;
        b = replacement;
    }
    // Let everything drain.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (notify, _) = a.engine.outbox_depths().unwrap();
        if notify == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let store = connect("reader");
    let lost = acknowledged
        .iter()
        .filter(|id| {
            let id = ReleaseId::parse(id).unwrap();
            store.release(id).unwrap().is_none()
        })
        .count();
    let seen = seen.lock().unwrap();
    let duplicate_posts: usize = seen.posts.values().map(|n| n - 1).sum();
    let ci = ci.lock().unwrap();
    let resent: usize = ci.values().map(|n| n - 1).sum();
    let bench_end = chrono::Utc::now();
    // Slots of the every-minute digest between the first start and now.
    let due = (bench_end.timestamp() / 60 - bench_start.timestamp() / 60) as usize;
    takeovers.sort();
    println!("failover_bench: {KILLS} kills of the lease holder, {} releases streamed through two instances (lease 3 s)", acknowledged.len());
    println!("  acknowledged commands lost:            {lost}");
    println!(
        "  duplicate announcements (first posts): {duplicate_posts} of {} channels×releases",
        seen.posts.len()
    );
    println!("  CI jobs sent:                          {} idempotency keys; {resent} re-sent with the same key after a kill (the receiver dedupes)", ci.len());
    println!(
        "  digests due / posted:                  {due} / {}",
        seen.digests
    );
    println!(
        "  takeover, kill → survivor's next delivery: median {} ms, max {} ms",
        takeovers[takeovers.len() / 2].as_millis(),
        takeovers.last().unwrap().as_millis()
    );
    drop(seen);
    kill(a);
    kill(b);

    let pg = TestSchema::new(&url);
    throughput(
        "postgres",
        Store::connect(&pg.options("throughput")).unwrap(),
        &config,
    );
    let sled = TestStore::sled();
    throughput("sled", sled.store.clone(), &config);
}
