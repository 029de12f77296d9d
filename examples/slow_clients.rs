//! `/healthz` while thousands of slow clients hold connections open, printed,
//! not asserted.
//!
//! ```text
//! cargo run --release --example slow_clients [-- CLIENTS]
//! ```
//!
//! Opens CLIENTS (default 2,000) connections to the real HTTP listener, each
//! sending a request's headers a few bytes at a time (slowloris) or a body
//! that never completes, then asks `/healthz` 200 times on fresh connections
//! and prints the latencies; afterwards, how many slow clients were cut off
//! by the header and body timeouts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use releasebot::app::App;
use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::engine::Engine;
use releasebot::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONFIG: &str =
    "[roles]\ndeveloper = [\"shell:alice\"]\nrelease-manager = [\"shell:bob\"]\n[services.api]\n\
    [environments.production]\napprove = [\"release-manager\"]\napprovals = 1\n\
    [http]\nheader_timeout_secs = 10\nbody_timeout_secs = 10\nmax_connections = 4096\n";

/// One slow client: a byte of headers every half second (or a stalled
/// body); returns whether the server cut it off.
async fn slow_client(address: String, stalled_body: bool, cut: Arc<AtomicUsize>) {
    let Ok(mut stream) = TcpStream::connect(&address).await else {
        return;
    };
    let request: &[u8] = if stalled_body {
        b"POST /ci/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
    } else {
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
    };
    let mut sent = 0;
    let mut buffer = [0u8; 256];
    loop {
        if sent < request.len() {
            if stream.write_all(&request[sent..sent + 1]).await.is_err() {
                break;
            }
            sent += 1;
        }
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(_)) => break,
            Err(_) => {}
        }
    }
    cut.fetch_add(1, Ordering::Relaxed);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clients: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    // The clients' ends count against this process's descriptors too.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::at(
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
    ));
    let config = Arc::new(Config::parse(CONFIG, "slow-clients.toml").unwrap());
    let engine = Engine::new(Store::open(dir.path()).unwrap(), config, clock.clone());
    let mut app = App::start(engine, clock, HashMap::new());
    let bound = app
        .serve_http("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = bound.to_string();

    let cut = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    for i in 0..clients {
        tokio::spawn(slow_client(address.clone(), i % 2 == 1, cut.clone()));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "{clients} slow clients connected in {:.0} ms (half slowloris headers, half stalled bodies)",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut samples = Vec::new();
    let mut failed = 0;
    for _ in 0..200 {
        let asked = Instant::now();
        match http.get(format!("http://{address}/healthz")).send().await {
            Ok(answer) if answer.status() == 200 => samples.push(asked.elapsed()),
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    if samples.is_empty() {
        println!("/healthz never answered ({failed} failures)");
    } else {
        println!(
            "/healthz with {clients} slow clients connected: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} answered, {failed} failed; {} slow clients cut off so far",
            at(0.5),
            at(0.99),
            at(1.0),
            samples.len(),
            cut.load(Ordering::Relaxed)
        );
    }
    let waited = Instant::now();
    while cut.load(Ordering::Relaxed) < clients && waited.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{} of {clients} slow clients cut off {:.1} s after they connected (header and body timeouts 10 s)",
        cut.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    let stopping = Instant::now();
    app.stop().await;
    println!(
        "stopped in {:.0} ms",
        stopping.elapsed().as_secs_f64() * 1000.0
    );
}
