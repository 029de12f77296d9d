//! The bot connected to fake chat platforms: the real engine, notifier and
//! relay on a temporary sled store with a fixed clock, every adapter the
//! config names (through `Adapters::start`, as `run` does), and the HTTP
//! listener on port 0. `F` is the fake (or fakes) the config points at.

use std::collections::HashMap;
use std::sync::Arc;

use releasebot::app::App;
use releasebot::chat::adapters::Adapters;
use releasebot::clock::FixedClock;
use releasebot::domain::ids::ReleaseId;
use releasebot::domain::release::Release;

use crate::ci_app::{engine_for, test_clock};

pub struct ChatApp<F> {
    pub app: App,
    adapters: Option<Adapters>,
    pub fake: F,
    pub clock: Arc<FixedClock>,
    /// The HTTP listener (Slack's HTTP mode, Discord's interactions endpoint).
    pub http: String,
    pub dir: tempfile::TempDir,
}

impl<F> ChatApp<F> {
    pub async fn start(fake: F, dir: tempfile::TempDir, config_text: &str) -> ChatApp<F> {
        let clock = test_clock();
        let engine = engine_for(config_text, &dir.path().join("data"), clock.clone());
        let (mut app, adapters) = Adapters::start(engine, clock.clone(), HashMap::new())
            .await
            .unwrap();
        let bound = app
            .serve_http("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        ChatApp {
            app,
            adapters: Some(adapters),
            fake,
            clock,
            http: format!("http://{bound}"),
            dir,
        }
    }

    pub fn release(&self, id: u64) -> Option<Release> {
        self.app.engine.store().release(ReleaseId::new(id)).unwrap()
    }

    pub fn release_count(&self) -> u64 {
        self.app.engine.store().release_count().unwrap()
    }

    /// Disconnects and stops; gives back the fake and the data dir for a restart.
    pub async fn stop(mut self) -> (F, tempfile::TempDir) {
        if let Some(adapters) = self.adapters.take() {
            adapters.stop().await;
        }
        self.app.stop().await;
        (self.fake, self.dir)
    }
}
