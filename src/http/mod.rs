//! The HTTP listener (axum): `/healthz`, `/metrics`, `/calendar.ics` and `POST /ci/callback`,
//! where pipelines report `{release, job, status, url, message, timestamp}`
//! signed like GitHub webhooks with their target's callback secret.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::ci::signature;
use crate::clock::Clock;
use crate::domain::ids::ReleaseId;
use crate::domain::release::JobOutcome;
use crate::engine::{Callback, CallbackError, CallbackResult, Engine};
use crate::metrics::Metrics;

mod server;
pub use server::{connection_cap, serve, SHUTDOWN_GRACE};

/// How old (or how far ahead) a signed callback may be: Slack and GitHub use 5 minutes too.
const REPLAY_WINDOW_SECS: i64 = 300;

#[derive(Clone)]
pub struct HttpState {
    pub engine: Engine,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Links to the chat threads of releases (the dashboard's).
    pub permalinks: Arc<crate::notify::permalinks::Permalinks>,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ci/callback", post(ci_callback))
        .route("/calendar.ics", get(calendar_feed))
        .with_state(state)
}

/// The answer to a path nothing here serves: an event for a chat platform
/// that is not connected over HTTP (or not at all), a typo in a CI
/// callback's URL. It names what is served, and nothing runs.
pub fn not_ours(
    chat_paths: Vec<&'static str>,
) -> impl Fn(axum::http::Uri) -> std::future::Ready<Response> + Clone + Send + 'static {
    move |uri: axum::http::Uri| {
        let path: String = uri.path().chars().take(100).collect();
        let chat = if chat_paths.is_empty() {
            "no chat platform takes events over HTTP here".to_string()
        } else {
            format!("chat events go to {}", chat_paths.join(", "))
        };
        std::future::ready(
            (
                StatusCode::NOT_FOUND,
                format!(
                    "nothing is served at {path}: this bot answers /healthz, /metrics, /ci/callback and /calendar.ics; {chat}\n"
                ),
            )
                .into_response(),
        )
    }
}

pub async fn bind(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address).await
}

/// Runs store work off the async threads; `None` when it panicked (logged).
async fn blocking<T: Send + 'static>(
    engine: &Engine,
    work: impl FnOnce(&Engine) -> T + Send + 'static,
) -> Option<T> {
    engine.blocking(work).await.ok()
}

/// `{"status": "ok", "backend": "postgres", "store": "ok", "leases": [...],
/// "releases": 12}`; 503 when the store does not answer.
async fn healthz(State(state): State<HttpState>) -> Response {
    let Some((health, releases)) = blocking(&state.engine, Engine::health).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let body = |status: &str, store: &str| {
        json!({
            "status": status,
            "backend": health.backend,
            "store": store,
            "leases": health.leases,
            "releases": releases,
        })
    };
    match &health.problem {
        None => Json(body("ok", "ok")).into_response(),
        Some(problem) => {
            tracing::error!(%problem, "health check could not read the store");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(body("store unavailable", problem)),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<HttpState>) -> Response {
    let read = blocking(&state.engine, |engine| {
        (engine.outbox_depths(), engine.lease_counts())
    });
    let Some((depths, leases)) = read.await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (notify, ci) = depths.unwrap_or_else(|error| {
        tracing::error!(%error, "reading outbox depths failed");
        (0, 0)
    });
    (
        [("content-type", "text/plain; version=0.0.4")],
        state
            .metrics
            .render(notify, ci, leases, state.engine.store().feed().counts()),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    token: Option<String>,
    env: Option<String>,
}

/// `GET /calendar.ics?token=…[&env=production]`: the subscribable calendar.
async fn calendar_feed(
    State(state): State<HttpState>,
    axum::extract::Query(query): axum::extract::Query<FeedQuery>,
) -> Response {
    let Some(expected) = state.engine.config().calendar_token.as_ref() else {
        return (
            StatusCode::NOT_FOUND,
            "the calendar feed is off (set calendar.feed_token_env)",
        )
            .into_response();
    };
    // Compare as HMACs of the two tokens: constant time whatever their lengths.
    let given = query.token.unwrap_or_default();
    let matches = signature::verify(
        b"calendar-feed",
        given.as_bytes(),
        &signature::sign(b"calendar-feed", expected.expose().as_bytes()),
    );
    if !matches {
        return (StatusCode::UNAUTHORIZED, "bad or missing token").into_response();
    }
    let environment = match query.env.as_deref().map(crate::domain::ids::Name::parse) {
        None => None,
        Some(Ok(name)) => Some(name),
        Some(Err(_)) => return (StatusCode::NOT_FOUND, "unknown environment").into_response(),
    };
    let feed = blocking(&state.engine, move |engine| {
        engine.calendar_feed(environment.as_ref())
    })
    .await;
    match feed {
        None => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
        Some(Ok(body)) => {
            ([("content-type", "text/calendar; charset=utf-8")], body).into_response()
        }
        Some(Err(crate::engine::EngineError::Refused(why))) => {
            (StatusCode::NOT_FOUND, why.to_string()).into_response()
        }
        Some(Err(error)) => {
            tracing::error!(%error, "building the calendar feed failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct CallbackBody {
    release: String,
    job: String,
    status: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    message: Option<String>,
    /// Unix seconds when the pipeline signed it; inside the signed body so it can't be swapped.
    timestamp: i64,
}

/// A signed callback's body, checked: well-formed, fresh, a known status
/// and a release id. The refusal says which status to answer and why.
pub fn decode_callback(body: &[u8], now: i64) -> Result<Callback, (StatusCode, &'static str)> {
    let report = serde_json::from_slice::<CallbackBody>(body).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "expected {release, job, status, url?, message?, timestamp}",
        )
    })?;
    if !crate::ci::signature::within_window(now, report.timestamp, REPLAY_WINDOW_SECS) {
        return Err((
            StatusCode::UNAUTHORIZED,
            "timestamp outside the 5-minute window (stale or replayed)",
        ));
    }
    let outcome = match report.status.as_str() {
        "started" => None,
        "succeeded" => Some(JobOutcome::Succeeded),
        "failed" => Some(JobOutcome::Failed),
        _ => {
            return Err((
                StatusCode::BAD_REQUEST,
                "status must be started, succeeded or failed",
            ))
        }
    };
    let release = ReleaseId::parse(&report.release)
        .map_err(|_| (StatusCode::NOT_FOUND, "unknown release"))?;
    Ok(Callback {
        release,
        job: report.job,
        outcome,
        url: report.url,
        message: report.message,
    })
}

fn reject(state: &HttpState, status: StatusCode, error: &str) -> Response {
    Metrics::count(&state.metrics.callbacks_rejected);
    (status, Json(json!({ "error": error }))).into_response()
}

async fn ci_callback(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let arrived = Instant::now();
    // Authenticate before parsing: the body is only read once a secret signed it.
    let Some(given) = headers.get(signature::HEADER).and_then(|v| v.to_str().ok()) else {
        return reject(
            &state,
            StatusCode::UNAUTHORIZED,
            "missing X-Hub-Signature-256",
        );
    };
    let config = state.engine.config();
    let Some(signer) = config.callback_targets().find(|t| {
        t.callback_secret
            .as_ref()
            .is_some_and(|s| signature::verify(s.expose().as_bytes(), &body, given))
    }) else {
        return reject(&state, StatusCode::UNAUTHORIZED, "bad signature");
    };
    let now = state.clock.now().timestamp();
    let callback = match decode_callback(&body, now) {
        Ok(callback) => callback,
        Err((status, why)) => return reject(&state, status, why),
    };
    let release_id = callback.release;
    let read = blocking(&state.engine, move |engine| engine.release(release_id)).await;
    let release = match read
        .unwrap_or_else(|| Err(crate::store::StoreError::Storage("the read stopped".into())))
    {
        Ok(Some(release)) => release,
        Ok(None) => return reject(&state, StatusCode::NOT_FOUND, "unknown release"),
        Err(error) => {
            tracing::error!(%error, "reading a release for a callback failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "internal error" })),
            )
                .into_response();
        }
    };
    // One target's secret may only report on its own releases.
    let owner = config.ci_for(&release.service, &release.environment);
    if owner.and_then(|t| t.callback_secret.as_ref()) != signer.callback_secret.as_ref() {
        return reject(
            &state,
            StatusCode::UNAUTHORIZED,
            "this secret does not sign for that release's CI target",
        );
    }
    let job = callback.job.clone();
    let result = blocking(&state.engine, move |engine| engine.callback(&callback))
        .await
        .unwrap_or(Err(CallbackError::Internal));
    // A crash here: recorded, not answered. The pipeline sends it again,
    // and the second copy is answered "duplicate".
    crate::failpoint::hit("ci.callback_before_answer", &job);
    state.metrics.observe_callback(arrived.elapsed());
    match result {
        Ok(CallbackResult::Recorded) => {
            Json(json!({ "ok": true, "result": "recorded" })).into_response()
        }
        Ok(CallbackResult::Duplicate) => {
            Json(json!({ "ok": true, "result": "duplicate" })).into_response()
        }
        Err(CallbackError::NotFound(why)) => reject(&state, StatusCode::NOT_FOUND, &why),
        Err(CallbackError::Conflict(why)) => reject(&state, StatusCode::CONFLICT, &why),
        Err(CallbackError::Internal) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "internal error" })),
        )
            .into_response(),
    }
}
