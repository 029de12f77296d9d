//! Commands per second on PostgreSQL, beside `pgbench` on the same server in
//! the same run. Printed, not asserted.
//!
//! ```text
//! RELEASEBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release --example pg_bench
//! ```
//!
//! `pgbench` (when installed) runs first in a scratch database of its own:
//! one client, TPC-B-like and `-N`, then `-N` from 8 clients (what this
//! machine's cores and disk give PostgreSQL's own clients at once when
//! they do not touch the same rows), 5 s each. Then the bot's engine on a
//! scratch schema: `request` + `approve` one at a time from one client, and
//! from 8 clients at once (threads, each with its own service, so their
//! guards do not refuse each other), each command committed before its reply.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::engine::{Engine, Origin};
use releasebot::store::postgres::{execute_once, PgOptions};
use releasebot::store::testkit::TestSchema;
use releasebot::store::Store;

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 250;
const SCRATCH_DB: &str = "releasebot_pgbench";

fn config() -> String {
    let mut text = String::from(
        "[roles]\ndeveloper = [\"shell:alice\", \"shell:bob\"]\nrelease-manager = [\"shell:bob\"]\n",
    );
    for client in 0..CLIENTS {
        text.push_str(&format!("[services.svc{client}]\n"));
    }
    text.push_str("[environments.staging]\napprove = [\"developer\"]\n");
    text
}

/// `pgbench`'s transactions per second, or why there is none.
fn pgbench(url: &str, args: &[&str]) -> Result<f64, String> {
    let output = Command::new("pgbench")
        .args(args)
        .arg(url)
        .output()
        .map_err(|e| format!("pgbench not run: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            format!(
                "pgbench gave no rate: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// pgbench's rates, transactions/s.
struct Pgbench {
    tpcb: f64,
    simple: f64,
    /// `-N` from `CLIENTS` clients.
    simple_many: f64,
}

/// One client's TPC-B-like and `-N` rates, and `-N` from `CLIENTS`
/// clients, in a scratch database.
fn pgbench_rates(url: &str) -> Result<Pgbench, String> {
    let _ = execute_once(url, &format!("DROP DATABASE IF EXISTS {SCRATCH_DB}"));
    execute_once(url, &format!("CREATE DATABASE {SCRATCH_DB}")).map_err(|e| e.to_string())?;
    let scratch = match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{SCRATCH_DB}"),
        None => return Err(format!("{url} names no database")),
    };
    let rates = pgbench(&scratch, &["-i", "-q"])
        .err()
        .map_or(Ok(()), |why| {
            // `-i` prints no rate: only a failure to start counts.
            if why.starts_with("pgbench not run") {
                Err(why)
            } else {
                Ok(())
            }
        });
    let result = rates.and_then(|()| {
        let clients = CLIENTS.to_string();
        Ok(Pgbench {
            tpcb: pgbench(&scratch, &["-c", "1", "-T", "5"])?,
            simple: pgbench(&scratch, &["-c", "1", "-T", "5", "-N"])?,
            simple_many: pgbench(&scratch, &["-c", &clients, "-j", "2", "-T", "5", "-N"])?,
        })
    });
    let _ = execute_once(url, &format!("DROP DATABASE IF EXISTS {SCRATCH_DB}"));
    result
}

fn engine(schema: &TestSchema, config: &Arc<Config>) -> Engine {
    let clock = Arc::new(FixedClock::at("2026-11-26T10:00:00Z".parse().unwrap()));
    let options = PgOptions {
        pool_size: CLIENTS + 2,
        ..schema.options("bench")
    };
    Engine::new(Store::connect(&options).unwrap(), config.clone(), clock)
}

/// Requests then approves `count` releases of `service`, one at a time;
/// returns each answered command's latency (a failed one is said, not timed).
fn client(engine: &Engine, service: &str, count: usize) -> Vec<Duration> {
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let (alice, bob) = (
        UserRef::parse("shell:alice").unwrap(),
        UserRef::parse("shell:bob").unwrap(),
    );
    let mut times = Vec::with_capacity(2 * count);
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let started = Instant::now();
        let line = format!("request {service} 1.0.{n} to staging");
        let reply = match engine.handle_line(&alice, &line, &origin) {
            Ok(reply) => reply,
            Err(error) => {
                println!("`{line}` failed: {error}");
                continue;
            }
        };
        times.push(started.elapsed());
        let text = reply.text().to_string();
        let id = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(id.starts_with("R-"), "{text}");
        ids.push(id);
    }
    for id in ids {
        let started = Instant::now();
        let line = format!("approve {id}");
        match engine.handle_line(&bob, &line, &origin) {
            Ok(reply) => assert!(
                reply.text().to_string().contains("approved"),
                "{}",
                reply.text()
            ),
            Err(error) => {
                println!("`{line}` failed: {error}");
                continue;
            }
        }
        times.push(started.elapsed());
    }
    times
}

fn report(label: &str, elapsed: Duration, mut times: Vec<Duration>) -> f64 {
    times.sort();
    let rate = times.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{label}: {} commands in {:.2} s = {rate:.0} commands/s; median {:.2} ms, p99 {:.2} ms",
        times.len(),
        elapsed.as_secs_f64(),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() * 99 / 100].as_secs_f64() * 1e3
    );
    rate
}

fn main() {
    let Ok(url) = std::env::var("RELEASEBOT_TEST_DATABASE_URL") else {
        println!("pg_bench: skipped (set RELEASEBOT_TEST_DATABASE_URL to a PostgreSQL database)");
        return;
    };
    let tpcb = match pgbench_rates(&url) {
        Ok(rates) => {
            println!(
                "pgbench, one client, same server: TPC-B-like {:.0} transactions/s, -N {:.0} transactions/s",
                rates.tpcb, rates.simple
            );
            println!(
                "pgbench -N, {CLIENTS} clients: {:.0} transactions/s, {:.2}× its one client",
                rates.simple_many,
                rates.simple_many / rates.simple
            );
            Some(rates.tpcb)
        }
        Err(why) => {
            println!("pgbench: not measured ({why})");
            None
        }
    };
    let config = Arc::new(Config::parse(&config(), "bench.toml").unwrap());

    let schema = TestSchema::new(&url);
    let one = engine(&schema, &config);
    let started = Instant::now();
    let times = client(&one, "svc0", 4 * PER_CLIENT);
    let single = report("releasebot, one client", started.elapsed(), times);
    drop(one);
    drop(schema);

    let schema = TestSchema::new(&url);
    let shared = engine(&schema, &config);
    let started = Instant::now();
    let times: Vec<Duration> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let engine = shared.clone();
                scope.spawn(move || client(&engine, &format!("svc{c}"), PER_CLIENT))
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let many = report(
        &format!("releasebot, {CLIENTS} clients"),
        started.elapsed(),
        times,
    );
    println!("{CLIENTS} clients are {:.2}× one client", many / single);
    if let Some(tpcb) = tpcb {
        println!(
            "one client is {:.0} % of pgbench's TPC-B-like rate",
            100.0 * single / tpcb
        );
    }
}
