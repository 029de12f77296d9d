//! `reject`: reject a release, saying why.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "reject",
    usage: "reject <id> <reason>",
    example: "reject R-1 not yet",
    summary: "reject a release, saying why",
    needs: Needs::Approve,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID, opt("reason", "why", true, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Reject { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let (id, reason) = p.id_and_rest("the reason for rejecting")?;
    Ok(Command::Reject { id, reason })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Reject {
        id: f.id()?,
        reason: f.need_text("reason", "the reason for rejecting")?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Reject { id, reason } => engine.reject(actor, id, reason),
        other => Err(mismatch(&DEF, &other)),
    }
}
