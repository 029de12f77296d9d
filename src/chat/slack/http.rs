//! Slack's HTTP mode on the bot's axum listener: `/slack/commands`,
//! `/slack/interactions` and `/slack/events`. Each request's signature is
//! checked before its body is parsed; a bad, missing or stale one gets 401
//! and changes nothing. The answer is an empty 200 once the command is
//! durable (`chat::ack`), else a 503 that leaves Slack to retry; the
//! command's own answer follows on `response_url` or in the thread.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use slack_morphism::prelude::*;

use super::signing::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::SlackBot;
use crate::chat::ack::Ack;
use crate::clock::Clock;
use crate::config::Secret;

#[derive(Clone)]
struct SlackHttp {
    bot: Arc<SlackBot>,
    secret: Secret,
    clock: Arc<dyn Clock>,
}

/// The three endpoints to give the Slack app's config (see the manifest).
pub const PATHS: [&str; 3] = ["/slack/commands", "/slack/interactions", "/slack/events"];

pub fn routes(bot: Arc<SlackBot>, secret: Secret, clock: Arc<dyn Clock>) -> Router {
    let [commands, interactions, events] = PATHS;
    Router::new()
        .route(commands, post(command))
        .route(interactions, post(interaction))
        .route(events, post(event))
        .with_state(SlackHttp { bot, secret, clock })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The signature check every endpoint runs first.
fn authenticate(state: &SlackHttp, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
    signing::verify(
        state.secret.expose(),
        header(headers, TIMESTAMP_HEADER),
        header(headers, SIGNATURE_HEADER),
        body,
        state.clock.now(),
    )
    .map_err(|error| {
        tracing::warn!(%error, "refused an unsigned Slack request");
        Refused(error)
    })
}

/// A request whose signature failed: 401, with what was wrong.
struct Refused(signing::SigningError);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, self.0.to_string()).into_response()
    }
}

/// 200 once the event's command is durable; 503 (no ack: Slack retries,
/// and the delivery mark drops the copy if the first did commit) when not.
async fn acked_when_durable(ack: Ack) -> Response {
    if ack.durable().await {
        StatusCode::OK.into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not handled yet; send it again",
        )
            .into_response()
    }
}

fn bad_request(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::warn!(%error, "a signed Slack {what} could not be read");
    (
        StatusCode::BAD_REQUEST,
        format!("unreadable {what}: {error}"),
    )
        .into_response()
}

async fn command(State(state): State<SlackHttp>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = authenticate(&state, &headers, &body) {
        return refused.into_response();
    }
    // Slack checks the certificate now and then with `ssl_check=1`: answer 200.
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if form
        .iter()
        .any(|(key, value)| key == "ssl_check" && value == "1")
    {
        return StatusCode::OK.into_response();
    }
    match serde_urlencoded::from_bytes::<SlackCommandEvent>(&body) {
        Ok(event) => acked_when_durable(state.bot.on_command(event)).await,
        Err(error) => bad_request("slash command", error),
    }
}

/// Interactivity posts a form with one field, `payload`, holding JSON.
#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

async fn interaction(State(state): State<SlackHttp>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = authenticate(&state, &headers, &body) {
        return refused.into_response();
    }
    let event = serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .map_err(|e| e.to_string())
        .and_then(|form| {
            serde_json::from_str::<SlackInteractionEvent>(&form.payload).map_err(|e| e.to_string())
        });
    match event {
        Ok(event) => acked_when_durable(state.bot.on_interaction(event)).await,
        Err(error) => bad_request("interaction", error),
    }
}

async fn event(State(state): State<SlackHttp>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = authenticate(&state, &headers, &body) {
        return refused.into_response();
    }
    match serde_json::from_slice::<SlackPushEvent>(&body) {
        Ok(SlackPushEvent::UrlVerification(challenge)) => {
            Json(serde_json::json!({ "challenge": challenge.challenge })).into_response()
        }
        Ok(SlackPushEvent::EventCallback(event)) => {
            acked_when_durable(state.bot.on_push(event)).await
        }
        Ok(SlackPushEvent::AppRateLimited(limited)) => {
            tracing::warn!(
                ?limited,
                "Slack is holding back events: the app went over its limit"
            );
            StatusCode::OK.into_response()
        }
        Err(error) => bad_request("event", error),
    }
}
