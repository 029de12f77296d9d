//! `approve`: approve a release.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "approve",
    usage: "approve <id> [comment]",
    example: "approve R-1 looks good",
    summary: "approve a release",
    needs: Needs::Approve,
    changes: true,
    in_thread: false,
    typed: Some(Typed {
        options: &[
            ID,
            opt("comment", "a note with your approval", false, Kind::Text),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Approve { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Approve {
        id: p.id()?,
        comment: p.rest(),
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Approve {
        id: f.id()?,
        comment: f.text("comment"),
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Approve { id, comment } => engine.approve(actor, id, comment),
        other => Err(mismatch(&DEF, &other)),
    }
}
