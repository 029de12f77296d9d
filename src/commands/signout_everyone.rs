//! `signout-everyone`: end every dashboard session at once (a key
//! rotation, after a leaked cookie or when someone leaves).

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "signout-everyone",
    usage: "signout-everyone",
    example: "signout-everyone",
    summary: "end every dashboard session; everyone signs in again with `dashboard`",
    needs: Needs::Admin,
    changes: true,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::SignOutEveryone),
    apply,
};

fn parse(_p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::SignOutEveryone)
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::SignOutEveryone => engine.sign_out_everyone(actor),
        other => Err(mismatch(&DEF, &other)),
    }
}
