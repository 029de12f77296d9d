//! Entry points for the fuzzer (`cargo run --release --example fuzz`): each
//! takes arbitrary bytes and drives the same decoding code that chat and
//! HTTP input reaches, stopping short of the store and the network. Any
//! panic inside is a bug; found inputs are kept under `tests/fuzz/`.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use crate::domain::ids::ReleaseId;
use crate::domain::when::When;

/// What a fuzz input is fed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The command parser, and what chat makes of thread replies and mentions.
    Command,
    /// Dates and times as typed, resolved in several timezones.
    When,
    /// The config loader and its checks.
    Config,
    /// Slack's slash command form, interaction payload, Events API and Socket Mode JSON.
    Slack,
    /// Discord's interaction JSON and the text its options become.
    Discord,
    /// The CI callback body and its signature and window checks.
    Ci,
}

impl Target {
    pub const ALL: [Target; 6] = [
        Target::Command,
        Target::When,
        Target::Config,
        Target::Slack,
        Target::Discord,
        Target::Ci,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Command => "command",
            Target::When => "when",
            Target::Config => "config",
            Target::Slack => "slack",
            Target::Discord => "discord",
            Target::Ci => "ci",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Feeds one input to a target.
pub fn run(target: Target, input: &[u8]) {
    match target {
        Target::Command => command(input),
        Target::When => when(input),
        Target::Config => config(input),
        Target::Slack => slack(input),
        Target::Discord => discord(input),
        Target::Ci => ci(input),
    }
}

fn text(input: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(input)
}

fn command(input: &[u8]) {
    let text = text(input);
    let _ = crate::commands::parse(&text);
    if let Some(line) = crate::chat::text::thread_command(&text, ReleaseId::new(1)) {
        let _ = crate::commands::parse(&line);
    }
    let _ = crate::commands::parse(&crate::chat::text::slash_text(Some(&text)));
    if let Some(rest) = crate::chat::text::after_mention(&text, "<@U0BOT>") {
        let _ = crate::commands::parse(rest);
    }
    let _ = crate::chat::text::shorten(&text, 40);
    // People's words through every renderer: escaped, never markup.
    let words = crate::domain::text::Text::plain(text.as_ref());
    let _ = crate::chat::slack::render::mrkdwn(&words, &|_| None);
    let _ = crate::chat::discord::render::content(&words, &|_| None);
    // Discord's options: `sub key=value key=value`.
    let mut words = text.split(' ');
    let sub = words.next().unwrap_or_default();
    let values: BTreeMap<String, String> = words
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Ok(crate::chat::Request::Line(line)) = crate::chat::discord::request(sub, &values) {
        let _ = crate::commands::parse(&line);
    }
}

fn when(input: &[u8]) {
    let text = text(input);
    let mut words = text.split_whitespace();
    let (day, time) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let nows = [
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 10, 31, 1, 30, 0).unwrap(),
        // The latest instant a clock could read that every timezone can show.
        Utc.with_ymd_and_hms(9999, 12, 30, 0, 0, 0).unwrap(),
    ];
    if let (Ok(day), Some(time)) = (When::read_day(day), When::parse_time(time)) {
        let when = When { day, time };
        for tz in [
            chrono_tz::Europe::Berlin,
            chrono_tz::America::New_York,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::UTC,
        ] {
            for now in nows {
                if let Ok(at) = when.resolve(tz, now) {
                    let _ = crate::domain::when::format_local(at, tz);
                }
            }
        }
    }
    for line in [
        format!("request api 1.0.0 to production at {text}"),
        format!("schedule R-1 {text}"),
        format!("calendar {text}"),
        format!("freeze production {text}"),
    ] {
        let _ = crate::commands::parse(&line);
    }
}

fn config(input: &[u8]) {
    let _ = crate::config::Config::parse(&text(input), "fuzz.toml");
}

fn slack(input: &[u8]) {
    use slack_morphism::prelude::*;
    let _ = serde_urlencoded::from_bytes::<SlackCommandEvent>(input);
    if let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(input) {
        for (_, value) in form {
            let _ = serde_json::from_str::<SlackInteractionEvent>(&value);
        }
    }
    let _ = serde_json::from_slice::<SlackInteractionEvent>(input);
    let _ = serde_json::from_slice::<SlackPushEvent>(input);
    // A Socket Mode envelope: its payload is one of the three above, as JSON
    // (slack-morphism keeps its envelope type private).
    if let Ok(envelope) = serde_json::from_slice::<serde_json::Value>(input) {
        let payload = envelope.get("payload").cloned().unwrap_or_default();
        let _ = serde_json::from_value::<SlackInteractionEvent>(payload.clone());
        let _ = serde_json::from_value::<SlackPushEventCallback>(payload.clone());
        let _ = serde_json::from_value::<SlackCommandEvent>(payload);
    }
    if let Ok(command) = serde_urlencoded::from_bytes::<SlackCommandEvent>(input) {
        let text = crate::chat::text::slash_text(command.text.as_deref());
        let _ = crate::commands::parse(&text);
    }
}

fn discord(input: &[u8]) {
    use serenity::all::Interaction;
    if let Ok(Interaction::Command(command) | Interaction::Autocomplete(command)) =
        serde_json::from_slice::<Interaction>(input)
    {
        let (sub, values) = crate::chat::discord::inbound::invocation(&command);
        let _ = crate::chat::discord::inbound::focused_value(&command);
        if let Ok(crate::chat::Request::Line(line)) = crate::chat::discord::request(&sub, &values) {
            let _ = crate::commands::parse(&line);
        }
    }
    if let Ok(message) = serde_json::from_slice::<serenity::all::Message>(input) {
        let _ = crate::chat::text::thread_command(&message.content, ReleaseId::new(1));
    }
}

fn ci(input: &[u8]) {
    let now = 1_800_000_000;
    let _ = crate::http::decode_callback(input, now);
    let (given, body) = match input.iter().position(|b| *b == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (&input[..0], input),
    };
    let given = text(given);
    let _ = crate::ci::signature::verify(b"callback-secret", body, &given);
    let numbers: Vec<i64> = given
        .split(|c: char| !c.is_ascii_digit() && c != '-')
        .filter_map(|n| n.parse().ok())
        .collect();
    for pair in numbers.windows(2) {
        let _ = crate::ci::signature::within_window(pair[0], pair[1], 300);
    }
}
