//! The notes worker: fetches the ranges the engine asks for (off every
//! command's path), and hands back the notes, or why there are none, to
//! `Engine::notes_fetched`. Woken by the change feed when a range is
//! asked for, and by its own clock for retries.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::clock::Clock;
use crate::domain::notes::build;
use crate::engine::{off_async_threads, Engine, Wanted};

/// The longest sleep between looks (a retry due sooner wakes it sooner).
const IDLE: Duration = Duration::from_secs(30);

pub struct NotesWorker {
    engine: Engine,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
}

impl NotesWorker {
    pub fn new(engine: Engine, clock: Arc<dyn Clock>) -> NotesWorker {
        NotesWorker {
            engine,
            clock,
            http: reqwest::Client::new(),
        }
    }

    /// Fetches every range due now; how many were handled.
    pub async fn run_due(&self) -> usize {
        let engine = self.engine.clone();
        let now = self.clock.now();
        let due =
            match off_async_threads("reading wanted notes", move || engine.notes_due(now)).await {
                Ok(Ok(due)) => due,
                Ok(Err(error)) => {
                    tracing::error!(%error, "reading wanted notes failed");
                    return 0;
                }
                Err(_) => return 0,
            };
        let count = due.len();
        for (key, wanted, source) in due {
            let fetched = super::compare(
                &self.http,
                &source,
                wanted.base.as_str(),
                wanted.head.as_str(),
            )
            .await
            .map(|f| {
                let range = format!(
                    "{}..{}",
                    source.tag_of(wanted.base.as_str()),
                    source.tag_of(wanted.head.as_str())
                );
                build(range, f.compare_url, &f.commits, f.total, &source.rules)
            })
            .map_err(|e| e.to_string());
            if let Err(why) = &fetched {
                tracing::warn!(service = %wanted.service, range = %wanted.key, %why, "reading notes from the code failed");
            }
            self.hand_back(key, wanted, fetched).await;
        }
        count
    }

    async fn hand_back(
        &self,
        key: String,
        wanted: Wanted,
        fetched: Result<crate::domain::notes::ReleaseNotes, String>,
    ) {
        let engine = self.engine.clone();
        let stored = off_async_threads("storing notes", move || {
            engine.notes_fetched(&key, &wanted, fetched)
        })
        .await;
        if let Ok(Err(error)) = stored {
            tracing::error!(%error, "storing notes from the code failed");
        }
    }

    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.run_due().await;
            let engine = self.engine.clone();
            let next = off_async_threads("finding the next notes", move || engine.next_notes_due())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            let wait = next
                .map(|at| (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(IDLE)
                .clamp(Duration::from_millis(10), IDLE);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }
}
