//! The `/release` application command: its subcommands and typed options
//! (built from the command table, so the words match the shell and Slack),
//! and the command line an invocation stands for.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption};

use crate::chat::Request;
use crate::commands::{self, Kind, Opt};
use crate::config::Config;

/// `/release run`: any command as a line, for those without typed options.
const RUN: &[Opt] = &[Opt {
    name: "command",
    description: "any releasebot command, as in the shell (freeze, grant, change, …)",
    required: true,
    kind: Kind::Text,
}];

/// The subcommands, in the order Discord shows them (at most 25): every
/// command with typed options, then `run`.
pub fn subcommands() -> Vec<(&'static str, &'static [Opt])> {
    commands::REGISTRY
        .iter()
        .filter_map(|def| def.typed.as_ref().map(|typed| (def.name, typed.options)))
        .chain([("run", RUN)])
        .collect()
}

/// Discord allows 25 choices; past that a name is typed freely.
const MAX_CHOICES: usize = 25;

fn description(name: &str) -> &'static str {
    match name {
        "run" => "run any releasebot command as written in the shell",
        _ => commands::find(name).map_or("releasebot", |def| def.summary),
    }
}

/// The `/release` command as registered in each guild.
pub fn definition(config: &Config) -> CreateCommand {
    let services: Vec<String> = config.services.keys().map(|n| n.to_string()).collect();
    let environments: Vec<String> = config.environments.keys().map(|n| n.to_string()).collect();
    let subcommands = subcommands().into_iter().map(|(name, opts)| {
        let mut sub =
            CreateCommandOption::new(CommandOptionType::SubCommand, name, description(name));
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
    let Some((name, _)) = subcommands().into_iter().find(|(name, _)| *name == sub) else {
        return Err(format!(
            "`/release {sub}` is not a command this bot knows; try `/release help`."
        ));
    };
    if name == "run" {
        return values
            .get("command")
            .map(|line| line.trim())
            .filter(|line| !line.is_empty())
            .map(|line| Request::Line(line.to_string()))
            .ok_or_else(|| "`/release run` needs `command`.".to_string());
    }
    commands::from_fields(name, &|key| values.get(key).map(String::as_str))
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
            ("fix", _) => "I-1",
            ("command", _) => "freeze production 2026-12-24 to 2026-12-26 holidays",
            _ => "some words",
        };
        for (name, opts) in subcommands() {
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
        assert!(subcommands().len() <= 25);
        for (name, opts) in subcommands() {
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
