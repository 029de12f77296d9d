//! `checklist`: show a release's checklist.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def, Typed, ID};

pub static DEF: Def = Def {
    name: "checklist",
    usage: "checklist <id>",
    example: "checklist R-1",
    summary: "show a release's checklist",
    needs: Needs::Anyone,
    changes: false,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Checklist { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Checklist { id: p.id()? })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Checklist { id: f.id()? })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Checklist { id } => engine.checklist(id),
        other => Err(mismatch(&DEF, &other)),
    }
}
