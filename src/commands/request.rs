//! `request`: ask for a release.

use crate::domain::command::RequestArgs;
use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::domain::release::Priority;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "request",
    usage: "request <service> <version> [to <env>] [at <YYYY-MM-DD HH:MM>] [notes \"<text>\"] [priority low|normal|high] [fix <incident>]",
    example: "request api 2.4.0 to production",
    summary: "ask for a release",
    needs: Needs::Request,
    changes: true,
    in_thread: false,
    typed: Some(Typed {
        options: &[
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
            opt(
                "fix",
                "the incident this release fixes, e.g. I-3",
                false,
                Kind::Text,
            ),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Request(_)),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Request(request_args(p)?))
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Request(RequestArgs {
        service: f.need("service", "the service", |p| p.name("the service"))?,
        version: f.need("version", "the version (like 2.4.0)", |p| p.version())?,
        environment: f.read("environment", |p| p.name("the environment"))?,
        at: f.read("at", |p| p.when())?,
        notes: f.text("notes"),
        priority: f.read("priority", |p| p.priority())?.unwrap_or_default(),
        fixes: f.read("fix", |p| p.incident())?,
    }))
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Request(args) => engine.request(actor, args),
        other => Err(mismatch(&DEF, &other)),
    }
}

fn request_args(p: &mut Parser<'_>) -> Result<RequestArgs, ParseError> {
    let service = p.name("the service name")?;
    let version = p.version()?;
    let mut args = RequestArgs {
        service,
        version,
        environment: None,
        at: None,
        notes: None,
        priority: Priority::Normal,
        fixes: None,
    };
    let mut seen: Vec<String> = Vec::new();
    while let Some(keyword) = p.peek().cloned() {
        p.next += 1;
        let word = keyword.text.to_ascii_lowercase();
        if seen.contains(&word) {
            return Err(p.error(&keyword, format!("`{word}` is given twice.")));
        }
        match word.as_str() {
            "to" => {
                args.environment = Some(p.name("the environment after `to`")?);
            }
            "at" => args.at = Some(p.when()?),
            "notes" => {
                let token = p.take("the notes after `notes` (in quotes)")?;
                args.notes = Some(if token.quoted {
                    token.text
                } else {
                    // Unquoted notes run to the end of the line.
                    p.next -= 1;
                    p.rest().unwrap_or_default()
                });
            }
            "priority" => {
                args.priority = p.priority()?;
            }
            "fix" => args.fixes = Some(p.incident()?),
            _ => {
                return Err(p.error(
                    &keyword,
                    format!("Unexpected `{}`: after the version come `to`, `at`, `notes`, `priority` or `fix`. Usage: {}", keyword.text, p.usage),
                ))
            }
        }
        seen.push(word);
    }
    Ok(args)
}
