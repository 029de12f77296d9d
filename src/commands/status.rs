//! `status`: where a release stands.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed, ID};

pub static DEF: Def = Def {
    name: "status",
    usage: "status <id>",
    example: "status R-1",
    summary: "where a release stands",
    needs: Needs::Anyone,
    changes: false,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Status { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Status { id: p.id()? })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Status { id: f.id()? })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Status { id } => engine.status(id),
        other => Err(mismatch(&DEF, &other)),
    }
}
