//! `revoke`: take back a role granted in chat.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "revoke",
    usage: "revoke <platform:user> <role>",
    example: "revoke shell:erin qa",
    summary: "take back a role granted in chat",
    needs: Needs::Admin,
    changes: true,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Revoke { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let user_token = p.take("the user (platform:id, like shell:erin)")?;
    let user = UserRef::parse(&user_token.text).map_err(|e| p.error(&user_token, e.0))?;
    let role = p.take("the role")?.text.to_ascii_lowercase();
    Ok(Command::Revoke { user, role })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Revoke { user, role } => engine.revoke(actor, user, role),
        other => Err(mismatch(&DEF, &other)),
    }
}
