//! `freeze`: stop deploys and schedules for a while.

use crate::domain::command::FreezeBound;
use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::Name;
use crate::domain::ids::UserRef;
use crate::domain::when::When;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "freeze",
    usage: "freeze <env> <YYYY-MM-DD> [HH:MM] to <YYYY-MM-DD> [HH:MM] <reason>",
    example: "freeze production 2026-12-24 to 2026-12-26 holidays",
    summary: "stop deploys and schedules for a while",
    needs: Needs::Admin,
    changes: true,
    in_thread: false,
    typed: None,
    parse,
    applies: |command| matches!(command, Command::Freeze { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    freeze(p)
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Freeze {
            environment,
            from,
            to,
            reason,
        } => engine.freeze(actor, environment, from, to, reason),
        other => Err(mismatch(&DEF, &other)),
    }
}

fn bound(p: &mut Parser<'_>, what: &str) -> Result<FreezeBound, ParseError> {
    let token = p.take(what)?;
    let day = When::read_day(&token.text).map_err(|error| {
        let message = error.message(&token.text, || {
            format!(
                "`{}` is not a date: use YYYY-MM-DD, today or tomorrow.",
                token.text
            )
        });
        p.error(&token, message)
    })?;
    let time = p.peek().and_then(|t| When::parse_time(&t.text));
    if time.is_some() {
        p.next += 1;
    }
    Ok(FreezeBound { day, time })
}

fn freeze(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let env_token = p.take("the environment")?;
    let environment = Name::parse(&env_token.text).map_err(|e| p.error(&env_token, e.0))?;
    let from = bound(p, "the first day (YYYY-MM-DD)")?;
    let to_word = p.take("`to` and the last day")?;
    if !to_word.text.eq_ignore_ascii_case("to") {
        return Err(p.error(
            &to_word,
            format!("Expected `to` before the last day. Usage: {}", p.usage),
        ));
    }
    let to = bound(p, "the last day (YYYY-MM-DD)")?;
    let reason = p
        .rest()
        .ok_or_else(|| p.missing("the reason for the freeze"))?;
    Ok(Command::Freeze {
        environment,
        from,
        to,
        reason,
    })
}
