//! `uncheck`: untick a checklist item.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "uncheck",
    usage: "uncheck <id> <item number or name>",
    example: "uncheck R-1 1",
    summary: "untick a checklist item",
    needs: Needs::Request,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[ID, opt("item", "item number or name", true, Kind::Text)],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Uncheck { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let (id, item) = p.id_and_rest("the checklist item (its number or name)")?;
    Ok(Command::Uncheck { id, item })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Uncheck {
        id: f.id()?,
        item: f.need_text("item", "the checklist item (its number or name)")?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Uncheck { id, item } => engine.set_check(actor, id, &item, false),
        other => Err(mismatch(&DEF, &other)),
    }
}
