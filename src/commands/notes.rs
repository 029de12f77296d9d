//! `notes`: release notes in Markdown.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "notes",
    usage: "notes <id> [audience]",
    example: "notes R-1 customers",
    summary: "release notes in Markdown, or in one audience's words",
    needs: Needs::Anyone,
    changes: false,
    in_thread: true,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Notes { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let id = p.id()?;
    let audience = match p.peek() {
        Some(_) => Some(p.name("the audience")?),
        None => None,
    };
    Ok(Command::Notes { id, audience })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Notes { id, audience } => match audience {
            Some(audience) => engine.audience_notes(id, &audience),
            None => engine.notes(id),
        },
        other => Err(mismatch(&DEF, &other)),
    }
}
