//! Wiring: one engine, the notifier, relay and scheduler workers woken by
//! the store's change feed, and a shutdown signal cloned into every task.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::ci::Relay;
use crate::clock::Clock;
use crate::engine::{off_async_threads, Engine};
use crate::http::HttpState;
use crate::metrics::Metrics;
use crate::notify::{ChatSink, Notifier};

/// Work that must finish before the app stops: the chat adapters'
/// per-event tasks (a command under way is answered, not cut).
#[async_trait::async_trait]
pub trait Drain: Send + Sync {
    /// Waits for the work under way, at most `grace`, then cuts the rest.
    async fn close(&self, grace: Duration);
}

/// The workers' wake-ups. Nobody calls them after a change: every
/// committed transaction reaches `follow_feed` through the store's change
/// feed (from this process and, on a shared store, from every instance).
#[derive(Clone, Default)]
struct Wakes {
    notifier: Arc<Notify>,
    relay: Arc<Notify>,
    scheduler: Arc<Notify>,
    notes: Arc<Notify>,
}

/// Wakes each worker when a change concerns it.
async fn follow_feed(
    mut feed: crate::store::Subscription,
    wakes: Wakes,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let change = tokio::select! {
            change = feed.next() => change,
            _ = shutdown.changed() => return,
        };
        let Some(change) = change else { return };
        if change.wakes_notifier() {
            wakes.notifier.notify_one();
        }
        if change.wakes_relay() {
            wakes.relay.notify_one();
        }
        if change.wakes_scheduler() {
            wakes.scheduler.notify_one();
        }
        if change.touches("notes-wanted") {
            wakes.notes.notify_one();
        }
    }
}

/// How long `App::stop` gives the HTTP listener's requests and the chat
/// adapters' event tasks, together, before it cuts them.
const STOP_BUDGET: Duration = Duration::from_secs(3);

/// How long inbound chat delivery ids are kept for dedupe: Slack retries an
/// event for about 6 minutes, Discord redelivers after a resume; a day is plenty.
const DELIVERY_MEMORY: chrono::Duration = chrono::Duration::hours(24);
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);
/// How long the record of published changes is kept, for listeners that
/// reconnect and catch up (a reconnect takes seconds).
const CHANGE_MEMORY: chrono::Duration = chrono::Duration::hours(1);

/// Prunes the inbound-delivery marks and the record of published changes
/// every few minutes, off the async threads.
async fn forget_old_deliveries(
    store: crate::store::Store,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HOUSEKEEPING_EVERY) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let store = store.clone();
        let now = clock.now();
        match off_async_threads("pruning delivery ids", move || {
            store.forget_changes(now - CHANGE_MEMORY)?;
            store.forget_deliveries(now - DELIVERY_MEMORY)
        })
        .await
        {
            Ok(Ok(forgotten)) if forgotten > 0 => {
                tracing::debug!(forgotten, "forgot old inbound delivery ids")
            }
            Ok(Err(error)) => tracing::error!(%error, "pruning inbound delivery ids failed"),
            _ => {}
        }
    }
}

/// Past a claim's or lease's expiry, by how much the takeover wake waits:
/// the database judges expiry by its own clock at its own statement's start.
const TAKEOVER_MARGIN: Duration = Duration::from_millis(25);

/// On a shared store: wakes the workers (and the scheduler) as soon as a
/// claim or lease of another instance runs out, so that a dead instance's
/// work is taken over then, not at the next poll (at most `POLL` later).
async fn wake_for_takeovers(engine: Engine, wakes: Wakes, mut shutdown: watch::Receiver<bool>) {
    loop {
        let store = engine.store().clone();
        let next = off_async_threads("finding the next takeover", move || store.next_takeover())
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let wait = next.map_or(crate::notify::POLL, |at| {
            (at + TAKEOVER_MARGIN).min(crate::notify::POLL)
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        if next.is_some_and(|at| at + TAKEOVER_MARGIN <= wait) {
            wakes.notifier.notify_one();
            wakes.relay.notify_one();
            wakes.scheduler.notify_one();
        }
    }
}

pub struct App {
    pub engine: Engine,
    pub notifier: Arc<Notifier>,
    pub relay: Arc<Relay>,
    pub metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    wakes: Wakes,
    /// Waited for at stop, after the HTTP listener and before the flush.
    drains: Vec<Arc<dyn Drain>>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Routes chat adapters add to the HTTP listener (Slack's HTTP mode).
    routes: axum::Router,
    /// Their paths, named to a request for one that is not served here.
    chat_paths: Vec<&'static str>,
    /// Links to release threads, for the dashboard.
    permalinks: Arc<crate::notify::permalinks::Permalinks>,
}

impl App {
    /// Starts the workers; call from inside a tokio runtime.
    pub fn start(
        engine: Engine,
        clock: Arc<dyn Clock>,
        sinks: HashMap<String, Arc<dyn ChatSink>>,
    ) -> App {
        let (shutdown, signal) = watch::channel(false);
        let permalinks = Arc::new(crate::notify::permalinks::Permalinks::new(sinks.clone()));
        let notifier = Arc::new(Notifier::new(
            engine.store().outboxes(),
            sinks,
            engine.config().delivery,
        ));
        let metrics = Arc::new(Metrics::default());
        let relay = Arc::new(Relay::new(engine.clone(), clock.clone(), metrics.clone()));
        let scheduler = Arc::new(crate::schedule::Scheduler::new(engine.clone(), clock.now()));
        let wakes = Wakes::default();
        let mut tasks = vec![
            tokio::spawn(follow_feed(
                engine.store().feed().subscribe(),
                wakes.clone(),
                signal.clone(),
            )),
            tokio::spawn(notifier.clone().run(wakes.notifier.clone(), signal.clone())),
            tokio::spawn(relay.clone().run(wakes.relay.clone(), signal.clone())),
            tokio::spawn(scheduler.run(clock.clone(), wakes.scheduler.clone(), signal.clone())),
            tokio::spawn(
                Arc::new(crate::scm::worker::NotesWorker::new(
                    engine.clone(),
                    clock.clone(),
                ))
                .run(wakes.notes.clone(), signal.clone()),
            ),
        ];
        if engine.shared_store() {
            tasks.push(tokio::spawn(wake_for_takeovers(
                engine.clone(),
                wakes.clone(),
                signal.clone(),
            )));
        }
        tasks.push(tokio::spawn(forget_old_deliveries(
            engine.store().clone(),
            clock.clone(),
            signal,
        )));
        App {
            engine,
            notifier,
            relay,
            metrics,
            clock,
            wakes,
            drains: Vec::new(),
            shutdown,
            tasks,
            routes: axum::Router::new(),
            chat_paths: Vec::new(),
            permalinks,
        }
    }

    /// Adds a chat platform's routes (serving `paths`) to the HTTP listener;
    /// call before `serve_http`.
    pub fn mount(&mut self, paths: &[&'static str], routes: axum::Router) {
        self.routes = std::mem::take(&mut self.routes).merge(routes);
        self.chat_paths.extend_from_slice(paths);
    }

    /// Binds the HTTP listener (health, metrics, CI callbacks) and serves it
    /// until the app stops; returns the bound address (useful with port 0).
    pub async fn serve_http(
        &mut self,
        address: std::net::SocketAddr,
    ) -> std::io::Result<std::net::SocketAddr> {
        let listener = crate::http::bind(address).await?;
        let bound = listener.local_addr()?;
        let state = HttpState {
            engine: self.engine.clone(),
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
            permalinks: self.permalinks.clone(),
        };
        let routes = crate::http::router(state.clone())
            .merge(crate::web::router(state))
            .merge(self.routes.clone())
            .fallback(crate::http::not_ours(self.chat_paths.clone()));
        self.tasks.push(tokio::spawn(crate::http::serve(
            listener,
            routes,
            self.engine.config().http_limits,
            self.metrics.clone(),
            self.shutdown.subscribe(),
        )));
        Ok(bound)
    }

    /// Adds work that `stop` waits for (after the HTTP listener stops,
    /// before the final flush).
    pub fn drain_on_stop(&mut self, drain: Arc<dyn Drain>) {
        self.drains.push(drain);
    }

    /// Pokes the notifier and relay: for a test that moved its fixed clock
    /// (a change in the store wakes them by itself, through the feed).
    pub fn wake_workers(&self) {
        self.wakes.notifier.notify_one();
        self.wakes.relay.notify_one();
    }

    /// True when no CI job and no announcement is waiting.
    pub fn is_idle(&self) -> bool {
        self.engine
            .outbox_depths()
            .is_ok_and(|depths| depths == (0, 0))
    }

    /// Waits until the outboxes drain or `limit` passes; returns whether they drained.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.is_idle() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            self.wake_workers();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Stops the workers after their current step, lets chat events under
    /// way finish (within `STOP_BUDGET`), and flushes the store.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let budget = tokio::time::Instant::now() + STOP_BUDGET;
        for task in self.tasks {
            let _ = task.await;
        }
        // After the listener: an event it took during its grace still runs.
        for drain in &self.drains {
            let left = budget.saturating_duration_since(tokio::time::Instant::now());
            drain.close(left.max(Duration::from_millis(500))).await;
        }
        // Hands this instance's claims and leases back at once, so that
        // another instance (or the next start) need not wait them out.
        let engine = self.engine.clone();
        let released = off_async_threads("the final flush", move || {
            engine.release_claims()?;
            engine.flush()
        })
        .await;
        match released {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(error)) => tracing::error!(%error, "final flush failed"),
        }
    }
}
