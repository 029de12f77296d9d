//! `change`: change what or where (drops approvals).

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::domain::ids::{Name, Version};
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "change",
    usage: "change <id> [version <version>] [to <env>]",
    example: "change R-1 version 2.4.1",
    summary: "change what or where (drops approvals)",
    needs: Needs::Request,
    changes: true,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Change { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    change(p)
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Change {
            id,
            version,
            environment,
        } => engine.change(actor, id, version, environment),
        other => Err(mismatch(&DEF, &other)),
    }
}

fn change(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let id = p.id()?;
    let (mut version, mut environment) = (None, None);
    while let Some(keyword) = p.peek().cloned() {
        p.next += 1;
        match keyword.text.to_ascii_lowercase().as_str() {
            "version" if version.is_none() => {
                let token = p.take("the new version")?;
                version = Some(Version::parse(&token.text).map_err(|e| p.error(&token, e.0))?);
            }
            "to" if environment.is_none() => {
                let token = p.take("the new environment")?;
                environment = Some(Name::parse(&token.text).map_err(|e| p.error(&token, e.0))?);
            }
            _ => {
                return Err(p.error(
                    &keyword,
                    format!("Unexpected `{}`. Usage: {}", keyword.text, p.usage),
                ))
            }
        }
    }
    if version.is_none() && environment.is_none() {
        return Err(p.missing("what to change (`version <v>` or `to <env>`)"));
    }
    Ok(Command::Change {
        id,
        version,
        environment,
    })
}
