//! Discord: `/release` with typed options (registered per guild), Approve /
//! Reject buttons, a thread per release, approvals written in that thread
//! and `@releasebot` mentions in; embeds edited in place out. Interactions
//! come over the gateway (serenity) or, optionally, a signed HTTP endpoint.
//! Translation only: the engine decides.

mod commands;
mod gateway;
pub mod http;
pub(crate) mod inbound;
pub mod render;
mod rest;
mod sink;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serenity::all::{ApplicationId, GuildId, Http, HttpBuilder, UserId};

use crate::chat::tasks::EventTasks;
use crate::config::DiscordConfig;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::engine::Engine;

pub(crate) use commands::request;
pub use commands::subcommands;
pub use gateway::Gateway;

pub struct DiscordBot {
    engine: Engine,
    http: Arc<Http>,
    /// The client the announcement calls use (see `rest`), with the same
    /// timeout as `http`'s.
    rest: reqwest::Client,
    config: DiscordConfig,
    events: EventTasks,
    /// The bot's own user id (from READY), to spot mentions.
    me: OnceLock<UserId>,
    /// Discord channels that carry announcements (and so release threads),
    /// from the config, which does not change while the bot runs.
    announcement_channels: Vec<ChannelRef>,
    /// The Discord roles that hold bot roles in the config.
    role_groups: BTreeSet<UserRef>,
}

/// A REST client for the config: through `proxy_url` when set (serenity
/// applies a proxy only with its own rate limiter off, so the proxy then
/// owns rate limiting), else straight to Discord with serenity's limiter.
/// Every request gives up after `timeout` (`[delivery] timeout_secs`).
pub fn rest_client(config: &DiscordConfig, timeout: Duration) -> Http {
    serenity_client(config, http_client(timeout))
}

/// The HTTP client for Discord's REST API: every request gives up after
/// `timeout`; redirects are not followed, so the token goes nowhere else.
fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the Discord HTTP client builds with static settings")
}

fn serenity_client(config: &DiscordConfig, client: reqwest::Client) -> Http {
    let mut builder = HttpBuilder::new(config.token.expose()).client(client);
    if let Some(proxy) = &config.proxy_url {
        builder = builder.proxy(proxy).ratelimiter_disabled(true);
    }
    if let Some(id) = config.application_id {
        builder = builder.application_id(ApplicationId::new(id));
    }
    builder.build()
}

impl DiscordBot {
    pub fn new(engine: Engine, config: &DiscordConfig, events: EventTasks) -> Arc<DiscordBot> {
        let timeout = engine.config().delivery.timeout;
        let bot_config = engine.config();
        let announcement_channels = bot_config
            .announcement_channels()
            .into_iter()
            .filter(|c| c.platform() == "discord")
            .collect();
        let role_groups = bot_config
            .directory
            .groups()
            .filter(|g| g.platform() == "discord")
            .cloned()
            .collect();
        let rest = http_client(timeout);
        Arc::new(DiscordBot {
            engine,
            http: Arc::new(serenity_client(config, rest.clone())),
            rest,
            config: config.clone(),
            events,
            me: OnceLock::new(),
            announcement_channels,
            role_groups,
        })
    }

    /// The application id: from the config, READY, or asked of Discord.
    async fn application_id(&self) -> Option<ApplicationId> {
        if let Some(id) = self.http.application_id() {
            return Some(id);
        }
        match self.http.get_current_application_info().await {
            Ok(info) => {
                self.http.set_application_id(info.id);
                Some(info.id)
            }
            Err(error) => {
                tracing::error!(%error, "could not learn the Discord application id");
                None
            }
        }
    }

    /// Registers `/release` in every configured guild, unless the command
    /// there is already exactly ours: restarts neither duplicate nor churn it.
    pub async fn register_commands(&self) {
        if self.application_id().await.is_none() {
            return;
        }
        let wanted = commands::definition(self.engine.config());
        let wanted_json = serde_json::to_value(vec![&wanted]).unwrap_or_default();
        for guild in &self.config.guilds {
            let guild = GuildId::new(*guild);
            let current = match guild.get_commands(&self.http).await {
                Ok(current) => serde_json::to_value(current).unwrap_or_default(),
                Err(error) => {
                    tracing::warn!(%error, %guild, "reading the guild's commands failed; registering anyway");
                    serde_json::Value::Null
                }
            };
            if commands::same_commands(&current, &wanted_json) {
                tracing::debug!(%guild, "/release is registered and current");
                continue;
            }
            match guild.set_commands(&self.http, vec![wanted.clone()]).await {
                Ok(_) => tracing::info!(%guild, "registered /release"),
                Err(error) => tracing::error!(%error, %guild, "registering /release failed"),
            }
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

    /// The name to show for someone of another platform (`slack:U…`).
    fn display(&self, user: &crate::domain::ids::UserRef) -> Option<String> {
        self.engine.name_of(user)
    }

    /// Engine text as Discord shows it (mentions for Discord people and
    /// roles, names for others), cut to one message, and who it may ping.
    fn shown(
        &self,
        text: &crate::domain::text::Text,
    ) -> (String, serenity::all::CreateAllowedMentions) {
        (
            render::content(text, &|user| self.display(user)),
            render::allowed_mentions(text),
        )
    }
}

/// The invite link for the bot with the permissions it uses: view channels,
/// send messages, embed links, read history, create public threads and send
/// messages in threads; scopes `bot` and `applications.commands`.
pub fn invite_url(application_id: u64) -> String {
    const VIEW_CHANNEL: u64 = 1 << 10;
    const SEND_MESSAGES: u64 = 1 << 11;
    const EMBED_LINKS: u64 = 1 << 14;
    const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    let permissions = VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | READ_MESSAGE_HISTORY
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS;
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot%20applications.commands&permissions={permissions}"
    )
}

/// The Discord connection while the bot runs.
pub struct DiscordRunning {
    gateway: Option<Gateway>,
}

impl DiscordRunning {
    /// Connects to the gateway (when configured) and mounts the HTTP
    /// interactions endpoint on `app` (when a public key is set).
    pub async fn start(
        bot: Arc<DiscordBot>,
        app: &mut crate::app::App,
    ) -> Result<DiscordRunning, String> {
        if let Some(key) = &bot.config.public_key {
            app.mount(&[http::PATH], http::routes(bot.clone(), key)?);
            if !bot.config.gateway {
                // Without READY to wait for, register now, in the background.
                let registering = bot.clone();
                bot.events.spawn("registering /release", async move {
                    registering.register_commands().await
                });
            }
        }
        let gateway = bot.config.gateway.then(|| Gateway::start(bot.clone()));
        Ok(DiscordRunning { gateway })
    }

    pub async fn stop(self) {
        if let Some(gateway) = self.gateway {
            gateway.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invite_asks_for_what_the_bot_uses() {
        // 1024 + 2048 + 16384 + 65536 + 2^35 + 2^38
        assert_eq!(
            invite_url(1100000000000000001),
            "https://discord.com/oauth2/authorize?client_id=1100000000000000001&scope=bot%20applications.commands&permissions=309237730304"
        );
    }
}
