//! `notes`: release notes in Markdown.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "notes",
    usage: "notes <id>",
    example: "notes R-1",
    summary: "release notes in Markdown",
    needs: Needs::Anyone,
    changes: false,
    in_thread: true,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Notes { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Notes { id: p.id()? })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Notes { id } => engine.notes(id),
        other => Err(mismatch(&DEF, &other)),
    }
}
