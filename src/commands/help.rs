//! `help`: what you can do here.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::domain::Refusal;
use crate::engine::{Engine, EngineResult, Reply};
use crate::view::{HelpView, View};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "help",
    usage: "help [command]",
    example: "help deploy",
    summary: "what you can do here",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[opt("command", "a command to explain", false, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Help { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let topic = p.peek().map(|t| t.text.to_ascii_lowercase());
    p.next = p.tokens.len();
    Ok(Command::Help { topic })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Help {
        // As on a line: the first word names the command.
        topic: f
            .value("command")
            .and_then(|t| t.split_whitespace().next())
            .map(|t| t.to_ascii_lowercase()),
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Help { topic } => help(engine, actor, topic.as_deref()),
        other => Err(mismatch(&DEF, &other)),
    }
}

/// Lists only what the caller's roles allow somewhere.
fn help(engine: &Engine, actor: &UserRef, topic: Option<&str>) -> EngineResult<Reply> {
    let roles = engine.roles_of(actor);
    if let Some(topic) = topic {
        let def = super::find(topic).ok_or_else(|| Refusal::NoSuchCommand {
            topic: topic.to_string(),
        })?;
        return Ok(Reply::view(View::Help(HelpView::Topic {
            usage: def.usage,
            name: def.name,
            summary: def.summary,
            allowed: engine.allowed_somewhere(&roles, def.needs),
        })));
    }
    Ok(Reply::view(View::Help(HelpView::All {
        user: actor.clone(),
        roles: roles.iter().cloned().collect(),
        usages: super::REGISTRY
            .iter()
            .filter(|def| engine.allowed_somewhere(&roles, def.needs))
            .map(|def| def.usage)
            .collect(),
    })))
}
