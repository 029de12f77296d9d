//! How fast a change committed on one instance reaches another: two stores
//! (two instances) on one PostgreSQL schema; `bob` approves a release on
//! instance A, and a subscriber to instance B's change feed records when it
//! hears of it. Prints p50, p99 and max over 300 approvals, measured from
//! the command's start and from the moment it returned on A.
//!
//!     RELEASEBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!         cargo run --release --example feed_wake

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use releasebot::clock::{Clock, SystemClock};
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, ReleaseId, UserRef};
use releasebot::engine::{Engine, Origin};
use releasebot::store::testkit::{database_url, TestSchema};
use releasebot::store::Store;

const APPROVALS: usize = 300;

fn main() {
    let Some(url) = database_url("feed wake") else {
        println!("feed_wake: no test database (RELEASEBOT_TEST_DATABASE_URL); nothing measured");
        return;
    };
    let schema = TestSchema::new(&url);
    let a = Store::connect(&schema.options("instance-a")).expect("instance a");
    let b = Store::connect(&schema.options("instance-b")).expect("instance b");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/releasebot.toml");
    let config = Arc::new(Config::load(&demo).expect("the demo config"));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(a, config, clock);
    let origin = Origin {
        channel: ChannelRef::parse("shell:#releases").unwrap(),
    };
    let alice = UserRef::parse("shell:alice").unwrap();
    let bob = UserRef::parse("shell:bob").unwrap();

    // B's subscriber: when it first heard of each release's revision 1.
    let heard: Arc<Mutex<HashMap<ReleaseId, Instant>>> = Arc::default();
    let mut feed = b.feed().subscribe();
    let recorded = heard.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            while let Some(change) = feed.next().await {
                let at = Instant::now();
                let mut heard = recorded.lock().unwrap();
                for (id, revision) in &change.releases {
                    if change.remote && *revision >= 1 {
                        heard.entry(*id).or_insert(at);
                    }
                }
            }
        });
    });

    let wait_for = |id: ReleaseId| -> Option<Instant> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(at) = heard.lock().unwrap().get(&id) {
                return Some(*at);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        None
    };
    let approve = |n: usize| -> (Instant, Instant, ReleaseId) {
        engine
            .handle_line(&alice, "request api 2.4.0 to staging", &origin)
            .unwrap();
        let id = ReleaseId::new(n as u64);
        let started = Instant::now();
        engine
            .handle_line(&bob, &format!("approve {id}"), &origin)
            .unwrap();
        (started, Instant::now(), id)
    };

    // B's listener connects in the background: approve until it hears.
    let mut n = 0;
    loop {
        n += 1;
        let (_, _, id) = approve(n);
        if wait_for(id).is_some() {
            break;
        }
        assert!(n < 5, "instance B never heard from instance A");
    }

    let mut from_start = Vec::new();
    let mut from_return = Vec::new();
    for _ in 0..APPROVALS {
        n += 1;
        let (started, returned, id) = approve(n);
        let at = wait_for(id).expect("B heard the approval within 10 s");
        from_start.push(at.saturating_duration_since(started));
        from_return.push(at.saturating_duration_since(returned));
    }
    println!("an approval committed on instance A, heard by a subscriber on instance B ({APPROVALS} approvals, one PostgreSQL):");
    report("from the command's start", from_start);
    report("after the command returned on A", from_return);
    let counts = b.feed().counts();
    println!(
        "  B's /metrics lag (publish → heard): mean {:.2} ms over {} changes",
        counts.lag_ms_sum as f64 / counts.lag_count.max(1) as f64,
        counts.lag_count
    );
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  {label:<34} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*samples.last().unwrap())
    );
}
