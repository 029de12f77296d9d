//! The optional HTTP interactions endpoint, `POST /discord/interactions`:
//! `X-Signature-Ed25519` (hex) over `X-Signature-Timestamp` + raw body is
//! checked with the app's public key before the body is read; a bad or
//! missing signature gets 401 (Discord sends some on purpose to check). The
//! response is the HTTP answer, given once what it asks is durable, as on
//! the gateway.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serenity::all::{CreateInteractionResponse, Interaction};
use serenity::interactions_endpoint::Verifier;

use super::inbound::NoResponse;
use super::DiscordBot;

#[derive(Clone)]
struct Endpoint {
    bot: Arc<DiscordBot>,
    verifier: Arc<Verifier>,
}

/// The interactions endpoint URL to give the Discord application.
pub const PATH: &str = "/discord/interactions";

pub fn routes(bot: Arc<DiscordBot>, public_key: &str) -> Result<Router, String> {
    let bytes: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the Discord public key is not 64 hex characters")?;
    let verifier = Verifier::try_new(bytes)
        .map_err(|_| "the Discord public key is not a valid Ed25519 key")?;
    Ok(Router::new()
        .route(PATH, post(interaction))
        .with_state(Endpoint {
            bot,
            verifier: Arc::new(verifier),
        }))
}

async fn interaction(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
    ) else {
        return (
            StatusCode::UNAUTHORIZED,
            "missing X-Signature-Ed25519 / X-Signature-Timestamp",
        )
            .into_response();
    };
    if endpoint
        .verifier
        .verify(signature, timestamp, &body)
        .is_err()
    {
        tracing::warn!("refused a Discord interaction with a bad signature");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction = match serde_json::from_slice::<Interaction>(&body) {
        Ok(interaction) => interaction,
        Err(error) => {
            tracing::warn!(%error, "a signed Discord interaction could not be read");
            return (
                StatusCode::BAD_REQUEST,
                format!("unreadable interaction: {error}"),
            )
                .into_response();
        }
    };
    let response = match endpoint.bot.response(&interaction).await {
        Ok(response) => response,
        Err(NoResponse::Redelivery) => {
            return (StatusCode::CONFLICT, "interaction already answered").into_response()
        }
        Err(NoResponse::NotDurable) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "not answered: its command is not durable yet",
            )
                .into_response()
        }
    };
    if let CreateInteractionResponse::Pong = response {
        // PONG is exactly `{"type": 1}`; serenity would add `"data": null`.
        return Json(serde_json::json!({ "type": 1 })).into_response();
    }
    Json(response).into_response()
}
