//! `stats`: deploy frequency, lead time, failure rate, time to restore.

use crate::domain::command::StatsPeriod;
use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "stats",
    usage: "stats [week|month|quarter] [<env>] [<service>]",
    example: "stats quarter staging api",
    summary: "DORA's five: deploy frequency, lead time, fail rate, recovery time, rework rate",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[
            opt(
                "period",
                "week, month or quarter",
                false,
                Kind::Choice(&["week", "month", "quarter"]),
            ),
            opt(
                "environment",
                "whose deploys (default: production)",
                false,
                Kind::Environment,
            ),
            opt("service", "one service only", false, Kind::Service),
        ],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Stats { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let is_period =
        |word: &str| ["week", "month", "quarter"].contains(&word.to_ascii_lowercase().as_str());
    let period = match p.peek() {
        Some(word) if is_period(&word.text) => period(p)?,
        _ => StatsPeriod::Week,
    };
    let mut scope = Vec::new();
    while p.peek().is_some() {
        scope.push(p.name("an environment or service")?);
    }
    Ok(Command::Stats { period, scope })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    let mut scope = Vec::new();
    for key in ["environment", "service"] {
        if let Some(name) = f.read(key, |p| p.name(key))? {
            scope.push(name);
        }
    }
    Ok(Command::Stats {
        period: f.read("period", period)?.unwrap_or(StatsPeriod::Week),
        scope,
    })
}

fn apply(engine: &Engine, _actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Stats { period, scope } => engine.stats(period, &scope),
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
