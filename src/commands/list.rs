//! `list`: list releases (default: open ones).

use crate::domain::command::ListFilter;
use crate::domain::command::{Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::domain::release::ReleaseStatus;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, opt, Def, Kind, Typed};

pub static DEF: Def = Def {
    name: "list",
    usage: "list [pending|approved|scheduled|deploying|deployed|failed|mine|all]",
    example: "list mine",
    summary: "list releases (default: open ones)",
    needs: Needs::Anyone,
    changes: false,
    in_thread: false,
    typed: Some(Typed {
        options: &[opt(
            "filter",
            "which releases (default: open ones)",
            false,
            Kind::Choice(&[
                "pending",
                "approved",
                "scheduled",
                "deploying",
                "deployed",
                "failed",
                "mine",
                "all",
            ]),
        )],
        read: fields,
    }),
    parse,
    applies: |command| matches!(command, Command::List(_)),
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(Command::List(match p.peek() {
        None => ListFilter::Open,
        Some(_) => filter(p)?,
    }))
}

fn fields(f: &Fields<'_, '_>) -> Result<Command, ParseError> {
    Ok(Command::List(
        f.read("filter", filter)?.unwrap_or(ListFilter::Open),
    ))
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::List(filter) => engine.list(actor, filter),
        other => Err(mismatch(&DEF, &other)),
    }
}

/// `open`, `pending`, `mine`, `all` or a status.
fn filter(p: &mut Parser<'_>) -> Result<ListFilter, ParseError> {
    let token = p.take("the filter")?;
    let word = token.text.to_ascii_lowercase();
    let filter = match word.as_str() {
        "open" => ListFilter::Open,
        "pending" => ListFilter::Status(ReleaseStatus::Requested),
        "mine" => ListFilter::Mine,
        "all" => ListFilter::All,
        other => ListFilter::Status(ReleaseStatus::parse(other).ok_or_else(|| {
            p.error(
                &token,
                format!("`{}` is not a list filter. Usage: {}", token.text, p.usage),
            )
        })?),
    };
    Ok(filter)
}
