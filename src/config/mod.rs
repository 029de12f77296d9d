//! Typed config, read once from one TOML file and checked as a whole:
//! every problem is reported with its key path and line.

pub mod chat;
pub mod ci;
mod dashboard;
mod incidents;
pub use dashboard::Dashboard;
pub use incidents::IncidentPolicy;
mod policy;
mod raw;
pub mod source;
pub use source::{ScmKind, Source};
pub mod store;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::domain::cron_spec::CronSpec;
use crate::domain::ids::{ChannelRef, Name, UserRef};
use crate::domain::policy::{Directory, EnvPolicy, Permission};

pub use chat::{DiscordConfig, SlackConfig, SlackMode};
pub use ci::{CiKind, CiTarget, Secret};

/// Where the demo config lives, relative to the working directory.
pub const DEFAULT_PATH: &str = "config/releasebot.toml";

#[derive(Debug, Clone)]
pub struct Service {
    pub name: Name,
    pub description: String,
    /// Environments it may go to; `None` means all.
    pub environments: Option<Vec<Name>>,
    pub channels: Vec<ChannelRef>,
    /// CI targets by environment that override the environment's own.
    pub ci: BTreeMap<Name, CiTarget>,
    /// Where its code lives (`[services.*.source]`), for notes from it.
    pub source: Option<Source>,
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub policy: EnvPolicy,
    pub ci: CiTarget,
}

/// What a scheduled digest reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// Approvals waiting, oldest first.
    Pending,
    /// Today's calendar.
    Today,
    /// This week's calendar.
    Week,
    /// Shipped, scheduled, blocked and rolled back.
    Status,
}

/// What a cron job does when its slot passed while the bot was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    Skip,
    /// Run once on start if missed by less than this.
    RunOnce(chrono::Duration),
}

/// A digest posted to a channel on a crontab schedule.
#[derive(Debug, Clone)]
pub struct ScheduledDigest {
    pub name: String,
    pub cron: CronSpec,
    pub timezone: Tz,
    pub digest: Digest,
    pub channel: ChannelRef,
    pub missed: Missed,
}

/// What the HTTP listener allows: a client that sends its headers or body
/// too slowly is cut off, and only so many connections are open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub header_timeout: std::time::Duration,
    pub body_timeout: std::time::Duration,
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// How outbound calls are made: how long each may take, how many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Any one outbound call (Slack Web API, Discord REST, CI) gives up after this.
    pub timeout: std::time::Duration,
    /// Announcement and CI deliveries under way at once; one slow channel or
    /// CI target holds up only its own.
    pub in_flight: usize,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            timeout: std::time::Duration::from_secs(10),
            in_flight: 8,
        }
    }
}

/// Per-release reminders.
#[derive(Debug, Clone, Default)]
pub struct Reminders {
    pub before_window: Option<chrono::Duration>,
    pub approval_nudge: Option<chrono::Duration>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub timezone: Tz,
    pub data_dir: Option<PathBuf>,
    /// Where `run` serves HTTP (health, metrics, CI callbacks); off when `None`.
    pub http_listen: Option<SocketAddr>,
    /// What the HTTP listener allows each client (`[http]`).
    pub http_limits: HttpLimits,
    /// Which store keeps the bot's state (`[store]`).
    pub store: store::StoreSettings,
    /// Slack, when the file has a `[slack]` section.
    pub slack: Option<SlackConfig>,
    /// Discord, when the file has a `[discord]` section.
    pub discord: Option<DiscordConfig>,
    pub shell_user: UserRef,
    /// Roles from the config file; chat grants come on top (see `Engine::directory`).
    pub directory: Directory,
    /// Who may grant and revoke roles in chat.
    pub admin: Permission,
    /// The token `/calendar.ics` asks for; no feed without one.
    pub calendar_token: Option<Secret>,
    pub schedules: Vec<ScheduledDigest>,
    pub reminders: Reminders,
    pub delivery: Delivery,
    /// Timezones by user or channel reference; others use `timezone`.
    pub timezones: BTreeMap<String, Tz>,
    pub services: BTreeMap<Name, Service>,
    pub environments: BTreeMap<Name, Environment>,
    /// Words per audience (`[audiences.*]`).
    pub audiences: BTreeMap<Name, Audience>,
    /// Incident severities and update cadence (`[incidents]`).
    pub incidents: IncidentPolicy,
    /// The pages in the browser (`[dashboard]`).
    pub dashboard: Dashboard,
}

/// One audience (support, customers, executives): where it hears, and its
/// own words for each kind of text it has a template for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub channels: Vec<ChannelRef>,
    pub templates: BTreeMap<String, crate::domain::template::Template>,
}

/// One thing wrong in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `environments.production.approvals`
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (line {line}): {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Everything wrong with a config file, all at once.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: {n} problem{}",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            problems: vec![Problem {
                key: "(file)".into(),
                line: None,
                message: format!("cannot read it: {e}"),
            }],
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        validate::parse(text).map_err(|problems| ConfigError {
            file: file.to_string(),
            problems,
        })
    }

    /// The timezone a person or channel reads times in.
    pub fn timezone_of(&self, reference: &str) -> Tz {
        self.timezones
            .get(reference)
            .copied()
            .unwrap_or(self.timezone)
    }

    pub fn environment(&self, name: &Name) -> Option<&Environment> {
        self.environments.get(name)
    }

    /// The CI target for a service in an environment: the service's own, else the environment's.
    pub fn ci_for(&self, service: &Name, environment: &Name) -> Option<&CiTarget> {
        self.services
            .get(service)
            .and_then(|s| s.ci.get(environment))
            .or_else(|| self.environments.get(environment).map(|e| &e.ci))
    }

    /// Every CI target with a callback secret, for authenticating callbacks.
    pub fn callback_targets(&self) -> impl Iterator<Item = &CiTarget> {
        let env_targets = self.environments.values().map(|e| &e.ci);
        let service_targets = self.services.values().flat_map(|s| s.ci.values());
        env_targets
            .chain(service_targets)
            .filter(|t| t.callback_secret.is_some())
    }

    /// The environment used when a request names none: the only one, or `staging`.
    pub fn default_environment(&self) -> Option<&Name> {
        if self.environments.len() == 1 {
            return self.environments.keys().next();
        }
        self.environments.keys().find(|n| n.as_str() == "staging")
    }

    /// Every channel that announces a release of `service` to `environment`.
    pub fn channels_for(&self, service: &Name, environment: &Name) -> Vec<ChannelRef> {
        let mut channels: Vec<ChannelRef> = Vec::new();
        let env_channels = self
            .environments
            .get(environment)
            .map(|e| &e.policy.channels);
        let service_channels = self.services.get(service).map(|s| &s.channels);
        for channel in env_channels.into_iter().chain(service_channels).flatten() {
            if !channels.contains(channel) {
                channels.push(channel.clone());
            }
        }
        channels
    }

    /// Every channel any release is announced in, each once.
    pub fn announcement_channels(&self) -> Vec<ChannelRef> {
        let env_channels = self
            .environments
            .values()
            .flat_map(|e| e.policy.channels.iter());
        let service_channels = self.services.values().flat_map(|s| s.channels.iter());
        let mut channels: Vec<ChannelRef> = env_channels.chain(service_channels).cloned().collect();
        channels.sort();
        channels.dedup();
        channels
    }

    pub fn service_names(&self) -> String {
        names(self.services.keys())
    }

    pub fn environment_names(&self) -> String {
        names(self.environments.keys())
    }
}

fn names<'a>(list: impl Iterator<Item = &'a Name>) -> String {
    list.map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
