//! `update`: words for an incident's stakeholders.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "update",
    usage: "update <incident|release> <text>",
    example: "update I-1 \"error rate back under 1%, watching\"",
    summary: "tell an incident's stakeholders where it stands (R-3 means the incident its rollback opened)",
    needs: Needs::Rollback,
    changes: true,
    in_thread: false,
    typed: None,
    parse: read,
    applies: |command| matches!(command, Command::Update { .. }),
    apply,
};

/// `<incident|release> <text>`, after `update` or `incident update`.
pub(super) fn read(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let subject = p.subject()?;
    let text = p.rest().ok_or_else(|| p.missing("the update's text"))?;
    Ok(Command::Update { subject, text })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Update { subject, text } => engine.update_incident(actor, subject, &text),
        other => Err(mismatch(&DEF, &other)),
    }
}
