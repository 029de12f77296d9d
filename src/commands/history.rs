//! `history`: the audit trail of a release.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed, ID};

pub static DEF: Def = Def {
    name: "history",
    usage: "history <id>",
    example: "history R-1",
    summary: "the audit trail of a release",
    needs: Needs::Anyone,
    changes: false,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::History { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::History { id: p.id()? })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::History { id: f.id()? })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::History { id } => engine.history(id),
        other => Err(mismatch(&DEF, &other)),
    }
}
