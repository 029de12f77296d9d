//! `unschedule`: clear a release's deploy time.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed, ID};

pub static DEF: Def = Def {
    name: "unschedule",
    usage: "unschedule <id>",
    example: "unschedule R-1",
    summary: "clear a release's deploy time",
    needs: Needs::Request,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Unschedule { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Unschedule { id: p.id()? })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Unschedule { id: f.id()? })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Unschedule { id } => engine.schedule(actor, id, None),
        other => Err(mismatch(&DEF, &other)),
    }
}
