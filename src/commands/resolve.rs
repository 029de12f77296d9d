//! `resolve`: end an incident, unlock deploys, post its summary.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "resolve",
    usage: "resolve <incident|release> <summary>",
    example: "resolve I-1 rolled back to 2.3.0; the cache key fix ships in 2.4.1",
    summary: "end an incident: unlock deploys and post the post-incident summary",
    needs: Needs::Rollback,
    changes: true,
    in_thread: false,
    typed: None,
    parse: read,
    applies: |command| matches!(command, Command::Resolve { .. }),
    apply,
};

/// `<incident|release> <summary>`, after `resolve` or `incident resolve`.
pub(super) fn read(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let subject = p.subject()?;
    let summary = p
        .rest()
        .ok_or_else(|| p.missing("a summary of how it ended"))?;
    Ok(Command::Resolve { subject, summary })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Resolve { subject, summary } => engine.resolve_incident(actor, subject, &summary),
        other => Err(mismatch(&DEF, &other)),
    }
}
