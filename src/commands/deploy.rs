//! `deploy`: relay the deploy to CI.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed, ID};

pub static DEF: Def = Def {
    name: "deploy",
    usage: "deploy <id>",
    example: "deploy R-1",
    summary: "relay the deploy to CI",
    needs: Needs::Deploy,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Deploy { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Deploy { id: p.id()? })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Deploy { id: f.id()? })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Deploy { id } => engine.deploy(actor, id),
        other => Err(mismatch(&DEF, &other)),
    }
}
