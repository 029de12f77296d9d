//! `dashboard`: a personal sign-in link to the pages in the browser.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "dashboard",
    usage: "dashboard",
    example: "dashboard",
    summary: "a sign-in link to the dashboard, for you alone (one use, 15 minutes)",
    needs: Needs::Anyone,
    // Answered to the asker alone, like a query.
    changes: false,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Dashboard),
    apply,
};

fn parse(_p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Dashboard)
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Dashboard => engine.dashboard_link(actor),
        other => Err(mismatch(&DEF, &other)),
    }
}
