//! The config file's shape, exactly as written in TOML. Unknown keys are
//! errors, so a typo never silently falls back to a default.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub bot: RawBot,
    #[serde(default)]
    pub shell: RawShell,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub calendar: RawCalendar,
    /// Connects to Slack when present.
    #[serde(default)]
    pub slack: Option<RawSlack>,
    /// Connects to Discord when present.
    #[serde(default)]
    pub discord: Option<RawDiscord>,
    #[serde(default)]
    pub schedules: Vec<RawSchedule>,
    /// Timezones of people and channels (`"shell:bob" = "America/New_York"`).
    #[serde(default)]
    pub timezones: BTreeMap<String, String>,
    #[serde(default)]
    pub reminders: RawReminders,
    #[serde(default)]
    pub delivery: RawDelivery,
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub services: BTreeMap<String, RawService>,
    #[serde(default)]
    pub environments: BTreeMap<String, RawEnvironment>,
    /// Words per audience (`[audiences.customers]`): channels and templates.
    #[serde(default)]
    pub audiences: BTreeMap<String, RawAudience>,
    #[serde(default)]
    pub incidents: super::incidents::RawIncidents,
    #[serde(default)]
    pub dashboard: super::dashboard::RawDashboard,
}

/// Unknown keys land in `templates` and are refused there, by kind.
#[derive(Debug, Deserialize)]
pub struct RawAudience {
    #[serde(default)]
    pub channels: Vec<String>,
    /// Template text by kind (`notes`, `announcement`, …).
    #[serde(flatten)]
    pub templates: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBot {
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub data_dir: Option<String>,
    /// Roles whose holders may grant and revoke roles in chat.
    #[serde(default = "release_managers")]
    pub admin_roles: Vec<String>,
}

impl Default for RawBot {
    fn default() -> Self {
        RawBot {
            timezone: utc(),
            data_dir: None,
            admin_roles: release_managers(),
        }
    }
}

fn release_managers() -> Vec<String> {
    vec!["release-manager".to_string()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlack {
    /// `socket` (default: no public URL needed) or `http` (Events API and
    /// interactivity on the bot's HTTP listener).
    #[serde(default = "socket")]
    pub mode: String,
    /// Web API base; GovSlack and local fakes use another.
    #[serde(default = "slack_api")]
    pub api_url: String,
    #[serde(default = "slack_bot_token")]
    pub bot_token_env: String,
    /// Socket Mode's app-level token (`xapp-…`).
    #[serde(default = "slack_app_token")]
    pub app_token_env: String,
    /// HTTP mode's signing secret.
    #[serde(default = "slack_signing_secret")]
    pub signing_secret_env: String,
    /// Socket Mode connections kept open (Slack spreads events over them).
    #[serde(default = "two")]
    pub connections: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscord {
    #[serde(default = "discord_token")]
    pub token_env: String,
    /// The application (client) id; read from Discord when absent.
    #[serde(default)]
    pub application_id: Option<String>,
    /// Guilds where `/release` is registered.
    #[serde(default)]
    pub guilds: Vec<String>,
    /// A REST proxy base URL (twilight-http-proxy, a local fake) that
    /// replaces `https://discord.com`; the proxy then owns rate limiting.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// The app's public key (hex), for the HTTP interactions endpoint.
    #[serde(default)]
    pub public_key_env: Option<String>,
    /// Connect to the gateway (events, and interactions unless they come over HTTP).
    #[serde(default = "yes")]
    pub gateway: bool,
}

fn discord_token() -> String {
    "DISCORD_TOKEN".into()
}
fn yes() -> bool {
    true
}

fn socket() -> String {
    "socket".into()
}
fn slack_api() -> String {
    "https://slack.com/api".into()
}
fn slack_bot_token() -> String {
    "SLACK_BOT_TOKEN".into()
}
fn slack_app_token() -> String {
    "SLACK_APP_TOKEN".into()
}
fn slack_signing_secret() -> String {
    "SLACK_SIGNING_SECRET".into()
}
fn two() -> u32 {
    2
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// `sled` (default) or `postgres`.
    pub backend: Option<String>,
    /// The environment variable with the PostgreSQL URL (default `DATABASE_URL`).
    pub url_env: Option<String>,
    /// Connections in the pool (default 8).
    pub pool: Option<u64>,
    /// A schema of its own (default: the connection's, `public`).
    pub schema: Option<String>,
    /// Seconds claims and the scheduler lease last unless renewed (default 10).
    pub lease_ttl_secs: Option<u64>,
    /// MiB sled may keep in its page cache (default 8).
    pub cache_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// `127.0.0.1:8686`; unset means no HTTP listener.
    pub listen: Option<String>,
    /// Seconds a client may take to send a request's headers.
    pub header_timeout_secs: Option<u64>,
    /// Seconds a client may pause while sending a request's body.
    pub body_timeout_secs: Option<u64>,
    /// Connections open at once; more are closed as they come.
    pub max_connections: Option<u64>,
    /// Dashboard cookies over plain http (localhost only).
    #[serde(default)]
    pub insecure_cookies: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShell {
    /// Who you are when the shell starts (`alice` means `shell:alice`).
    #[serde(default = "default_shell_user")]
    pub user: String,
}

impl Default for RawShell {
    fn default() -> Self {
        RawShell {
            user: default_shell_user(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    #[serde(default)]
    pub description: String,
    /// Where it may be released; all environments when absent.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
    /// Stakeholder channels that hear about every release of this service.
    #[serde(default)]
    pub channels: Vec<String>,
    /// CI targets for this service by environment, overriding the environment's.
    #[serde(default)]
    pub ci: BTreeMap<String, RawCi>,
    /// Where its code lives, for release notes from the commits.
    #[serde(default)]
    pub source: Option<super::source::RawSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default = "anyone")]
    pub request: Vec<String>,
    #[serde(default)]
    pub approve: Vec<String>,
    #[serde(default)]
    pub deploy: Vec<String>,
    #[serde(default)]
    pub rollback: Vec<String>,
    #[serde(default = "one")]
    pub approvals: u32,
    #[serde(default)]
    pub approvals_by_role: BTreeMap<String, u32>,
    #[serde(default)]
    pub self_approval: bool,
    #[serde(default = "seventy_two")]
    pub approval_expiry_hours: u32,
    #[serde(default)]
    pub checklist: Vec<String>,
    #[serde(default)]
    pub ci: RawCi,
    /// Deploy windows, like `MON-THU 09:00-16:00` (in the environment's timezone).
    #[serde(default)]
    pub windows: Vec<String>,
    /// Weekly freezes, like `{ span = "FRI 15:00-24:00", reason = "weekend" }`.
    #[serde(default)]
    pub freezes: Vec<RawRecurringFreeze>,
    pub max_per_day: Option<u32>,
    pub service_gap_minutes: Option<u32>,
    /// `refuse` (default) or `warn` when a schedule breaks a rule.
    pub conflicts: Option<String>,
    /// Promotion: `{ environment = "staging", soak_minutes = 60 }`: a
    /// version deploys here only once it was live and healthy there that long.
    pub requires: Option<RawRequires>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequires {
    pub environment: String,
    #[serde(default)]
    pub soak_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurringFreeze {
    pub span: String,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    /// Environment variable holding the token `/calendar.ics?token=` needs.
    pub feed_token_env: Option<String>,
}

/// A cron job posting a digest to a channel.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub name: String,
    /// Standard 5-field crontab line or `@daily`-style shortcut.
    pub cron: String,
    pub timezone: Option<String>,
    /// `pending`, `today`, `week` or `status`.
    pub digest: String,
    pub channel: String,
    /// After downtime: `run_once` (default, if missed by under `missed_within_minutes`) or `skip`.
    pub missed: Option<String>,
    pub missed_within_minutes: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDelivery {
    /// Seconds any outbound call (Slack Web API, Discord REST, CI) may take.
    pub timeout_secs: Option<u64>,
    /// Deliveries under way at once, across channels and CI targets.
    pub in_flight: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReminders {
    /// Remind requester and approvers this long before a window if the release is not ready.
    pub before_window_minutes: Option<u32>,
    /// Nudge approvers when a request has waited this long.
    pub approval_nudge_hours: Option<u32>,
}

/// One CI target. Which keys apply depends on `kind`; validation says so.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCi {
    /// `simulate`, `github`, `gitlab`, `jenkins` or `webhook`.
    #[serde(default)]
    pub kind: Option<String>,
    /// simulate: seconds until the run reports.
    pub delay_secs: Option<f64>,
    /// simulate: `succeed` or `fail`.
    pub outcome: Option<String>,
    /// github: API base, default https://api.github.com.
    pub api_url: Option<String>,
    /// github: `owner/repo`.
    pub repo: Option<String>,
    /// github: workflow file or id, for workflow_dispatch.
    pub workflow: Option<String>,
    /// github: event type, for repository_dispatch (when no workflow is set).
    pub event_type: Option<String>,
    /// github, gitlab: the branch or tag to run on.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// gitlab, jenkins, webhook: base URL (webhook: the full URL).
    pub url: Option<String>,
    /// gitlab: project id or `group/project`.
    pub project: Option<String>,
    /// jenkins: job name (folders as `folder/job/name`).
    pub job: Option<String>,
    /// jenkins: the user whose API token `token_env` holds.
    pub user: Option<String>,
    /// github, gitlab, jenkins: environment variable holding the token.
    pub token_env: Option<String>,
    /// webhook: environment variable holding the signing secret.
    pub secret_env: Option<String>,
    /// Environment variable holding the secret that signs callbacks to /ci/callback.
    pub callback_secret_env: Option<String>,
    /// Renames the fields sent (`{ release = "RELEASE", approvers = "" }`; empty omits).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Minutes to wait for a report before the deploy is declared stuck (default 60).
    pub timeout_minutes: Option<u64>,
    /// Sends tried before giving up (default 5).
    pub max_attempts: Option<u32>,
    /// Seconds one HTTP request may take (default 10).
    pub request_timeout_secs: Option<u64>,
}

fn utc() -> String {
    "UTC".to_string()
}
fn default_shell_user() -> String {
    "alice".to_string()
}
fn anyone() -> Vec<String> {
    vec!["*".to_string()]
}
fn one() -> u32 {
    1
}
fn seventy_two() -> u32 {
    72
}
