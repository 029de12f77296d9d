//! `roles`: who holds which role.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed};

pub static DEF: Def = Def {
    name: "roles",
    usage: "roles",
    example: "roles",
    summary: "who holds which role",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Roles),
    apply,
};

fn parse(_p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Roles)
}

fn fields(_f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Roles)
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Roles => engine.roles(),
        other => Err(mismatch(&DEF, &other)),
    }
}
