//! `unfreeze`: lift a freeze.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "unfreeze",
    usage: "unfreeze <F-id>",
    example: "unfreeze F-1",
    summary: "lift a freeze",
    needs: Needs::Admin,
    changes: true,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Unfreeze { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let token = p.take("the freeze id (like F-1)")?;
    let digits = token
        .text
        .trim_start_matches(['F', 'f'])
        .trim_start_matches('-');
    let id = digits
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            p.error(
                &token,
                format!(
                    "`{}` is not a freeze id; freeze ids look like F-1",
                    token.text
                ),
            )
        })?;
    Ok(Command::Unfreeze { id })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Unfreeze { id } => engine.unfreeze(actor, id),
        other => Err(mismatch(&DEF, &other)),
    }
}
