//! Figures for Discord, printed, not asserted.
//!
//! ```text
//! cargo run --release --example discord_bench
//! ```
//!
//! The bot runs against the fake Discord from the tests (loopback, through
//! `proxy_url`), with the real serenity gateway and REST clients, a
//! temporary sled store and simulated CI. INTERACTION_CREATE dispatches go
//! out at 200/s (one `request` in five, the rest `status`); the figure is
//! dispatch → the interaction callback arriving at the fake: the answer,
//! sent once the command is durable, which must come within Discord's 3 s.

#[path = "../tests/it/fake_discord.rs"]
#[allow(dead_code)]
mod fake_discord;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use releasebot::chat::adapters::Adapters;
use releasebot::clock::{Clock, SystemClock};
use releasebot::config::Config;
use releasebot::engine::Engine;
use releasebot::store::Store;

use fake_discord::{slash, FakeDiscord};

const RATE: u64 = 200;
const INTERACTIONS: usize = 4_000;

fn config(fake: &FakeDiscord) -> String {
    format!(
        r#"
[discord]
token_env = "BENCH_DISCORD_TOKEN"
application_id = "{app}"
guilds = ["{guild}"]
proxy_url = "{base}"

[roles]
developer = ["discord:{alice}"]
release-manager = ["discord:{bob}"]

[services.api]

[environments.production]
channels = ["discord:{releases}"]
request = ["developer"]
approve = ["release-manager"]
approvals = 1
max_per_day = 1000
"#,
        app = fake_discord::APP,
        guild = fake_discord::GUILD,
        base = fake.base,
        alice = fake_discord::ALICE,
        bob = fake_discord::BOB,
        releases = fake_discord::RELEASES,
    )
}

fn main() {
    std::env::set_var("BENCH_DISCORD_TOKEN", fake_discord::TOKEN);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = FakeDiscord::start().await;
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let config = Arc::new(Config::parse(&config(&fake), "bench.toml").expect("bench config"));
        let engine = Engine::new(Store::open(&dir.path().join("data")).unwrap(), config.clone(), clock.clone());
        let (app, discord) = Adapters::start(engine, clock, HashMap::new())
            .await
            .unwrap();
        while fake.live_gateways() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let alice = (fake_discord::ALICE, "alice", &[] as &[&str]);
        let interval = Duration::from_micros(1_000_000 / RATE);
        let began = Instant::now();
        for i in 0..INTERACTIONS {
            tokio::time::sleep_until((began + interval * i as u32).into()).await;
            let id = format!("{}", 1_800_000_000_000_000_000u64 + i as u64);
            let interaction = if i % 5 == 0 {
                let version = format!("1.{}.{}", i / 1000, i % 1000);
                slash(&id, alice, "request", &[("service", "api"), ("version", &version)])
            } else {
                slash(&id, alice, "status", &[("id", "R-1")])
            };
            fake.dispatch("INTERACTION_CREATE", interaction);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while fake.callback_latencies().len() < INTERACTIONS && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = began.elapsed();
        let mut latencies = fake.callback_latencies();
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "INTERACTION_CREATE → callback: {} in {:.1} s ({:.0}/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            ms(at(0.50)),
            ms(at(0.99)),
            ms(*latencies.last().unwrap()),
        );
        discord.stop().await;
        app.stop().await;
    });
}
