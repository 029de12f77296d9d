//! `schedule`: set when a release goes out.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "schedule",
    usage: "schedule <id> <YYYY-MM-DD HH:MM>",
    example: "schedule R-1 2026-12-01 14:00",
    summary: "set when a release goes out",
    needs: Needs::Request,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[
            ID,
            opt(
                "at",
                "YYYY-MM-DD HH:MM, in the environment's timezone",
                true,
                Kind::Text,
            ),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Schedule { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Schedule {
        id: p.id()?,
        at: p.when()?,
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Schedule {
        id: f.id()?,
        at: f.need("at", "the date and time (like 2026-12-01 14:00)", |p| {
            p.when()
        })?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Schedule { id, at } => engine.schedule(actor, id, Some(at)),
        other => Err(mismatch(&DEF, &other)),
    }
}
