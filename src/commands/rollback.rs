//! `rollback`: roll back to the previous live version.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "rollback",
    usage: "rollback <id> <reason>",
    example: "rollback R-1 errors",
    summary: "roll back to the previous live version",
    needs: Needs::Rollback,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID, opt("reason", "why", true, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Rollback { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let (id, reason) = p.id_and_rest("the reason for the rollback")?;
    Ok(Command::Rollback { id, reason })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Rollback {
        id: f.id()?,
        reason: f.need_text("reason", "the reason for the rollback")?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Rollback { id, reason } => engine.rollback(actor, id, reason),
        other => Err(mismatch(&DEF, &other)),
    }
}
