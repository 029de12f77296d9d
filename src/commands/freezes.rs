//! `freezes`: freezes now and ahead, with weekly ones.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed};

pub static DEF: Def = Def {
    name: "freezes",
    usage: "freezes",
    example: "freezes",
    summary: "freezes now and ahead, with weekly ones",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Freezes),
    apply,
};

fn parse(_p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Freezes)
}

fn fields(_f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Freezes)
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Freezes => engine.freezes(),
        other => Err(mismatch(&DEF, &other)),
    }
}
