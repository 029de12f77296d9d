//! Figures for the dashboard, printed, not asserted.
//!
//! ```text
//! cargo run --release --example dashboard_bench
//! ```
//!
//! With 100,000 releases in a sled store (three services in two
//! environments, each deployed), the time to serve the board, a month of
//! calendar and the stats page over HTTP on loopback (server-side render
//! included), and how soon a page's event stream hears an approval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use releasebot::app::App;
use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, Name, ReleaseId, UserRef, Version};
use releasebot::domain::release::{
    DeployAction, Deployment, JobOutcome, Priority, Release, ReleaseStatus,
};
use releasebot::engine::{Engine, Origin};
use releasebot::store::Store;

const RELEASES: u64 = 100_000;
const CONFIG: &str = "[http]\nlisten = \"127.0.0.1:0\"\ninsecure_cookies = true\n[roles]\ndeveloper = [\"shell:alice\"]\nrelease-manager = [\"shell:bob\"]\n[services.api]\n[services.web]\n[services.worker]\n[environments.staging]\napprove = [\"developer\"]\nself_approval = true\n[environments.production]\napprove = [\"release-manager\"]\n";

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "{label}: p50 {:.1} ms, p99 {:.1} ms (n={})",
        at(0.5),
        at(0.99),
        samples.len()
    );
}

fn history(now: chrono::DateTime<Utc>) -> Vec<Release> {
    let services = ["api", "web", "worker"];
    let environments = ["staging", "production"];
    (1..=RELEASES)
        .map(|n| {
            let at = now - chrono::Duration::minutes((RELEASES - n) as i64 * 53);
            let version = Version::parse(&format!("1.{}.{}", n / 1000, n % 1000)).unwrap();
            let alice = UserRef::parse("shell:alice").unwrap();
            Release {
                id: ReleaseId::new(n),
                service: Name::parse(services[(n % 3) as usize]).unwrap(),
                version: version.clone(),
                environment: Name::parse(environments[((n / 3) % 2) as usize]).unwrap(),
                status: ReleaseStatus::Deployed,
                requester: alice.clone(),
                requested_at: at - chrono::Duration::hours(1),
                updated_at: at,
                priority: Priority::Normal,
                notes: Some("a bench release".into()),
                scheduled_at: Some(at),
                approvals: vec![],
                checklist: vec![],
                deployments: vec![Deployment {
                    job: format!("R-{n}-deploy-1"),
                    action: DeployAction::Deploy,
                    version,
                    by: alice,
                    started_at: at - chrono::Duration::minutes(2),
                    reason: None,
                    finished_at: Some(at),
                    outcome: Some(JobOutcome::Succeeded),
                    url: None,
                    message: None,
                }],
                previous: None,
                rejected: None,
                cancelled: None,
                promoted_from: None,
                fixes: None,
                incident: None,
                changes: None,
                revision: 0,
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
    let clock = Arc::new(FixedClock::at(now));
    let config = Arc::new(Config::parse(CONFIG, "bench.toml").unwrap());
    let engine = Engine::new(Store::open(dir.path()).unwrap(), config, clock.clone());
    let fill = Instant::now();
    let releases = history(now);
    // What deploys record: the version live in each service and environment.
    let mut live = std::collections::BTreeMap::new();
    for r in &releases {
        live.insert(
            (r.service.clone(), r.environment.clone()),
            (r.version.clone(), r.id),
        );
    }
    engine.import(releases).unwrap();
    engine
        .store()
        .transaction(|tx| {
            for ((service, environment), (version, release)) in &live {
                let live = releasebot::domain::release::LiveVersion {
                    version: version.clone(),
                    release: *release,
                };
                tx.set_live(service, environment, &live)?;
            }
            Ok(())
        })
        .unwrap();
    println!(
        "imported {RELEASES} releases in {:.1} s",
        fill.elapsed().as_secs_f64()
    );
    let mut app = App::start(engine.clone(), clock.clone(), Default::default());
    let bound = app
        .serve_http("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{bound}");
    let bob = UserRef::parse("shell:bob").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let reply = engine
        .handle_line(&bob, "dashboard", &origin)
        .unwrap()
        .text()
        .to_string();
    let token = reply.rsplit('/').next().unwrap().trim().to_string();
    let (cookie, _) = engine.redeem_link(&token).unwrap().unwrap();
    let cookie = format!("releasebot_session={cookie}");
    let http = reqwest::Client::new();
    for path in ["/", "/calendar?view=month", "/stats"] {
        let mut samples = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            let response = http
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.text().await.unwrap();
            samples.push(started.elapsed());
        }
        percentiles(&format!("GET {path}"), samples);
    }
    // Live: how soon an open event stream hears an approval.
    let samples = live_updates(&engine, &engine, &base, &cookie, RELEASES + 1, "9.0").await;
    percentiles(
        "live update (approve → event on the page's stream)",
        samples,
    );
    app.stop().await;
    match std::env::var("RELEASEBOT_TEST_DATABASE_URL") {
        Ok(url) => across_two(&url, now).await,
        Err(_) => println!(
            "live update across two instances: skipped (set RELEASEBOT_TEST_DATABASE_URL to a PostgreSQL database)"
        ),
    }
}

/// On a PostgreSQL pair: an approval made on instance A, heard by a page's
/// event stream on instance B.
async fn across_two(url: &str, now: chrono::DateTime<Utc>) {
    use releasebot::store::testkit::TestSchema;
    let schema = TestSchema::new(url);
    let clock = Arc::new(FixedClock::at(now));
    let config = Arc::new(Config::parse(CONFIG, "bench.toml").unwrap());
    let start = |name: &str| {
        let engine = Engine::new(schema.connect(name).unwrap(), config.clone(), clock.clone());
        App::start(engine, clock.clone(), Default::default())
    };
    let a = start("a");
    let mut b = start("b");
    let base = format!(
        "http://{}",
        b.serve_http("127.0.0.1:0".parse().unwrap()).await.unwrap()
    );
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let bob = UserRef::parse("shell:bob").unwrap();
    let reply = b.engine.handle_line(&bob, "dashboard", &origin).unwrap();
    let text = reply.text().to_string();
    let token = text.rsplit('/').next().unwrap().trim().to_string();
    let (cookie, _) = b.engine.redeem_link(&token).unwrap().unwrap();
    let cookie = format!("releasebot_session={cookie}");
    let samples = live_updates(&a.engine, &b.engine, &base, &cookie, 1, "9.1").await;
    percentiles(
        "live update across two instances on PostgreSQL (approve on A → event on B's page)",
        samples,
    );
    a.stop().await;
    b.stop().await;
}

/// Twenty times: a request on `commands`, an event stream opened on the
/// pages (served by `pages`' instance), then an approval on `commands`;
/// how long until the stream hears it. Release ids start at `first`.
async fn live_updates(
    commands: &Engine,
    pages: &Engine,
    base: &str,
    cookie: &str,
    first: u64,
    version: &str,
) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let alice = UserRef::parse("shell:alice").unwrap();
    let origin = Origin {
        channel: ChannelRef::parse("shell:#bench").unwrap(),
    };
    let mut samples = Vec::new();
    for i in 0..20u64 {
        commands
            .handle_line(
                &alice,
                &format!("request api {version}.{i} to staging"),
                &origin,
            )
            .unwrap();
        // Let the pages' instance hear of the request before the stream opens.
        while pages
            .store()
            .release(ReleaseId::new(first + i))
            .unwrap()
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut events = http
            .get(format!("{base}/events"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let started = Instant::now();
        let approver = commands.clone();
        let (alice, origin) = (alice.clone(), origin.clone());
        let id = first + i;
        tokio::task::spawn_blocking(move || {
            approver
                .handle_line(&alice, &format!("approve R-{id}"), &origin)
                .unwrap()
        });
        events.chunk().await.unwrap();
        samples.push(started.elapsed());
    }
    samples
}
