//! `cancel`: withdraw a release (requester or approver).

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "cancel",
    usage: "cancel <id> [reason]",
    example: "cancel R-1",
    summary: "withdraw a release (requester or approver)",
    needs: Needs::Request,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID, opt("reason", "why", false, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Cancel { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Cancel {
        id: p.id()?,
        reason: p.rest(),
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Cancel {
        id: f.id()?,
        reason: f.text("reason"),
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Cancel { id, reason } => engine.cancel(actor, id, reason),
        other => Err(mismatch(&DEF, &other)),
    }
}
