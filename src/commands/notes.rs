//! `notes`: release notes in Markdown.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "notes",
    usage: "notes <id> [audience] | notes <from>..<to> <service>",
    example: "notes R-1 customers",
    summary: "release notes in Markdown, or in one audience's words; the changes between two versions or environments",
    needs: Needs::Anyone,
    changes: false,
    in_thread: true,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Notes { .. } | Command::NotesRange { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    if let Some(range) = p.peek().filter(|t| t.text.contains("..")).cloned() {
        p.next += 1;
        let (from, to) = range.text.split_once("..").unwrap_or_default();
        if from.is_empty() || to.is_empty() {
            return Err(p.error(
                &range,
                "A range has two ends: versions or environments, like 2.3.0..2.4.0 or staging..production.",
            ));
        }
        let service = p.name("the service")?;
        return Ok(Command::NotesRange {
            from: from.to_string(),
            to: to.to_string(),
            service,
        });
    }
    let id = p.id()?;
    let audience = match p.peek() {
        Some(_) => Some(p.name("the audience")?),
        None => None,
    };
    Ok(Command::Notes { id, audience })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Notes { id, audience } => match audience {
            Some(audience) => engine.audience_notes(id, &audience),
            None => engine.notes(id),
        },
        Command::NotesRange { from, to, service } => engine.notes_between(&from, &to, &service),
        other => Err(mismatch(&DEF, &other)),
    }
}
