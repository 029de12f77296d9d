//! Socket Mode: the bot dials Slack (`apps.connections.open`, then a
//! websocket) and needs no public URL. slack-morphism keeps the connections,
//! reconnects after `disconnect`, `refresh_requested` or a dropped socket,
//! and sends each envelope's ack when our callback returns Ok. Our callbacks
//! hand the work to a task and return once its command is durable
//! (`chat::ack`); when it is not, they return `NotDurable`, for which the
//! error handler sends no ack, and Slack sends the envelope again.

use std::sync::Arc;

use slack_morphism::prelude::*;

use super::SlackBot;
use crate::chat::ack::{Ack, NotDurable};
use crate::config::SlackConfig;

pub struct SocketMode {
    listener: SlackClientSocketModeListener<SlackClientHyperHttpsConnector>,
}

impl SocketMode {
    /// Opens the connections and starts listening.
    pub async fn start(bot: Arc<SlackBot>, config: &SlackConfig) -> Result<SocketMode, String> {
        let app_token = config
            .app_token
            .as_ref()
            .ok_or("Socket Mode needs the app-level token (xapp-…)")?;
        let callbacks = SlackSocketModeListenerCallbacks::new()
            .with_command_events(on_command)
            .with_interaction_events(on_interaction)
            .with_push_events(on_push);
        let environment = Arc::new(
            SlackClientEventsListenerEnvironment::new(bot.client.clone())
                .with_error_handler(on_error)
                .with_user_state(bot.clone()),
        );
        let socket_config = SlackClientSocketModeConfig::new()
            .with_max_connections_count(config.connections)
            .with_initial_backoff_in_seconds(1);
        let listener = SlackClientSocketModeListener::new(&socket_config, environment, callbacks);
        listener
            .listen_for(&SlackApiToken::new(app_token.expose().into()))
            .await
            .map_err(|e| format!("apps.connections.open failed: {e}"))?;
        listener.start().await;
        Ok(SocketMode { listener })
    }

    pub async fn stop(self) {
        self.listener.shutdown().await;
    }
}

async fn bot(states: &SlackClientEventsUserState) -> Option<Arc<SlackBot>> {
    states
        .read()
        .await
        .get_user_state::<Arc<SlackBot>>()
        .cloned()
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    if let Some(bot) = bot(&states).await {
        acked_when_durable(bot.on_command(event)).await?;
    }
    // An empty payload: Slack shows nothing until the answer comes.
    Ok(SlackCommandEventResponse::new(SlackMessageContent::new()))
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot(&states).await {
        acked_when_durable(bot.on_interaction(event)).await?;
    }
    Ok(())
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot(&states).await {
        acked_when_durable(bot.on_push(event)).await?;
    }
    Ok(())
}

/// Ok once the event's command is durable; else the error that keeps
/// slack-morphism from acking.
async fn acked_when_durable(ack: Ack) -> UserCallbackResult<()> {
    if ack.durable().await {
        Ok(())
    } else {
        Err(Box::new(NotDurable))
    }
}

fn on_error(
    error: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHyperClient>,
    _states: SlackClientEventsUserState,
) -> HttpStatusCode {
    if error.downcast_ref::<NotDurable>().is_some() {
        // No ack: Slack sends the envelope again, and the delivery mark
        // makes it a no-op if the first copy's command did commit.
        return HttpStatusCode::SERVICE_UNAVAILABLE;
    }
    tracing::warn!(%error, "Slack Socket Mode error");
    // Still ack: Slack would only send the same envelope again.
    HttpStatusCode::OK
}
