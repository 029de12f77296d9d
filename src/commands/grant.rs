//! `grant`: give someone a role (kept in the store).

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "grant",
    usage: "grant <platform:user> <role>",
    example: "grant shell:erin qa",
    summary: "give someone a role (kept in the store)",
    needs: Needs::Admin,
    changes: true,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Grant { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let user_token = p.take("the user (platform:id, like shell:erin)")?;
    let user = UserRef::parse(&user_token.text).map_err(|e| p.error(&user_token, e.0))?;
    let role = p.take("the role")?.text.to_ascii_lowercase();
    Ok(Command::Grant { user, role })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Grant { user, role } => engine.grant(actor, user, role),
        other => Err(mismatch(&DEF, &other)),
    }
}
