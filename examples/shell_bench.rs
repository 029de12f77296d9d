//! Figures for the shell and the store, printed, not asserted.
//!
//! ```text
//! cargo build --release && cargo run --release --example shell_bench
//! ```
//!
//! 1. Throughput: 1,000 `request` + 1,000 `approve` lines piped into
//!    `releasebot shell`, each durable before its reply.
//! 2. Idle RSS of the shell on an empty store and on one with 100,000 releases.
//! 3. Start to first answer with 100,000 releases.
//! 4. `list pending` / `list scheduled` latency with 1,000,000 releases
//!    (set `BENCH_MILLION=0` to skip the slow fill).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::domain::message::Message;
use releasebot::domain::text::Text;
use releasebot::engine::{Engine, Origin};
use releasebot::notify::{ChatSink, DeliveryError, Notifier};
use releasebot::store::Store;

/// A chat that reads nothing: the fill's announcements go nowhere.
struct Discard;

#[async_trait::async_trait]
impl ChatSink for Discard {
    async fn post(&self, _: &ChannelRef, m: &Message) -> Result<String, DeliveryError> {
        Ok(m.release.to_string())
    }
    async fn update(&self, _: &ChannelRef, _: &str, _: &Message) -> Result<(), DeliveryError> {
        Ok(())
    }
    async fn reply_in_thread(
        &self,
        _: &ChannelRef,
        _: &str,
        _: &Text,
    ) -> Result<(), DeliveryError> {
        Ok(())
    }
    async fn post_text(&self, _: &ChannelRef, _: &Text) -> Result<(), DeliveryError> {
        Ok(())
    }
}

fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    dir.join("releasebot")
}

fn shell(data: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .args(["--config", "config/releasebot.toml", "--data-dir"])
        .arg(data)
        .args(["--clock", "2026-11-26T10:00:00Z", "shell"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

fn throughput(dir: &Path) -> f64 {
    let data = dir.join("throughput");
    let mut script = String::new();
    for i in 0..1000 {
        script.push_str(&format!("request api 1.0.{i} to staging\n"));
    }
    script.push_str("/as bob\n");
    for i in 1..=1000 {
        script.push_str(&format!("approve R-{i}\n"));
    }
    let started = Instant::now();
    let mut child = shell(&data).spawn().expect("spawn releasebot");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&output.stdout);
    let requested = text.lines().filter(|l| l.contains(" requested: ")).count();
    let approved = text
        .lines()
        .filter(|l| l.starts_with("You approved"))
        .count();
    println!(
        "throughput: {requested} requests + {approved} approvals in {:.3} s = {:.0} commands/s (process start to exit, each fsynced before its reply)",
        elapsed.as_secs_f64(),
        2000.0 / elapsed.as_secs_f64()
    );
    2000.0 / elapsed.as_secs_f64()
}

/// Hubot's in-memory rates beside ours: `HUBOT_PIPED` and `HUBOT_ONE`
/// (commands/s, measured on this machine, e.g. with hubot 14's shell
/// adapter), when given.
fn hubot(piped: f64, one: f64) {
    let rate = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
    match (rate("HUBOT_PIPED"), rate("HUBOT_ONE")) {
        (Some(h_piped), Some(h_one)) => println!(
            "hubot (in memory): piped {h_piped:.0}/s, one at a time {h_one:.0}/s; releasebot piped is {:.2}x, one at a time {:.2}x",
            piped / h_piped,
            one / h_one
        ),
        _ => println!(
            "hubot: not measured here (set HUBOT_PIPED and HUBOT_ONE to its commands/s on this machine)"
        ),
    }
}

/// The same 2,000 lines one at a time: each written only after the
/// previous reply arrived. Returns commands per second.
fn one_at_a_time(dir: &Path) -> f64 {
    let data = dir.join("one-at-a-time");
    let mut child = shell(&data).spawn().expect("spawn releasebot");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines: Vec<(String, &str)> = (0..1000)
        .map(|i| (format!("request api 1.0.{i} to staging\n"), " requested: "))
        .collect();
    lines.push(("/as bob\n".to_string(), "bob"));
    lines.extend((1..=1000).map(|i| (format!("approve R-{i}\n"), "You approved")));
    let mut latencies = Vec::new();
    let started = Instant::now();
    for (line, reply) in &lines {
        let sent = Instant::now();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut got = String::new();
        loop {
            got.clear();
            assert!(
                stdout.read_line(&mut got).unwrap() > 0,
                "the shell ended early"
            );
            if got.contains(reply) {
                break;
            }
        }
        if !line.starts_with('/') {
            latencies.push(sent.elapsed());
        }
    }
    let elapsed = started.elapsed();
    drop(stdin);
    let _ = child.wait();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "one at a time: {} commands in {:.3} s = {rate:.0} commands/s; reply latency median {:.2} ms, p99 {:.2} ms (each fsynced before its reply)",
        latencies.len(),
        elapsed.as_secs_f64(),
        at(0.5),
        at(0.99)
    );
    rate
}

/// This disk's fsync latency: median of 500 small appends each followed by
/// `fdatasync`, in the bench's directory.
fn fsync_latency(dir: &Path) -> Duration {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("fsync-probe");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let mut times: Vec<Duration> = (0..500)
        .map(|_| {
            let started = Instant::now();
            file.write_all(&[7u8; 512]).unwrap();
            file.sync_data().unwrap();
            started.elapsed()
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    times.sort();
    times[250]
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Starts the shell five times, timing the first answer; reads the idle RSS
/// of the last start.
fn start_and_idle(data: &Path, label: &str) {
    let mut starts = Vec::new();
    let mut rss = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let mut child = shell(data).spawn().expect("spawn releasebot");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"status R-1\n").unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        starts.push(started.elapsed());
        assert!(first.contains("R-1"), "unexpected first answer: {first:?}");
        std::thread::sleep(Duration::from_millis(500));
        rss = rss_kib(child.id());
        drop(stdin);
        let _ = child.wait();
    }
    starts.sort();
    println!(
        "{label}: start to first answer median {:.1} ms (min {:.1}, max {:.1}); idle RSS {:.1} MB",
        starts[2].as_secs_f64() * 1000.0,
        starts[0].as_secs_f64() * 1000.0,
        starts[4].as_secs_f64() * 1000.0,
        rss as f64 / 1024.0
    );
}

fn engine_for(data: &Path) -> Engine {
    let config = Arc::new(Config::load(Path::new("config/releasebot.toml")).expect("demo config"));
    let store = Store::open(data).expect("open store");
    let clock = Arc::new(FixedClock::at(
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
    ));
    Engine::new(store, config, clock).deferring_flush()
}

/// Fills a store through the engine (the same path as chat), every 10th
/// release scheduled and approved, flushing every 5,000.
fn fill(data: &Path, count: usize) {
    let engine = engine_for(data);
    let alice = UserRef::parse("shell:alice").unwrap();
    let bob = UserRef::parse("shell:bob").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let started = Instant::now();
    for i in 0..count {
        let at = if i % 10 == 0 {
            " at 2026-12-01 14:00"
        } else {
            ""
        };
        engine
            .handle_line(
                &alice,
                &format!("request web 1.{}.{} to staging{at}", i / 1000, i % 1000),
                &origin,
            )
            .expect("request");
        if i % 10 == 0 {
            engine
                .handle_line(&bob, &format!("approve R-{}", i + 1), &origin)
                .expect("approve");
        }
        if i % 5000 == 4999 {
            engine.store().flush().unwrap();
        }
    }
    engine.store().flush().unwrap();
    // A live bot has delivered its announcements; drain them as it would.
    let sinks: HashMap<String, Arc<dyn ChatSink>> =
        HashMap::from([("shell".to_string(), Arc::new(Discard) as Arc<dyn ChatSink>)]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let notifier = std::sync::Arc::new(Notifier::new(
        engine.store().outboxes(),
        sinks,
        engine.config().delivery,
    ));
    runtime.block_on(notifier.deliver_pending());
    assert_eq!(engine.store().outbox_depths().unwrap(), (0, 0));
    println!(
        "filled {count} releases in {:.1} s ({:.0}/s, group-committed)",
        started.elapsed().as_secs_f64(),
        count as f64 / started.elapsed().as_secs_f64()
    );
}

fn list_latency(data: &Path) {
    let engine = engine_for(data);
    let bob = UserRef::parse("shell:bob").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    for line in ["list pending", "list scheduled", "list all"] {
        let mut times: Vec<Duration> = (0..200)
            .map(|_| {
                let started = Instant::now();
                engine.handle_line(&bob, line, &origin).expect("list");
                started.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "`{line}` over {} releases: median {:.3} ms, p99 {:.3} ms",
            engine.store().release_count().unwrap(),
            times[100].as_secs_f64() * 1000.0,
            times[198].as_secs_f64() * 1000.0
        );
    }
}

fn main() {
    assert!(
        binary().exists(),
        "build the binary first: cargo build --release"
    );
    // BENCH_DIR keeps the stores for a look afterwards; by default they go.
    let temp = tempfile::tempdir().expect("temp dir");
    let kept = std::env::var_os("BENCH_DIR").map(PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temp.path());
    let fsync = fsync_latency(dir);
    let limit = 1.0 / fsync.as_secs_f64();
    println!(
        "fsync latency (fdatasync of a 512-byte append, median of 500): {:.3} ms, a limit of {limit:.0} commands/s one at a time",
        fsync.as_secs_f64() * 1000.0
    );
    let piped = throughput(dir);
    let one = one_at_a_time(dir);
    println!(
        "one at a time is {:.0} % of 1 / fsync latency",
        100.0 * one / limit
    );
    hubot(piped, one);
    let empty = dir.join("empty");
    start_and_idle(&empty, "empty store");
    let hundred_k = dir.join("100k");
    fill(&hundred_k, 100_000);
    start_and_idle(&hundred_k, "100,000 releases");
    if std::env::var("BENCH_MILLION").as_deref() != Ok("0") {
        let million = dir.join("1m");
        fill(&million, 1_000_000);
        list_latency(&million);
    } else {
        list_latency(&hundred_k);
    }
}
