//! `unlock`: release a deploy lock.

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "unlock",
    usage: "unlock <service> <env>",
    example: "unlock api production",
    summary: "release a deploy lock",
    needs: Needs::Deploy,
    changes: true,
    in_thread: false,
    typed: Some(Typed {
        options: &[
            opt("service", "the service", true, Kind::Service),
            opt("environment", "the environment", true, Kind::Environment),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Unlock { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let service = p.name("the service")?;
    let environment = p.name("the environment")?;
    Ok(Command::Unlock {
        service,
        environment,
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Unlock {
        service: f.need("service", "the service", |p| p.name("the service"))?,
        environment: f.need("environment", "the environment", |p| {
            p.name("the environment")
        })?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Unlock {
            service,
            environment,
        } => engine.unlock(actor, service, environment),
        other => Err(mismatch(&DEF, &other)),
    }
}
