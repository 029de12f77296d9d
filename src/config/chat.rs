//! How the bot reaches the chat platforms; tokens come from environment
//! variables named in the file, never from the file itself.

use super::ci::Report;
use super::raw::{RawDiscord, RawSlack};
use super::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackMode {
    /// Socket Mode: the bot dials out to Slack; no public URL needed.
    Socket,
    /// Slash commands, interactivity and events arrive on the HTTP listener.
    Http,
}

#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub mode: SlackMode,
    /// `https://slack.com/api`, without a trailing slash.
    pub api_url: String,
    pub bot_token: Secret,
    /// Socket Mode only.
    pub app_token: Option<Secret>,
    /// HTTP mode only.
    pub signing_secret: Option<Secret>,
    pub connections: u32,
}

fn env_secret(key: &str, var: &str, report: &mut Report<'_>) -> Secret {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Secret::new(value.trim()),
        _ => {
            report(key, format!("environment variable {var} is not set"));
            Secret::new("")
        }
    }
}

pub fn slack(raw: &RawSlack, report: &mut Report<'_>) -> SlackConfig {
    let mode = match raw.mode.as_str() {
        "socket" => SlackMode::Socket,
        "http" => SlackMode::Http,
        other => {
            report(
                "mode",
                format!("`{other}` is not a mode; use \"socket\" or \"http\""),
            );
            SlackMode::Socket
        }
    };
    let api_url = raw.api_url.trim_end_matches('/').to_string();
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        report(
            "api_url",
            format!("`{api_url}` is not an http(s) URL like https://slack.com/api"),
        );
    }
    if raw.connections == 0 || raw.connections > 10 {
        report(
            "connections",
            "must be 1 to 10 (Slack allows 10 Socket Mode connections per app)".into(),
        );
    }
    let bot_token = env_secret("bot_token_env", &raw.bot_token_env, report);
    let (app_token, signing_secret) = match mode {
        SlackMode::Socket => (
            Some(env_secret("app_token_env", &raw.app_token_env, report)),
            None,
        ),
        SlackMode::Http => (
            None,
            Some(env_secret(
                "signing_secret_env",
                &raw.signing_secret_env,
                report,
            )),
        ),
    };
    SlackConfig {
        mode,
        api_url,
        bot_token,
        app_token,
        signing_secret,
        connections: raw.connections.clamp(1, 10),
    }
}

#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: Secret,
    pub application_id: Option<u64>,
    pub guilds: Vec<u64>,
    /// Replaces `https://discord.com` for every REST call when set.
    pub proxy_url: Option<String>,
    /// Hex Ed25519 key; enables `POST /discord/interactions`.
    pub public_key: Option<String>,
    pub gateway: bool,
}

fn snowflake(key: &str, text: &str, report: &mut Report<'_>) -> Option<u64> {
    match text.trim().parse::<u64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            report(
                key,
                format!("`{text}` is not a Discord id (a number like 80351110224678912)"),
            );
            None
        }
    }
}

pub fn discord(raw: &RawDiscord, report: &mut Report<'_>) -> DiscordConfig {
    let token = env_secret("token_env", &raw.token_env, report);
    let application_id = raw
        .application_id
        .as_deref()
        .and_then(|id| snowflake("application_id", id, report));
    let guilds = raw
        .guilds
        .iter()
        .filter_map(|guild| snowflake("guilds", guild, report))
        .collect::<Vec<_>>();
    if raw.guilds.is_empty() {
        report(
            "guilds",
            "name at least one guild id where /release is registered".into(),
        );
    }
    let proxy_url = raw.proxy_url.as_ref().map(|url| {
        let url = url.trim_end_matches('/').to_string();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            report("proxy_url", format!("`{url}` is not an http(s) URL"));
        }
        url
    });
    let public_key = raw.public_key_env.as_ref().map(|var| {
        let key = env_secret("public_key_env", var, report);
        let valid = hex::decode(key.expose()).is_ok_and(|bytes| bytes.len() == 32);
        if !key.expose().is_empty() && !valid {
            report(
                "public_key_env",
                format!("{var} does not hold a public key: expected 64 hex characters"),
            );
        }
        key.expose().to_string()
    });
    if !raw.gateway && public_key.is_none() {
        report(
            "gateway",
            "with the gateway off, interactions must come over HTTP: set public_key_env".into(),
        );
    }
    DiscordConfig {
        token,
        application_id,
        guilds,
        proxy_url,
        public_key,
        gateway: raw.gateway,
    }
}
