//! Socket Mode: the bot dials Slack (`apps.connections.open`, then a
//! websocket) and needs no public URL. slack-morphism keeps the connections,
//! reconnects after `disconnect`, `refresh_requested` or a dropped socket,
//! and sends each envelope's ack when our callback returns; our callbacks
//! hand the work to a task and return at once.

use std::sync::Arc;

use slack_morphism::prelude::*;

use super::SlackBot;
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
        bot.on_command(event);
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
        bot.on_interaction(event);
    }
    Ok(())
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot(&states).await {
        bot.on_push(event);
    }
    Ok(())
}

fn on_error(
    error: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHyperClient>,
    _states: SlackClientEventsUserState,
) -> HttpStatusCode {
    tracing::warn!(%error, "Slack Socket Mode error");
    // Still ack: Slack would only send the same envelope again.
    HttpStatusCode::OK
}
