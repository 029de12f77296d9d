//! Turns the raw TOML into a `Config`, collecting every problem with its key
//! path and line instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;

use super::policy::{check_requires, ci_target, env_policy, permission, schedules};
use super::raw::{RawConfig, RawEnvironment};
use super::{Config, Environment, Problem, Reminders, Service};
use crate::domain::ids::{ChannelRef, Name, UserRef};
use crate::domain::policy::Directory;
use std::net::SocketAddr;

/// Finds the line of a key path in the document, for messages.
struct Locator<'a> {
    text: &'a str,
    doc: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Locator {
            text,
            doc: toml_edit::ImDocument::parse(text).ok(),
        }
    }

    fn line_of_offset(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn line(&self, path: &[&str]) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        let mut item = doc.as_item();
        let mut best = None;
        for segment in path {
            let next = match segment.parse::<usize>() {
                Ok(index) => item.get(index),
                Err(_) => item.get(segment),
            };
            let Some(next) = next else { break };
            item = next;
            if let Some(span) = item.span() {
                best = Some(span.start);
            }
        }
        best.map(|offset| self.line_of_offset(offset))
    }
}

pub(super) struct Problems<'a> {
    locator: Locator<'a>,
    list: Vec<Problem>,
}

impl Problems<'_> {
    pub(super) fn add(&mut self, path: &[&str], message: impl Into<String>) {
        self.list.push(Problem {
            key: path.join("."),
            line: self.locator.line(path),
            message: message.into(),
        });
    }
}

pub fn parse(text: &str) -> Result<Config, Vec<Problem>> {
    let locator = Locator::new(text);
    let raw: RawConfig = match serde_path_to_error::deserialize(toml::Deserializer::new(text)) {
        Ok(raw) => raw,
        Err(error) => {
            let key = error.path().to_string();
            let inner = error.into_inner();
            let line = inner.span().map(|span| locator.line_of_offset(span.start));
            return Err(vec![Problem {
                key: if key == "." {
                    "(file)".to_string()
                } else {
                    key
                },
                line,
                message: inner.message().trim().to_string(),
            }]);
        }
    };
    let mut problems = Problems {
        locator,
        list: Vec::new(),
    };
    let config = build(raw, &mut problems);
    if problems.list.is_empty() {
        Ok(config)
    } else {
        Err(problems.list)
    }
}

pub(super) fn timezone(text: &str, path: &[&str], problems: &mut Problems<'_>) -> Tz {
    text.parse::<Tz>().unwrap_or_else(|_| {
        problems.add(
            path,
            format!("`{text}` is not a known timezone; use an IANA name like Europe/Berlin or UTC"),
        );
        Tz::UTC
    })
}

fn build(raw: RawConfig, problems: &mut Problems<'_>) -> Config {
    let timezone_default = timezone(&raw.bot.timezone, &["bot", "timezone"], problems);
    let shell_user = UserRef::parse(&format!("shell:{}", raw.shell.user)).unwrap_or_else(|e| {
        problems.add(&["shell", "user"], e.0);
        UserRef::parse("shell:alice").expect("a valid literal")
    });

    let directory = directory(&raw.roles, problems);
    let known_roles: BTreeSet<&str> = raw.roles.keys().map(String::as_str).collect();

    let environments = environments(
        &raw.environments,
        timezone_default,
        (&known_roles, &directory),
        problems,
    );

    let services = services(&raw, &environments, problems);

    let calendar_token = calendar_token(&raw.calendar, problems);
    let schedules = schedules(&raw.schedules, timezone_default, problems);
    let reminders = reminders(&raw.reminders, problems);
    let delivery = delivery(&raw.delivery, problems);
    let http_limits = http_limits(&raw.http, problems);
    let store = super::store::store_settings(&raw.store, problems);
    let timezones = timezones(&raw.timezones, problems);
    let admin = permission(
        &raw.bot.admin_roles,
        &["bot", "admin_roles"],
        &known_roles,
        problems,
    );
    let http_listen = http_listen(&raw.http, problems);
    let (slack, discord) = chat(&raw, http_listen, problems);
    let audiences = super::policy::audiences(&raw.audiences, problems);
    let incidents = super::incidents::incidents(&raw.incidents, problems);
    let dashboard =
        super::dashboard::dashboard(&raw.dashboard, raw.http.insecure_cookies, problems);

    Config {
        timezone: timezone_default,
        data_dir: raw.bot.data_dir.map(Into::into),
        http_listen,
        slack,
        discord,
        shell_user,
        directory,
        admin,
        calendar_token,
        schedules,
        reminders,
        delivery,
        http_limits,
        store,
        timezones,
        services,
        environments,
        audiences,
        incidents,
        dashboard,
    }
}

/// `[roles]`: who holds which role, by `platform:user`.
fn directory(roles: &BTreeMap<String, Vec<String>>, problems: &mut Problems<'_>) -> Directory {
    let mut roles_by_user: BTreeMap<UserRef, BTreeSet<String>> = BTreeMap::new();
    for (role, users) in roles {
        for user in users {
            match UserRef::parse(user) {
                Ok(user) => {
                    roles_by_user.entry(user).or_default().insert(role.clone());
                }
                Err(e) => problems.add(&["roles", role], e.0),
            }
        }
    }
    Directory::new(roles_by_user)
}

/// `[environments.*]`: each one's policy and CI target.
fn environments(
    raw: &BTreeMap<String, RawEnvironment>,
    timezone_default: Tz,
    (known_roles, directory): (&BTreeSet<&str>, &Directory),
    problems: &mut Problems<'_>,
) -> BTreeMap<Name, Environment> {
    if raw.is_empty() {
        problems.add(
            &["environments"],
            "no environment is configured; add at least [environments.production]",
        );
    }
    let mut environments = BTreeMap::new();
    for (name_text, env) in raw {
        let Some(name) = name_or_problem(name_text, &["environments", name_text], problems) else {
            continue;
        };
        let policy = env_policy(
            name.clone(),
            env,
            timezone_default,
            known_roles,
            directory,
            problems,
        );
        let ci = ci_target(&env.ci, &["environments", name_text, "ci"], problems);
        environments.insert(name, Environment { policy, ci });
    }
    check_requires(&environments, problems);
    environments
}

/// `[services.*]`: each one's environments, channels and CI targets.
fn services(
    raw: &RawConfig,
    environments: &BTreeMap<Name, Environment>,
    problems: &mut Problems<'_>,
) -> BTreeMap<Name, Service> {
    let mut services = BTreeMap::new();
    if raw.services.is_empty() {
        problems.add(
            &["services"],
            "no service is configured; add at least [services.<name>]",
        );
    }
    for (name_text, service) in &raw.services {
        let path = ["services", name_text.as_str()];
        let Some(name) = name_or_problem(name_text, &path, problems) else {
            continue;
        };
        let service_envs = service.environments.as_ref().map(|list| {
            list.iter()
                .filter_map(|env| {
                    let found = Name::parse(env)
                        .ok()
                        .filter(|n| environments.contains_key(n));
                    if found.is_none() {
                        problems.add(
                            &["services", name_text, "environments"],
                            format!(
                                "unknown environment `{env}`; known: {}",
                                raw.environments
                                    .keys()
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                    }
                    found
                })
                .collect()
        });
        let channels = channels(
            &service.channels,
            &["services", name_text, "channels"],
            problems,
        );
        let mut ci = BTreeMap::new();
        for (env_text, raw_ci) in &service.ci {
            let target = ci_target(raw_ci, &["services", name_text, "ci", env_text], problems);
            match Name::parse(env_text)
                .ok()
                .filter(|n| environments.contains_key(n))
            {
                Some(env) => {
                    ci.insert(env, target);
                }
                None => problems.add(
                    &["services", name_text, "ci", env_text],
                    format!("unknown environment `{env_text}`"),
                ),
            }
        }
        services.insert(
            name.clone(),
            Service {
                name,
                description: service.description.clone(),
                environments: service_envs,
                channels,
                ci,
                source: service.source.as_ref().and_then(|raw| {
                    super::source::source(raw, &["services", name_text, "source"], problems)
                }),
            },
        );
    }
    services
}

/// `[calendar] feed_token_env`: the `.ics` feed's token, from the environment.
fn calendar_token(
    calendar: &super::raw::RawCalendar,
    problems: &mut Problems<'_>,
) -> Option<super::Secret> {
    calendar
        .feed_token_env
        .as_ref()
        .and_then(|var| match std::env::var(var) {
            Ok(token) if !token.is_empty() => Some(super::Secret::new(token)),
            _ => {
                problems.add(
                    &["calendar", "feed_token_env"],
                    format!("environment variable {var} is not set"),
                );
                None
            }
        })
}

/// `[reminders]`: how long before a window, and how often approvers are nudged.
fn reminders(reminders: &super::raw::RawReminders, problems: &mut Problems<'_>) -> Reminders {
    Reminders {
        before_window: reminders
            .before_window_minutes
            .and_then(|m| {
                within(
                    m,
                    1..=10_080,
                    "minutes (a week)",
                    &["reminders", "before_window_minutes"],
                    problems,
                )
            })
            .map(|m| chrono::Duration::minutes(i64::from(m))),
        approval_nudge: reminders
            .approval_nudge_hours
            .and_then(|h| {
                within(
                    h,
                    1..=720,
                    "hours (30 days)",
                    &["reminders", "approval_nudge_hours"],
                    problems,
                )
            })
            .map(|h| chrono::Duration::hours(i64::from(h))),
    }
}

/// `[timezones]`: people's and channels' own timezones.
fn timezones(raw: &BTreeMap<String, String>, problems: &mut Problems<'_>) -> BTreeMap<String, Tz> {
    let mut timezones = BTreeMap::new();
    for (who, tz) in raw {
        let valid_ref = UserRef::parse(who).is_ok();
        if !valid_ref {
            problems.add(
                &["timezones", who],
                format!("`{who}` is not a user or channel like shell:bob or slack:C0RELEASES"),
            );
        }
        let zone = timezone(tz, &["timezones", who], problems);
        timezones.insert(who.clone(), zone);
    }
    timezones
}

/// `[http] listen`.
fn http_listen(http: &super::raw::RawHttp, problems: &mut Problems<'_>) -> Option<SocketAddr> {
    http.listen.as_ref().and_then(|listen| {
        listen
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.add(
                    &["http", "listen"],
                    format!("`{listen}` is not an address like 127.0.0.1:8686"),
                )
            })
            .ok()
    })
}

/// `[slack]` and `[discord]`, with what their HTTP modes need of `[http]`.
fn chat(
    raw: &RawConfig,
    http_listen: Option<SocketAddr>,
    problems: &mut Problems<'_>,
) -> (Option<super::SlackConfig>, Option<super::DiscordConfig>) {
    let slack = raw.slack.as_ref().map(|slack| {
        let slack = super::chat::slack(slack, &mut |key, message| {
            problems.add(&["slack", key], message)
        });
        if slack.mode == super::SlackMode::Http && http_listen.is_none() {
            problems.add(
                &["slack", "mode"],
                "\"http\" needs [http] listen, where Slack sends its requests",
            );
        }
        slack
    });

    let discord = raw.discord.as_ref().map(|discord| {
        let discord = super::chat::discord(discord, &mut |key, message| {
            problems.add(&["discord", key], message)
        });
        if discord.public_key.is_some() && http_listen.is_none() {
            problems.add(
                &["discord", "public_key_env"],
                "the HTTP interactions endpoint needs [http] listen",
            );
        }
        discord
    });
    (slack, discord)
}

/// `[delivery]`: each number within a range where the bot still works.
fn delivery(raw: &super::raw::RawDelivery, problems: &mut Problems<'_>) -> super::Delivery {
    let mut delivery = super::Delivery::default();
    let path = |key| ["delivery", key];
    if let Some(secs) = raw.timeout_secs.and_then(|secs| {
        within(
            secs,
            1..=300,
            "seconds (default 10)",
            &path("timeout_secs"),
            problems,
        )
    }) {
        delivery.timeout = std::time::Duration::from_secs(secs);
    }
    if let Some(count) = raw.in_flight.and_then(|count| {
        within(
            count,
            1..=64,
            "deliveries at once (default 8)",
            &path("in_flight"),
            problems,
        )
    }) {
        delivery.in_flight = count as usize;
    }
    delivery
}

/// A number within `range`, else a problem naming the range and `unit`;
/// what the bot computes from each stays far inside chrono's range.
pub(super) fn within<T: PartialOrd + std::fmt::Display + Copy>(
    value: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
    path: &[&str],
    problems: &mut Problems<'_>,
) -> Option<T> {
    if range.contains(&value) {
        Some(value)
    } else {
        problems.add(
            path,
            format!(
                "{value} is out of range; give {} to {} {unit}",
                range.start(),
                range.end()
            ),
        );
        None
    }
}

/// `[http]` limits: each within a range where the listener still serves.
fn http_limits(raw: &super::raw::RawHttp, problems: &mut Problems<'_>) -> super::HttpLimits {
    let mut limits = super::HttpLimits::default();
    let path = |key| ["http", key];
    if let Some(secs) = raw.header_timeout_secs.and_then(|secs| {
        within(
            secs,
            1..=300,
            "seconds (default 10)",
            &path("header_timeout_secs"),
            problems,
        )
    }) {
        limits.header_timeout = std::time::Duration::from_secs(secs);
    }
    if let Some(secs) = raw.body_timeout_secs.and_then(|secs| {
        within(
            secs,
            1..=600,
            "seconds (default 30)",
            &path("body_timeout_secs"),
            problems,
        )
    }) {
        limits.body_timeout = std::time::Duration::from_secs(secs);
    }
    if let Some(count) = raw.max_connections.and_then(|count| {
        within(
            count,
            16..=100_000,
            "connections (default 4096)",
            &path("max_connections"),
            problems,
        )
    }) {
        limits.max_connections = count as usize;
    }
    limits
}

pub(super) fn name_or_problem(
    text: &str,
    path: &[&str],
    problems: &mut Problems<'_>,
) -> Option<Name> {
    Name::parse(text).map_err(|e| problems.add(path, e.0)).ok()
}

pub(super) fn channels(
    list: &[String],
    path: &[&str],
    problems: &mut Problems<'_>,
) -> Vec<ChannelRef> {
    list.iter()
        .filter_map(|c| {
            ChannelRef::parse(c)
                .map_err(|e| problems.add(path, e.0))
                .ok()
        })
        .collect()
}
