//! `promote`: request a deployed release's version for the next environment.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "promote",
    usage: "promote <id> [to <env>]",
    example: "promote R-1 to production",
    summary: "request a deployed version for the next environment (its soak rule applies)",
    needs: Needs::Request,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[
            ID,
            opt(
                "environment",
                "where to (default: the one that requires this one)",
                false,
                Kind::Environment,
            ),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Promote { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let id = p.id()?;
    let to = match p.peek() {
        Some(word) if word.text.eq_ignore_ascii_case("to") => {
            p.next += 1;
            Some(p.name("the environment after `to`")?)
        }
        _ => None,
    };
    Ok(Command::Promote { id, to })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Promote {
        id: f.id()?,
        to: f.read("environment", |p| p.name("the environment"))?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Promote { id, to } => engine.promote(actor, id, to),
        other => Err(mismatch(&DEF, &other)),
    }
}
