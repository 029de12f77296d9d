//! `bump`: take a lower-priority release out of its slot.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "bump",
    usage: "bump <id> <reason>",
    example: "bump R-1 hotfix first",
    summary: "take a lower-priority release out of its slot",
    needs: Needs::Admin,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID, opt("reason", "why", true, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Bump { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let (id, reason) = p.id_and_rest("the reason for the bump")?;
    Ok(Command::Bump { id, reason })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Bump {
        id: f.id()?,
        reason: f.need_text("reason", "the reason for the bump")?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Bump { id, reason } => engine.bump(actor, id, reason),
        other => Err(mismatch(&DEF, &other)),
    }
}
