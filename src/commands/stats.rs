//! `stats`: deploy frequency, lead time, failure rate, time to restore.

use crate::domain::command::StatsPeriod;
use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "stats",
    usage: "stats [week|month|quarter]",
    example: "stats quarter",
    summary: "deploy frequency, lead time, failure rate, time to restore",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[opt(
            "period",
            "week, month or quarter",
            false,
            Kind::Choice(&["week", "month", "quarter"]),
        )],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Stats { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Stats {
        period: match p.peek() {
            None => StatsPeriod::Week,
            Some(_) => period(p)?,
        },
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Stats {
        period: f.read("period", period)?.unwrap_or(StatsPeriod::Week),
    })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Stats { period } => engine.stats(period),
        other => Err(mismatch(&DEF, &other)),
    }
}

/// `week`, `month`, `quarter`.
fn period(p: &mut Parser<'_>) -> Result<StatsPeriod, ParseError> {
    let token = p.take("the period")?;
    match token.text.to_ascii_lowercase().as_str() {
        "week" => Ok(StatsPeriod::Week),
        "month" => Ok(StatsPeriod::Month),
        "quarter" => Ok(StatsPeriod::Quarter),
        _ => Err(p.error(
            &token,
            format!("`{}` is not a period. Usage: {}", token.text, p.usage),
        )),
    }
}
