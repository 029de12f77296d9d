//! The HTTP listener against slow and greedy clients: half-sent headers and
//! bodies are cut off, a huge Content-Length is refused at once, and past
//! `max_connections` new connections are closed while `/healthz` answers
//! again as soon as one frees up.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ci_app::{config, CiApp};

const LIMITS: &str =
    "\n[http]\nheader_timeout_secs = 1\nbody_timeout_secs = 1\nmax_connections = 16\n";

async fn app() -> CiApp {
    CiApp::spawn(&(config("kind = \"simulate\"", "http://127.0.0.1:9") + LIMITS)).await
}

fn address(app: &CiApp) -> String {
    app.http.trim_start_matches("http://").to_string()
}

/// Reads until the server closes; what it sent, or `None` if it kept the
/// connection open for `limit`.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut seen = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut seen))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&seen).into_owned())
}

async fn healthz(app: &CiApp) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{}/healthz", app.http))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answers")
        .status()
}

#[tokio::test]
async fn half_sent_headers_are_cut_off_after_the_header_timeout() {
    let app = app().await;
    let mut slow = TcpStream::connect(address(&app)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut slow, Duration::from_secs(5)).await;
    assert!(answer.is_some(), "the half-sent request was kept open");
    println!(
        "figure: a half-sent request was cut off after {} ms",
        started.elapsed().as_millis()
    );
}

#[tokio::test]
async fn a_body_that_stops_coming_is_cut_off_and_changes_nothing() {
    let app = app().await;
    let before = app.app.engine.store().jobs().unwrap().len();
    let mut slow = TcpStream::connect(address(&app)).await.unwrap();
    slow.write_all(
        b"POST /ci/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"release\"",
    )
    .await
    .unwrap();
    let answer = read_to_close(&mut slow, Duration::from_secs(5))
        .await
        .expect("the stalled body was kept open");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
    assert_eq!(app.app.engine.store().jobs().unwrap().len(), before);
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn a_huge_content_length_is_refused_at_once() {
    let app = app().await;
    let mut greedy = TcpStream::connect(address(&app)).await.unwrap();
    greedy
        .write_all(
            b"POST /ci/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut greedy, Duration::from_secs(5))
        .await
        .expect("the server waited for a terabyte");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// A listener whose timeouts are far away: only the cap's own rule can
/// free a connection during these tests.
async fn patient_app() -> CiApp {
    let limits =
        "\n[http]\nheader_timeout_secs = 120\nbody_timeout_secs = 120\nmax_connections = 16\n";
    CiApp::spawn(&(config("kind = \"simulate\"", "http://127.0.0.1:9") + limits)).await
}

async fn counter(app: &CiApp, name: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", app.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn at_max_connections_the_oldest_half_sent_one_makes_way_for_a_probe() {
    let app = patient_app().await;
    let mut held = Vec::new();
    for _ in 0..16 {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        stream.write_all(b"GET /heal").await.unwrap();
        held.push(stream);
        // In order, so that the first is the oldest.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A flood's worth of half-sent headers, and the probe still answers.
    assert_eq!(healthz(&app).await, 200);
    let oldest = read_to_close(&mut held[0], Duration::from_secs(3)).await;
    assert_eq!(oldest.as_deref(), Some(""), "the oldest was closed for it");
    let newest = read_to_close(&mut held[15], Duration::from_millis(300)).await;
    assert_eq!(newest, None, "the newest is still open");
    assert!(counter(&app, "releasebot_http_connections_evicted_total").await >= 1);
}

#[tokio::test]
async fn at_max_connections_each_mid_request_a_new_one_is_closed_on_arrival() {
    let app = patient_app().await;
    let mut held = Vec::new();
    for _ in 0..16 {
        // Headers done, the body never comes: a request under way.
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        stream
            .write_all(
                b"POST /ci/callback HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-hub-signature-256: sha256=00\r\ncontent-length: 100\r\n\r\n{",
            )
            .await
            .unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = TcpStream::connect(address(&app)).await.unwrap();
    let closed = read_to_close(&mut extra, Duration::from_secs(3)).await;
    assert_eq!(closed.as_deref(), Some(""), "closed on arrival, unserved");
    let still = read_to_close(&mut held[0], Duration::from_millis(300)).await;
    assert_eq!(still, None, "no request under way was cut for it");
    held.truncate(8);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(healthz(&app).await, 200, "answers again once one frees");
    assert!(counter(&app, "releasebot_http_connections_refused_total").await >= 1);
}
