//! `lock`: hold deploys of a service (e.g. during a migration).

use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "lock",
    usage: "lock <service> <env> <reason>",
    example: "lock api production migration",
    summary: "hold deploys of a service (e.g. during a migration)",
    needs: Needs::Deploy,
    changes: true,
    in_thread: false,
    typed: Some(Typed {
        options: &[
            opt("service", "the service", true, Kind::Service),
            opt("environment", "the environment", true, Kind::Environment),
            opt("reason", "why", true, Kind::Text),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Lock { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let service = p.name("the service")?;
    let environment = p.name("the environment")?;
    let reason = p
        .rest()
        .ok_or_else(|| p.missing("the reason for the lock"))?;
    Ok(Command::Lock {
        service,
        environment,
        reason,
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Lock {
        service: f.need("service", "the service", |p| p.name("the service"))?,
        environment: f.need("environment", "the environment", |p| {
            p.name("the environment")
        })?,
        reason: f.need_text("reason", "the reason for the lock")?,
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Lock {
            service,
            environment,
            reason,
        } => engine.lock(actor, service, environment, reason),
        other => Err(mismatch(&DEF, &other)),
    }
}
