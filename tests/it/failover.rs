//! Two instances on one PostgreSQL schema. The one holding the leases dies
//! (its runtime stops dead: no cleanup, claims left to run out) with an
//! announcement half posted, a CI request unanswered and a digest due; the
//! survivor delivers each exactly once, editing the half-made post rather
//! than posting again. Skipped, with one line, without a test database.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use releasebot::app::App;
use releasebot::clock::{Clock, OffsetClock};
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::domain::message::Message;
use releasebot::domain::text::Text;
use releasebot::engine::{Engine, Origin};
use releasebot::notify::{ChatSink, DeliveryError};
use releasebot::store::testkit::{database_url, TestSchema};

use crate::helpers::demo_config;

/// What the "platform" saw, from either instance.
#[derive(Default)]
struct Board {
    /// (instance, channel, release) for each first post.
    posts: Vec<(&'static str, String, String)>,
    edits: usize,
    /// (instance, channel, line) for each thread line.
    lines: Vec<(&'static str, String, String)>,
    digests: Vec<(&'static str, String)>,
    /// When the survivor first delivered anything.
    survivor_first: Option<Instant>,
}

/// One instance's sink; a dying one takes a post in and never answers.
struct Sink {
    name: &'static str,
    board: Arc<Mutex<Board>>,
    stall: Arc<AtomicBool>,
}

impl Sink {
    fn note(&self) {
        let mut board = self.board.lock().unwrap();
        if self.name == "b" && board.survivor_first.is_none() {
            board.survivor_first = Some(Instant::now());
        }
    }

    async fn stall_if_dying(&self) {
        if self.stall.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl ChatSink for Sink {
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        self.note();
        self.board.lock().unwrap().posts.push((
            self.name,
            channel.to_string(),
            message.release.to_string(),
        ));
        // The platform has it; the answer never comes back.
        self.stall_if_dying().await;
        Ok(format!("{}-{channel}", message.release))
    }

    async fn update(&self, _: &ChannelRef, _: &str, _: &Message) -> Result<(), DeliveryError> {
        self.stall_if_dying().await;
        self.note();
        self.board.lock().unwrap().edits += 1;
        Ok(())
    }

    async fn reply_in_thread(
        &self,
        channel: &ChannelRef,
        _: &str,
        line: &Text,
    ) -> Result<(), DeliveryError> {
        self.stall_if_dying().await;
        self.note();
        self.board
            .lock()
            .unwrap()
            .lines
            .push((self.name, channel.to_string(), line.to_string()));
        Ok(())
    }

    fn uncertain_posts(&self) -> bool {
        true
    }

    /// The lost-post lookup: the message an earlier try made, by release.
    async fn find_posts(
        &self,
        channel: &ChannelRef,
        message: &Message,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, DeliveryError> {
        let board = self.board.lock().unwrap();
        let made = board
            .posts
            .iter()
            .any(|(_, c, r)| *c == channel.to_string() && *r == message.release.to_string());
        Ok(made
            .then(|| format!("{}-{channel}", message.release))
            .into_iter()
            .collect())
    }

    async fn post_text(&self, _: &ChannelRef, text: &Text) -> Result<(), DeliveryError> {
        // A dying instance never gets the digest out.
        self.stall_if_dying().await;
        self.note();
        self.board
            .lock()
            .unwrap()
            .digests
            .push((self.name, text.to_string()));
        Ok(())
    }
}

/// A webhook receiver: the first request is taken and never answered
/// (the instance sending it dies), the rest get 200. Records delivery ids.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut delivery, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
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
            let first = {
                let mut seen = record.lock().unwrap();
                seen.push(delivery);
                seen.len() == 1
            };
            if first {
                held.push(stream);
            } else {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
        }
    });
    (url, seen)
}

fn config(dir: &std::path::Path, ci_url: &str) -> Arc<Config> {
    let demo = std::fs::read_to_string(demo_config()).unwrap();
    let simulated =
        "[environments.staging.ci]\nkind = \"simulate\"\ndelay_secs = 1\noutcome = \"succeed\"";
    assert!(demo.contains(simulated), "the demo config changed shape");
    let text = demo.replace(
        simulated,
        &format!(
            "[environments.staging.ci]\nkind = \"webhook\"\nurl = \"{ci_url}\"\nsecret_env = \"RB_FAILOVER_SECRET\"\ncallback_secret_env = \"RB_FAILOVER_SECRET\"\nrequest_timeout_secs = 300"
        ),
    ) + "\n[[schedules]]\nname = \"failover-digest\"\ncron = \"0 10 * * *\"\ntimezone = \"UTC\"\ndigest = \"pending\"\nchannel = \"shell:#releases\"\n";
    let path = dir.join("failover.toml");
    std::fs::write(&path, text).unwrap();
    std::env::set_var("RB_FAILOVER_SECRET", "failover-test-secret");
    Arc::new(Config::load(&path).unwrap())
}

/// One instance on its own runtime, as a process would have it.
struct Instance {
    runtime: tokio::runtime::Runtime,
    app: Option<App>,
    engine: Engine,
}

fn start(
    name: &'static str,
    schema: &TestSchema,
    config: &Arc<Config>,
    board: &Arc<Mutex<Board>>,
    stall: bool,
) -> Instance {
    let store = schema.connect(name).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(OffsetClock::starting_at(
        "2026-11-26T09:59:58Z".parse().unwrap(),
    ));
    let engine = Engine::new(store, config.clone(), clock.clone());
    let sink: Arc<dyn ChatSink> = Arc::new(Sink {
        name,
        board: board.clone(),
        stall: Arc::new(AtomicBool::new(stall)),
    });
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
        app: Some(app),
        engine,
    }
}

fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_survivor_delivers_a_dead_instances_post_job_and_digest_exactly_once() {
    let Some(url) = database_url("failover tests") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = TestSchema::new(&url);
    let (ci_url, ci_seen) = receiver();
    let config = config(dir.path(), &ci_url);
    let board = Arc::new(Mutex::new(Board::default()));

    // a starts first and takes the scheduler lease; b is the standby.
    let a = start("a", &schema, &config, &board, true);
    wait_for("a to lead", Duration::from_secs(10), || {
        a.engine
            .health()
            .0
            .leases
            .iter()
            .any(|l| l.starts_with("scheduler"))
    });
    // Commands through a: its workers claim what they cause (b starts only
    // once a holds them, so b cannot claim a lane first).
    let alice = UserRef::parse("shell:alice").unwrap();
    let bob = UserRef::parse("shell:bob").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#releases").unwrap(),
    };
    let run = |user: &UserRef, line: &str| {
        a.engine
            .handle_line(user, line, &origin)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    };
    run(&alice, "request api 2.4.0 to staging");
    run(&bob, "approve R-1");
    run(&alice, "check R-1 1");
    run(&alice, "deploy R-1");

    // a has posted (unanswered), sent the CI request (unanswered) and fired
    // the 10:00 digest (not yet out) when it dies.
    wait_for("a's half-made post", Duration::from_secs(10), || {
        board.lock().unwrap().posts.len() == 2
    });
    wait_for("a's CI request", Duration::from_secs(10), || {
        ci_seen.lock().unwrap().len() == 1
    });
    wait_for("the digest to be due", Duration::from_secs(10), || {
        a.engine.outbox_depths().unwrap().0 > 0
            && a.engine
                .health()
                .0
                .leases
                .iter()
                .any(|l| l.contains("digests"))
    });
    // b, the standby, is up and polling before a dies.
    let mut b = start("b", &schema, &config, &board, false);
    std::thread::sleep(Duration::from_millis(300));
    let killed = Instant::now();
    let Instance {
        runtime,
        app,
        engine,
    } = a;
    std::mem::forget(app); // no stop(): nothing is handed back
    runtime.shutdown_background();
    drop(engine);

    wait_for("the survivor to finish", Duration::from_secs(30), || {
        let board = board.lock().unwrap();
        board.digests.len() == 1 && board.edits >= 2 && ci_seen.lock().unwrap().len() >= 2
    });
    // Let anything that would go twice go twice.
    std::thread::sleep(Duration::from_secs(3));

    let board = board.lock().unwrap();
    let takeover = board.survivor_first.unwrap() - killed;
    println!(
        "failover: the survivor's first delivery came {} ms after the kill (lease 2 s)",
        takeover.as_millis()
    );
    let mut channels: Vec<&str> = board.posts.iter().map(|(_, c, _)| c.as_str()).collect();
    channels.sort();
    assert_eq!(
        channels,
        ["shell:#api-stakeholders", "shell:#releases-staging"],
        "one post per channel, none again: {:?}",
        board.posts
    );
    assert!(board.posts.iter().all(|(by, _, _)| *by == "a"));
    assert_eq!(board.digests.len(), 1, "{:?}", board.digests);
    assert_eq!(board.digests[0].0, "b");
    let mut lines: Vec<(&str, &str)> = board
        .lines
        .iter()
        .map(|(_, c, l)| (c.as_str(), l.as_str()))
        .collect();
    let before = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(
        lines.len(),
        before,
        "no thread line twice: {:?}",
        board.lines
    );
    assert_eq!(before, 8, "four steps in two channels: {:?}", board.lines);
    let ci = ci_seen.lock().unwrap().clone();
    assert!(
        ci.len() == 2 && ci.iter().all(|d| d.eq_ignore_ascii_case("R-1-deploy-1")),
        "a's unanswered request, then b's with the same idempotency key for the receiver to dedupe: {ci:?}"
    );
    drop(board);

    let app = b.app.take().unwrap();
    b.runtime.block_on(app.stop());
}
