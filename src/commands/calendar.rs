//! `calendar`: scheduled releases and freezes.

use crate::domain::command::CalendarRange;
use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::domain::when::{Day, DayError, When};
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "calendar",
    usage: "calendar [today|week|month|<YYYY-MM-DD>]",
    example: "calendar month",
    summary: "scheduled releases and freezes",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[opt(
            "range",
            "today, week, month or a date (YYYY-MM-DD)",
            false,
            Kind::Text,
        )],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::Calendar { .. }),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::Calendar {
        range: match p.peek() {
            None => CalendarRange::Week,
            Some(_) => range(p)?,
        },
    })
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::Calendar {
        range: f.read("range", range)?.unwrap_or(CalendarRange::Week),
    })
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::Calendar { range } => {
            engine.calendar(range, engine.config().timezone_of(actor.as_str()))
        }
        other => Err(mismatch(&DEF, &other)),
    }
}

/// `today`, `week`, `month` or a date.
fn range(p: &mut Parser<'_>) -> Result<CalendarRange, ParseError> {
    let token = p.take("the range")?;
    Ok(match token.text.to_ascii_lowercase().as_str() {
        "today" => CalendarRange::Today,
        "week" => CalendarRange::Week,
        "month" => CalendarRange::Month,
        _ => match When::read_day(&token.text) {
            Ok(Day::On(date)) => CalendarRange::Around(date),
            found => {
                let error = found.err().unwrap_or(DayError::NotADate);
                let message = error.message(&token.text, || {
                    format!(
                        "`{}` is not today, week, month or a YYYY-MM-DD date.",
                        token.text
                    )
                });
                return Err(p.error(&token, message));
            }
        },
    })
}
