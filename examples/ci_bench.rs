//! Figures for the CI relay, printed, not asserted.
//!
//! ```text
//! cargo run --release --example ci_bench
//! ```
//!
//! 1. `deploy` command to the CI request arriving at a fake GitHub on
//!    loopback, one deploy at a time, 200 deploys.
//! 2. Signed CI callbacks at 200/s: arrival to "announcement enqueued"
//!    (the HTTP answer is sent after the transaction that queues it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::Router;
use hmac::{Hmac, Mac};
use releasebot::app::App;
use releasebot::clock::{Clock, SystemClock};
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::engine::{Engine, Origin};
use releasebot::store::Store;
use sha2::Sha256;

const RELEASES: usize = 200;
const CALLBACK_SECRET: &str = "bench-callback-secret";

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn fake_github(arrivals: Arrivals) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let arrivals = arrivals.clone();
        async move {
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            arrivals.lock().unwrap().insert(key, Instant::now());
            axum::http::StatusCode::NO_CONTENT
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn config(fake: &str) -> String {
    let mut text = String::from(
        "[roles]\ndeveloper = [\"shell:alice\"]\nrelease-manager = [\"shell:bob\"]\n\n[environments.production]\napprove = [\"release-manager\"]\ndeploy = [\"developer\"]\napprovals = 1\n",
    );
    text.push_str(&format!(
        "[environments.production.ci]\nkind = \"github\"\napi_url = \"{fake}\"\nrepo = \"acme/api\"\nevent_type = \"deploy\"\ntoken_env = \"BENCH_GITHUB_TOKEN\"\ncallback_secret_env = \"BENCH_CALLBACK_SECRET\"\n"
    ));
    // One service per release, so that every deploy may run at once.
    for i in 0..RELEASES {
        text.push_str(&format!("[services.svc{i}]\n"));
    }
    text
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{label}: n={} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().unwrap().as_secs_f64() * 1000.0
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    std::env::set_var("BENCH_GITHUB_TOKEN", "bench-token");
    std::env::set_var("BENCH_CALLBACK_SECRET", CALLBACK_SECRET);
    let arrivals: Arrivals = Arc::default();
    let fake = fake_github(arrivals.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(Config::parse(&config(&fake), "bench.toml").expect("bench config"));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(Store::open(dir.path()).unwrap(), config, clock.clone());
    let mut app = App::start(engine.clone(), clock.clone(), HashMap::new());
    let http = app
        .serve_http("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let (alice, bob) = (
        UserRef::parse("shell:alice").unwrap(),
        UserRef::parse("shell:bob").unwrap(),
    );
    for i in 0..RELEASES {
        engine
            .handle_line(
                &alice,
                &format!("request svc{i} 1.0.{i} to production"),
                &origin,
            )
            .unwrap();
        engine
            .handle_line(&bob, &format!("approve R-{}", i + 1), &origin)
            .unwrap();
    }

    let mut deploy_latency = Vec::new();
    for i in 1..=RELEASES {
        let key = format!("R-{i}-deploy-1");
        let started = Instant::now();
        engine
            .handle_line(&alice, &format!("deploy R-{i}"), &origin)
            .unwrap();
        let arrived = loop {
            if let Some(at) = arrivals.lock().unwrap().get(&key) {
                break *at;
            }
            tokio::time::sleep(Duration::from_micros(100)).await;
        };
        deploy_latency.push(arrived - started);
    }
    report(
        "deploy command → CI request arrives (fsync included)",
        deploy_latency,
    );

    // Wait until every job is accepted, then report them all back at 200/s.
    while engine
        .store()
        .jobs()
        .unwrap()
        .iter()
        .any(|j| matches!(j.state, releasebot::domain::outbox::JobState::Pending))
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(5));
    for i in 1..=RELEASES {
        ticker.tick().await;
        let body = serde_json::to_vec(&serde_json::json!({
            "release": format!("R-{i}"), "job": format!("R-{i}-deploy-1"), "status": "succeeded",
            "timestamp": clock.now().timestamp()
        }))
        .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(CALLBACK_SECRET.as_bytes()).unwrap();
        mac.update(&body);
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let request = client
            .post(format!("http://{http}/ci/callback"))
            .header("X-Hub-Signature-256", signature)
            .body(body);
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            started.elapsed()
        }));
    }
    let mut callback_latency = Vec::new();
    for task in tasks {
        callback_latency.push(task.await.unwrap());
    }
    report(
        "callback at 200/s → announcement enqueued (HTTP round trip)",
        callback_latency,
    );
    let metrics = client
        .get(format!("http://{http}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("releasebot_ci_callback_latency_seconds_bucket"))
    {
        println!("  {line}");
    }
    app.stop().await;
}
