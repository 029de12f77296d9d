//! `check`: tick a checklist item.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "check",
    usage: "check <id> <item number or name>",
    example: "check R-1 1",
    summary: "tick a checklist item",
    needs: Needs::Request,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID, opt("item", "item number or name", true, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Check { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let (id, item) = p.id_and_rest("the checklist item (its number or name)")?;
    Ok(Command::Check { id, item })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Check {
        id: f.id()?,
        item: f.need_text("item", "the checklist item (its number or name)")?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Check { id, item } => engine.set_check(actor, id, &item, true),
        other => Err(mismatch(&DEF, &other)),
    }
}
