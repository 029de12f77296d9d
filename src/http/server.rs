//! The listener's connections, served with hyper: a client must send its
//! headers within `header_timeout` and may pause at most `body_timeout`
//! inside a body, at most `max_connections` are open at once (more are
//! closed on arrival, so the process never runs out of file descriptors),
//! and at shutdown idle connections close at once, requests under way get
//! a short grace and whatever is left is cut.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
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
    let permits = Arc::new(Semaphore::new(connection_cap(limits.max_connections)));
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
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    Metrics::count(&metrics.http_connections_refused);
                    drop(stream);
                    continue;
                };
                let service = TowerToHyperService::new(app.clone());
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                connections.spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "an HTTP connection ended with an error");
                    }
                    drop(permit);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
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
