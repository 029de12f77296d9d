//! Slack: `/release` slash commands, Approve / Reject buttons, approvals
//! written in a release's thread and `@releasebot` mentions in; Block Kit
//! announcements, edited in place, out. Socket Mode by default, or HTTP mode
//! on the bot's axum listener. Translation only: the engine decides.

pub mod http;
mod inbound;
mod names;
pub mod render;
pub mod signing;
mod sink;
pub mod socket;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use slack_morphism::prelude::*;

use crate::chat::tasks::EventTasks;
use crate::clock::Clock;
use crate::config::SlackConfig;
use crate::domain::ids::UserRef;
use crate::domain::text::Text;
use crate::engine::Engine;
use crate::notify::DeliveryError;

pub use names::Names;

/// The Web API client, whatever base URL it talks to.
pub type Client = SlackClient<SlackClientHyperHttpsConnector>;

/// Everything the Slack adapter needs, shared by both connection modes and
/// by the outbound sink.
pub struct SlackBot {
    engine: Engine,
    client: Arc<Client>,
    token: SlackApiToken,
    events: EventTasks,
    clock: Arc<dyn Clock>,
    names: Names,
    /// The bot's own user id (from `auth.test`), to ignore its own messages
    /// and recognise mentions.
    bot_user: OnceLock<String>,
    /// For `response_url` posts, which are not Web API calls.
    http: reqwest::Client,
    /// How long one Web API call may take (`[delivery] timeout_secs`):
    /// slack-morphism's connector has no request timeout of its own.
    timeout: Duration,
}

/// A client that honours `api_url` for every Web API call (and so for
/// Socket Mode's `apps.connections.open`). Plain `http://` is allowed so a
/// local fake or an internal proxy can stand in for Slack.
pub fn client(config: &SlackConfig) -> std::io::Result<Client> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    let connector =
        SlackClientHyperConnector::with_connector(https).with_slack_api_url(&config.api_url);
    Ok(SlackClient::new(connector))
}

impl SlackBot {
    pub fn new(
        engine: Engine,
        config: &SlackConfig,
        events: EventTasks,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Arc<SlackBot>> {
        let token = SlackApiToken::new(config.bot_token.expose().into());
        let timeout = engine.config().delivery.timeout;
        Ok(Arc::new(SlackBot {
            engine,
            client: Arc::new(client(config)?),
            token,
            events,
            clock,
            names: Names::new(timeout),
            bot_user: OnceLock::new(),
            http: reqwest::Client::builder()
                .timeout(timeout)
                // response_url is posted to as Slack gave it, never elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(std::io::Error::other)?,
            timeout,
        }))
    }

    /// Learns the bot's own user id and the members of the Slack user groups
    /// that hold roles; call once at start (and again to refresh groups).
    pub async fn prepare(&self) {
        let session = self.client.open_session(&self.token);
        match self.timed("auth.test", session.auth_test()).await {
            Some(Ok(me)) => {
                let _ = self.bot_user.set(me.user_id.to_string());
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "Slack auth.test failed; mentions will be matched loosely")
            }
            None => {}
        }
        self.names.refresh_groups(&session, &self.engine).await;
    }

    /// Keeps user-group memberships current: refreshed every `every`.
    pub async fn refresh_groups_every(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            let session = self.client.open_session(&self.token);
            self.names.refresh_groups(&session, &self.engine).await;
        }
    }

    /// A Web API call bounded by the timeout; `None` (logged) when Slack did
    /// not answer in time.
    async fn timed<T>(
        &self,
        call: &str,
        request: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, request).await {
            Ok(answer) => Some(answer),
            Err(_) => {
                tracing::warn!(call, timeout = ?self.timeout, "Slack did not answer in time");
                None
            }
        }
    }

    fn session(&self) -> SlackClientSession<'_, SlackClientHyperHttpsConnector> {
        self.client.open_session(&self.token)
    }

    /// `text` as mrkdwn, with the names of the Slack people it names
    /// looked up first (once, then cached).
    async fn mrkdwn(&self, text: &Text) -> String {
        self.names
            .resolve(&self.session(), render::user_ids(text), &self.engine)
            .await;
        render::mrkdwn(text, &|user| self.display(user))
    }

    /// The name to show for someone: Slack's own for Slack people, what
    /// the engine learned from their platform for others.
    fn display(&self, user: &UserRef) -> Option<String> {
        match user.platform() {
            "slack" => self.names.get(user.local()),
            _ => self.engine.name_of(user),
        }
    }

    /// Marks a delivery that runs no command (a button opening a modal)
    /// handled; false for a redelivery.
    async fn first_delivery(&self, delivery: &str) -> bool {
        crate::chat::first_delivery(&self.engine, delivery).await
    }

    /// Whether a delivery was handled already; a command's own transaction
    /// marks it (see `chat::run`).
    async fn seen(&self, delivery: &str) -> bool {
        crate::chat::seen(&self.engine, delivery).await
    }
}

/// What a Web API failure means for the outbox.
fn delivery_error(error: slack_morphism::errors::SlackClientError) -> DeliveryError {
    match error {
        slack_morphism::errors::SlackClientError::RateLimitError(limit) => {
            DeliveryError::RetryAfter(limit.retry_after.unwrap_or(Duration::from_secs(1)))
        }
        slack_morphism::errors::SlackClientError::ApiError(api) => match api.code.as_str() {
            // Slack's own trouble: worth another try.
            "internal_error"
            | "fatal_error"
            | "service_unavailable"
            | "request_timeout"
            | "ratelimited" => DeliveryError::Transient(api.code),
            _ => DeliveryError::Permanent(format!("Slack said {}", api.code)),
        },
        slack_morphism::errors::SlackClientError::HttpError(http)
            if http.status_code.is_client_error() =>
        {
            DeliveryError::Permanent(format!("Slack answered HTTP {}", http.status_code))
        }
        other => DeliveryError::Transient(other.to_string()),
    }
}

/// The Slack connection while the bot runs.
pub struct SlackRunning {
    socket: Option<socket::SocketMode>,
    refresher: tokio::task::JoinHandle<()>,
}

/// How often user-group memberships are read again.
const GROUP_REFRESH: Duration = Duration::from_secs(600);

impl SlackRunning {
    /// Starts what the mode needs: Socket Mode connections, or the HTTP
    /// routes (mounted on `app`, which must not serve HTTP yet).
    pub async fn start(
        bot: Arc<SlackBot>,
        config: &SlackConfig,
        app: &mut crate::app::App,
    ) -> Result<SlackRunning, String> {
        // Learning our own id and the user groups needs Slack; never hold up
        // the start (and the HTTP listener) for it.
        let preparing = bot.clone();
        bot.events.spawn(
            "learning Slack's ids",
            async move { preparing.prepare().await },
        );
        let socket = match config.mode {
            crate::config::SlackMode::Socket => {
                Some(socket::SocketMode::start(bot.clone(), config).await?)
            }
            crate::config::SlackMode::Http => {
                let secret = config
                    .signing_secret
                    .clone()
                    .ok_or("HTTP mode needs the signing secret")?;
                app.mount(
                    &http::PATHS,
                    http::routes(bot.clone(), secret, bot.clock.clone()),
                );
                None
            }
        };
        let refresher = tokio::spawn(bot.refresh_groups_every(GROUP_REFRESH));
        Ok(SlackRunning { socket, refresher })
    }

    pub async fn stop(self) {
        self.refresher.abort();
        if let Some(socket) = self.socket {
            socket.stop().await;
        }
    }
}
