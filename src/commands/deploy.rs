//! `deploy`: relay the deploy to CI.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed, ID};

pub static DEF: Def = Def {
    name: "deploy",
    usage: "deploy <id> [override <reason>]",
    example: "deploy R-1",
    summary: "relay the deploy to CI (a release manager may override a soak rule, saying why)",
    needs: Needs::Deploy,
    changes: true,
    in_thread: true,
    typed: Some(Typed {
        options: &[
            ID,
            opt(
                "override",
                "a release manager's reason to deploy before the soak is done",
                false,
                Kind::Text,
            ),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Deploy { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let id = p.id()?;
    let override_soak = match p.peek() {
        Some(word) if word.text.eq_ignore_ascii_case("override") => {
            p.next += 1;
            Some(
                p.rest()
                    .ok_or_else(|| p.missing("the reason for the override"))?,
            )
        }
        _ => None,
    };
    Ok(Command::Deploy { id, override_soak })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Deploy {
        id: f.id()?,
        override_soak: f.text("override"),
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Deploy { id, override_soak } => engine.deploy(actor, id, override_soak),
        other => Err(mismatch(&DEF, &other)),
    }
}
