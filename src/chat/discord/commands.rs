//! The `/release` application command: its subcommands and typed options
//! (built from the command table, so the words match the shell and Slack),
//! and the command line an invocation stands for.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption};

use crate::chat::Request;
use crate::config::Config;
use crate::domain::command;

/// What an option holds, and so how Discord offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A release id; autocompleted from open releases.
    Release,
    /// One of the configured services (choices).
    Service,
    /// One of the configured environments (choices).
    Environment,
    /// One of fixed words.
    Choice(&'static [&'static str]),
}

#[derive(Debug)]
pub struct Opt {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub kind: Kind,
}

const fn opt(name: &'static str, description: &'static str, required: bool, kind: Kind) -> Opt {
    Opt {
        name,
        description,
        required,
        kind,
    }
}

const ID: Opt = opt("id", "the release, e.g. R-12", true, Kind::Release);

/// The subcommands, in the order Discord shows them (at most 25).
pub const SUBCOMMANDS: &[(&str, &[Opt])] = &[
    (
        "request",
        &[
            opt("service", "what to release", true, Kind::Service),
            opt("version", "the version, e.g. 2.4.0", true, Kind::Text),
            opt("environment", "where to", false, Kind::Environment),
            opt(
                "at",
                "when: YYYY-MM-DD HH:MM, in the environment's timezone",
                false,
                Kind::Text,
            ),
            opt("notes", "release notes", false, Kind::Text),
            opt(
                "priority",
                "low, normal or high",
                false,
                Kind::Choice(&["low", "normal", "high"]),
            ),
        ],
    ),
    (
        "approve",
        &[
            ID,
            opt("comment", "a note with your approval", false, Kind::Text),
        ],
    ),
    ("reject", &[ID, opt("reason", "why", true, Kind::Text)]),
    ("cancel", &[ID, opt("reason", "why", false, Kind::Text)]),
    (
        "schedule",
        &[
            ID,
            opt(
                "at",
                "YYYY-MM-DD HH:MM, in the environment's timezone",
                true,
                Kind::Text,
            ),
        ],
    ),
    ("unschedule", &[ID]),
    ("deploy", &[ID]),
    ("rollback", &[ID, opt("reason", "why", true, Kind::Text)]),
    ("status", &[ID]),
    (
        "list",
        &[opt(
            "filter",
            "which releases (default: open ones)",
            false,
            Kind::Choice(&[
                "pending",
                "approved",
                "scheduled",
                "deploying",
                "deployed",
                "failed",
                "mine",
                "all",
            ]),
        )],
    ),
    ("history", &[ID]),
    ("checklist", &[ID]),
    (
        "check",
        &[ID, opt("item", "item number or name", true, Kind::Text)],
    ),
    (
        "uncheck",
        &[ID, opt("item", "item number or name", true, Kind::Text)],
    ),
    (
        "calendar",
        &[opt(
            "range",
            "today, week, month or a date (YYYY-MM-DD)",
            false,
            Kind::Text,
        )],
    ),
    ("freezes", &[]),
    (
        "lock",
        &[
            opt("service", "the service", true, Kind::Service),
            opt("environment", "the environment", true, Kind::Environment),
            opt("reason", "why", true, Kind::Text),
        ],
    ),
    (
        "unlock",
        &[
            opt("service", "the service", true, Kind::Service),
            opt("environment", "the environment", true, Kind::Environment),
        ],
    ),
    ("bump", &[ID, opt("reason", "why", true, Kind::Text)]),
    (
        "stats",
        &[opt(
            "period",
            "week, month or quarter",
            false,
            Kind::Choice(&["week", "month", "quarter"]),
        )],
    ),
    ("roles", &[]),
    (
        "help",
        &[opt("command", "a command to explain", false, Kind::Text)],
    ),
    (
        "run",
        &[opt(
            "command",
            "any releasebot command, as in the shell (freeze, grant, change, …)",
            true,
            Kind::Text,
        )],
    ),
];

/// Discord allows 25 choices; past that a name is typed freely.
const MAX_CHOICES: usize = 25;

fn description(name: &str) -> &'static str {
    match name {
        "run" => "run any releasebot command as written in the shell",
        _ => command::spec(name).map_or("releasebot", |s| s.summary),
    }
}

/// The `/release` command as registered in each guild.
pub fn definition(config: &Config) -> CreateCommand {
    let services: Vec<String> = config.services.keys().map(|n| n.to_string()).collect();
    let environments: Vec<String> = config.environments.keys().map(|n| n.to_string()).collect();
    let subcommands = SUBCOMMANDS.iter().map(|(name, opts)| {
        let mut sub =
            CreateCommandOption::new(CommandOptionType::SubCommand, *name, description(name));
        for o in opts.iter() {
            let mut option =
                CreateCommandOption::new(CommandOptionType::String, o.name, o.description)
                    .required(o.required);
            let choices: Vec<String> = match o.kind {
                Kind::Service => services.clone(),
                Kind::Environment => environments.clone(),
                Kind::Choice(words) => words.iter().map(|w| w.to_string()).collect(),
                Kind::Text | Kind::Release => Vec::new(),
            };
            if o.kind == Kind::Release {
                option = option.set_autocomplete(true);
            } else if !choices.is_empty() && choices.len() <= MAX_CHOICES {
                for choice in choices {
                    option = option.add_string_choice(choice.clone(), choice);
                }
            }
            sub = sub.add_sub_option(option);
        }
        sub
    });
    CreateCommand::new("release")
        .description("Request, approve, deploy and roll back releases")
        .set_options(subcommands.collect())
}

/// What a `/release <sub>` invocation asks for: its typed options decoded
/// straight into a command (free text exactly as typed); `run` carries a
/// command line, read by the parser as in the shell. The engine then checks
/// it like any other (an unknown service gets the same refusal everywhere).
pub(crate) fn request(sub: &str, values: &BTreeMap<String, String>) -> Result<Request, String> {
    let Some((name, _)) = SUBCOMMANDS.iter().find(|(name, _)| *name == sub) else {
        return Err(format!(
            "`/release {sub}` is not a command this bot knows; try `/release help`."
        ));
    };
    if *name == "run" {
        return values
            .get("command")
            .map(|line| line.trim())
            .filter(|line| !line.is_empty())
            .map(|line| Request::Line(line.to_string()))
            .ok_or_else(|| "`/release run` needs `command`.".to_string());
    }
    command::from_fields(name, &|key| values.get(key).map(String::as_str))
        .map(Request::Command)
        .map_err(|error| format!("`/release {name}`: {}", error.message))
}

/// Whether the commands a guild has (as Discord lists them, with ids,
/// versions and defaults) are exactly the ones we want.
pub fn same_commands(current: &Value, wanted: &Value) -> bool {
    normalize_list(current) == normalize_list(wanted)
}

fn normalize_list(list: &Value) -> Value {
    let mut items: Vec<Value> = list
        .as_array()
        .map(|items| items.iter().map(normalize).collect())
        .unwrap_or_default();
    items.sort_by_key(|item| item["name"].to_string());
    Value::Array(items)
}

/// The parts of a command or option that define it, defaults filled in.
fn normalize(item: &Value) -> Value {
    let flag = |key: &str| item.get(key).and_then(Value::as_bool).unwrap_or(false);
    let choices: Vec<Value> = item
        .get("choices")
        .and_then(Value::as_array)
        .map(|choices| {
            choices
                .iter()
                .map(|c| json!({"name": c["name"], "value": c["value"]}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "type": item.get("type").and_then(Value::as_u64).unwrap_or(1),
        "name": item["name"],
        "description": item.get("description").cloned().unwrap_or(Value::Null),
        "required": flag("required"),
        "autocomplete": flag("autocomplete"),
        "choices": choices,
        "options": item.get("options").map(normalize_list).unwrap_or(json!([])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_subcommand_decodes_with_its_options() {
        let sample = |o: &Opt| match (o.name, o.kind) {
            (_, Kind::Release) => "R-3",
            (_, Kind::Service) => "api",
            (_, Kind::Environment) => "production",
            (_, Kind::Choice(words)) => words[0],
            ("version", _) => "2.4.0",
            ("at", _) => "2026-12-01 14:00",
            ("range", _) => "2026-12-01",
            ("item", _) => "1",
            ("command", _) => "freeze production 2026-12-24 to 2026-12-26 holidays",
            _ => "some words",
        };
        for (name, opts) in SUBCOMMANDS {
            let all: Vec<(&str, &str)> = opts.iter().map(|o| (o.name, sample(o))).collect();
            let decoded = request(name, &values(&all));
            assert!(decoded.is_ok(), "`/release {name}`: {decoded:?}");
        }
        assert_eq!(
            request(
                "run",
                &values(&[("command", " freeze production 2026-12-24 to 2026-12-26 x ")])
            )
            .unwrap(),
            Request::Line("freeze production 2026-12-24 to 2026-12-26 x".into())
        );
    }

    #[test]
    fn missing_out_of_range_and_unknown_are_refused_with_the_option_named() {
        assert_eq!(
            request("reject", &values(&[("id", "R-3")])).unwrap_err(),
            "`/release reject`: Missing `reason`: the reason for rejecting."
        );
        let priority = request(
            "request",
            &values(&[
                ("service", "api"),
                ("version", "1.0"),
                ("priority", "urgent"),
            ]),
        )
        .unwrap_err();
        assert!(
            priority.contains("`priority`: `urgent` is not a priority"),
            "{priority}"
        );
        assert!(request("launch", &values(&[]))
            .unwrap_err()
            .contains("/release help"));
        assert!(request("run", &values(&[])).is_err());
    }

    #[test]
    fn at_most_25_subcommands_each_described() {
        assert!(SUBCOMMANDS.len() <= 25);
        for (name, opts) in SUBCOMMANDS {
            assert!(
                description(name) != "releasebot",
                "{name} has no summary in the command table"
            );
            assert!(description(name).len() <= 100);
            // Discord wants required options first.
            let first_optional = opts.iter().position(|o| !o.required).unwrap_or(opts.len());
            assert!(opts[first_optional..].iter().all(|o| !o.required), "{name}");
        }
    }
}
