//! The listener's connections, served with hyper: a client must send its
//! headers within `header_timeout` and may pause at most `body_timeout`
//! inside a body, and at most `max_connections` are open at once, so the
//! process never runs out of file descriptors. At the cap, the oldest
//! connection still waiting for a request's headers (half-sent, or idle
//! between requests) is closed to admit the new one, so a health probe
//! gets through a flood of slow clients; only when every connection is in
//! the middle of a request is the new one closed on arrival. At shutdown
//! idle connections close at once, requests under way get a short grace
//! and whatever is left is cut.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio::task::{self, AbortHandle, JoinSet};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::config::HttpLimits;
use crate::metrics::Metrics;

/// How long requests under way may take to finish after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// File descriptors kept for everything but HTTP clients (the store, chat
/// and CI connections).
const RESERVED_FDS: u64 = 256;

/// How many connections may be open: the configured cap, lowered to what
/// the process's file descriptor limit allows (raised to its hard limit
/// first, as Go and nginx do).
pub fn connection_cap(configured: usize) -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let allowed = limit.saturating_sub(RESERVED_FDS).max(16);
    configured.min(usize::try_from(allowed).unwrap_or(usize::MAX))
}

/// The largest request body any route takes (axum's default limit): Slack
/// and Discord payloads and CI callbacks are a few kilobytes.
pub const MAX_BODY: u64 = 2 * 1024 * 1024;

/// Answers 413 at once to a request that announces a body over `MAX_BODY`,
/// instead of waiting for bytes that will be refused anyway.
async fn refuse_oversized(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(length) if length > MAX_BODY => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body too large: {length} bytes; the limit is {MAX_BODY}"),
        )
            .into_response(),
        _ => next.run(request).await,
    }
}

/// Serves `app` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: HttpLimits,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = app
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(axum::middleware::from_fn(refuse_oversized));
    let cap = connection_cap(limits.max_connections);
    let mut open = OpenConnections::default();
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // EMFILE and the like: wait a moment rather than spin.
                        tracing::warn!(%error, "accepting an HTTP connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if open.live >= cap {
                    if open.evict_oldest_waiting() {
                        Metrics::count(&metrics.http_connections_evicted);
                    } else {
                        Metrics::count(&metrics.http_connections_refused);
                        drop(stream);
                        continue;
                    }
                }
                let busy = Arc::new(AtomicUsize::new(0));
                let service = Tracked {
                    inner: TowerToHyperService::new(app.clone()),
                    busy: busy.clone(),
                };
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                let handle = connections.spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "an HTTP connection ended with an error");
                    }
                });
                open.admit(handle, busy);
            }
            Some(ended) = connections.join_next_with_id(), if !connections.is_empty() => {
                let id = match ended {
                    Ok((id, ())) => id,
                    Err(error) => error.id(),
                };
                open.ended(id);
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
    drop(listener);
    // Idle connections close now; a request under way may finish within the grace.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!(
            open = connections.len(),
            "cutting HTTP connections still open after the shutdown grace"
        );
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// One open connection: when it came, whether a request is being served
/// on it, and how to close it.
struct Open {
    since: Instant,
    busy: Arc<AtomicUsize>,
    abort: AbortHandle,
    /// Closed to admit another; no longer counted.
    evicted: bool,
}

/// The open connections, by task, and how many count against the cap.
#[derive(Default)]
struct OpenConnections {
    by_task: HashMap<task::Id, Open>,
    live: usize,
}

impl OpenConnections {
    fn admit(&mut self, handle: AbortHandle, busy: Arc<AtomicUsize>) {
        let open = Open {
            since: Instant::now(),
            busy,
            abort: handle,
            evicted: false,
        };
        self.by_task.insert(open.abort.id(), open);
        self.live += 1;
    }

    fn ended(&mut self, id: task::Id) {
        if let Some(open) = self.by_task.remove(&id) {
            if !open.evicted {
                self.live -= 1;
            }
        }
    }

    /// Closes the oldest connection that is waiting for a request's headers
    /// (none is being served on it); false when every one is busy.
    fn evict_oldest_waiting(&mut self) -> bool {
        let oldest = self
            .by_task
            .values_mut()
            .filter(|open| !open.evicted && open.busy.load(Ordering::Relaxed) == 0)
            .min_by_key(|open| open.since);
        let Some(oldest) = oldest else {
            return false;
        };
        oldest.abort.abort();
        oldest.evicted = true;
        self.live -= 1;
        true
    }
}

/// The connection's service, counting the requests being served on it: a
/// connection with none is waiting for headers, and may be evicted.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    busy: Arc<AtomicUsize>,
}

impl<S, B> hyper::service::Service<hyper::Request<B>> for Tracked<S>
where
    S: hyper::service::Service<hyper::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, request: hyper::Request<B>) -> Self::Future {
        let busy = BusyGuard::new(self.busy.clone());
        let served = self.inner.call(request);
        Box::pin(async move {
            let response = served.await;
            drop(busy);
            response
        })
    }
}

/// Counts one request under way for as long as it lives (a cancelled
/// request is no longer under way either).
struct BusyGuard(Arc<AtomicUsize>);

impl BusyGuard {
    fn new(busy: Arc<AtomicUsize>) -> BusyGuard {
        busy.fetch_add(1, Ordering::Relaxed);
        BusyGuard(busy)
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
