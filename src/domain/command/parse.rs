//! The parser: one line of the command language into a `Command`.

use super::cursor::{error_at, tokenize, Parser};
use super::*;
use crate::domain::when::DayError;

/// Parses one line. A leading `/release` is allowed, so pasted slash commands work.
pub fn parse(input: &str) -> Result<Command, ParseError> {
    let mut tokens = tokenize(input)?;
    if tokens
        .first()
        .is_some_and(|t| t.text.eq_ignore_ascii_case("/release"))
    {
        tokens.remove(0);
    }
    let Some(first) = tokens.first().cloned() else {
        let end = input.chars().count();
        return Err(error_at(
            input,
            0,
            end,
            "Nothing to do: the line is empty. Type `help` to see the commands.",
        ));
    };
    let name = first.text.to_ascii_lowercase();
    let Some(spec) = spec(&name) else {
        let hint = nearest_command(&name)
            .map(|n| format!(" Did you mean `{n}`?"))
            .unwrap_or_default();
        return Err(error_at(
            input,
            first.start,
            first.end,
            format!(
                "Unknown command `{}`.{hint} Type `help` to see the commands.",
                first.text
            ),
        ));
    };
    let mut p = Parser {
        input,
        tokens,
        next: 1,
        usage: spec.usage,
    };
    let command = command(spec.name, &mut p)?;
    p.finish()?;
    Ok(command)
}

/// The command `name` names, read from the rest of the line.
fn command(name: &str, p: &mut Parser<'_>) -> Result<Command, ParseError> {
    Ok(match name {
        "request" => Command::Request(parse_request(p)?),
        "approve" => Command::Approve {
            id: p.id()?,
            comment: p.rest(),
        },
        "reject" => {
            let id = p.id()?;
            let reason = p
                .rest()
                .ok_or_else(|| missing(p, "the reason for rejecting"))?;
            Command::Reject { id, reason }
        }
        "cancel" => Command::Cancel {
            id: p.id()?,
            reason: p.rest(),
        },
        "schedule" => Command::Schedule {
            id: p.id()?,
            at: p.when()?,
        },
        "unschedule" => Command::Unschedule { id: p.id()? },
        "change" => parse_change(p)?,
        "checklist" => Command::Checklist { id: p.id()? },
        "check" | "uncheck" => parse_check(name, p)?,
        "deploy" => Command::Deploy { id: p.id()? },
        "rollback" => {
            let id = p.id()?;
            let reason = p
                .rest()
                .ok_or_else(|| missing(p, "the reason for the rollback"))?;
            Command::Rollback { id, reason }
        }
        "status" => Command::Status { id: p.id()? },
        "history" => Command::History { id: p.id()? },
        "notes" => Command::Notes { id: p.id()? },
        "list" => Command::List(match p.peek() {
            None => ListFilter::Open,
            Some(_) => list_filter(p)?,
        }),
        "roles" => Command::Roles,
        "freezes" => Command::Freezes,
        "calendar" => Command::Calendar {
            range: match p.peek() {
                None => CalendarRange::Week,
                Some(_) => calendar_range(p)?,
            },
        },
        "stats" => Command::Stats {
            period: match p.peek() {
                None => StatsPeriod::Week,
                Some(_) => stats_period(p)?,
            },
        },
        "freeze" => parse_freeze(p)?,
        "unfreeze" => parse_unfreeze(p)?,
        "lock" | "unlock" => parse_lock(name, p)?,
        "bump" => {
            let id = p.id()?;
            let reason = p
                .rest()
                .ok_or_else(|| missing(p, "the reason for the bump"))?;
            Command::Bump { id, reason }
        }
        "grant" | "revoke" => parse_grant(name, p)?,
        "help" => {
            let topic = p.peek().map(|t| t.text.to_ascii_lowercase());
            p.next = p.tokens.len();
            Command::Help { topic }
        }
        other => unreachable!("spec table and parser disagree on `{other}`"),
    })
}

/// `check <id> <item>`, `uncheck …`: an item by number or name.
fn parse_check(name: &str, p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let id = p.id()?;
    let item = p
        .rest()
        .ok_or_else(|| missing(p, "the checklist item (its number or name)"))?;
    Ok(if name == "check" {
        Command::Check { id, item }
    } else {
        Command::Uncheck { id, item }
    })
}

/// `unfreeze F-1`.
fn parse_unfreeze(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let token = p.take("the freeze id (like F-1)")?;
    let digits = token
        .text
        .trim_start_matches(['F', 'f'])
        .trim_start_matches('-');
    let id = digits
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            p.error(
                &token,
                format!(
                    "`{}` is not a freeze id; freeze ids look like F-1",
                    token.text
                ),
            )
        })?;
    Ok(Command::Unfreeze { id })
}

/// `lock <service> <env> <reason>`, `unlock <service> <env>`.
fn parse_lock(name: &str, p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let service = p.name("the service")?;
    let environment = p.name("the environment")?;
    Ok(if name == "lock" {
        let reason = p
            .rest()
            .ok_or_else(|| missing(p, "the reason for the lock"))?;
        Command::Lock {
            service,
            environment,
            reason,
        }
    } else {
        Command::Unlock {
            service,
            environment,
        }
    })
}

/// `grant <platform:user> <role>`, `revoke …`.
fn parse_grant(name: &str, p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let user_token = p.take("the user (platform:id, like shell:erin)")?;
    let user = UserRef::parse(&user_token.text).map_err(|e| p.error(&user_token, e.0))?;
    let role = p.take("the role")?.text.to_ascii_lowercase();
    Ok(if name == "grant" {
        Command::Grant { user, role }
    } else {
        Command::Revoke { user, role }
    })
}

fn missing(p: &Parser<'_>, what: &str) -> ParseError {
    let end = p.end_position();
    error_at(
        p.input,
        end,
        end + 1,
        format!("Missing {what}. Usage: {}", p.usage),
    )
}

fn parse_request(p: &mut Parser<'_>) -> Result<RequestArgs, ParseError> {
    let service = p.name("the service name")?;
    let version = p.version()?;
    let mut args = RequestArgs {
        service,
        version,
        environment: None,
        at: None,
        notes: None,
        priority: Priority::Normal,
    };
    let mut seen: Vec<String> = Vec::new();
    while let Some(keyword) = p.peek().cloned() {
        p.next += 1;
        let word = keyword.text.to_ascii_lowercase();
        if seen.contains(&word) {
            return Err(p.error(&keyword, format!("`{word}` is given twice.")));
        }
        match word.as_str() {
            "to" => {
                args.environment = Some(p.name("the environment after `to`")?);
            }
            "at" => args.at = Some(p.when()?),
            "notes" => {
                let token = p.take("the notes after `notes` (in quotes)")?;
                args.notes = Some(if token.quoted {
                    token.text
                } else {
                    // Unquoted notes run to the end of the line.
                    p.next -= 1;
                    p.rest().unwrap_or_default()
                });
            }
            "priority" => {
                args.priority = p.priority()?;
            }
            _ => {
                return Err(p.error(
                    &keyword,
                    format!("Unexpected `{}`: after the version come `to`, `at`, `notes` or `priority`. Usage: {}", keyword.text, p.usage),
                ))
            }
        }
        seen.push(word);
    }
    Ok(args)
}

/// `week`, `month`, `quarter`.
pub(super) fn stats_period(p: &mut Parser<'_>) -> Result<StatsPeriod, ParseError> {
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

/// `today`, `week`, `month` or a date.
pub(super) fn calendar_range(p: &mut Parser<'_>) -> Result<CalendarRange, ParseError> {
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

fn freeze_bound(p: &mut Parser<'_>, what: &str) -> Result<FreezeBound, ParseError> {
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

fn parse_freeze(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let env_token = p.take("the environment")?;
    let environment = Name::parse(&env_token.text).map_err(|e| p.error(&env_token, e.0))?;
    let from = freeze_bound(p, "the first day (YYYY-MM-DD)")?;
    let to_word = p.take("`to` and the last day")?;
    if !to_word.text.eq_ignore_ascii_case("to") {
        return Err(p.error(
            &to_word,
            format!("Expected `to` before the last day. Usage: {}", p.usage),
        ));
    }
    let to = freeze_bound(p, "the last day (YYYY-MM-DD)")?;
    let reason = p
        .rest()
        .ok_or_else(|| missing(p, "the reason for the freeze"))?;
    Ok(Command::Freeze {
        environment,
        from,
        to,
        reason,
    })
}

fn parse_change(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let id = p.id()?;
    let (mut version, mut environment) = (None, None);
    while let Some(keyword) = p.peek().cloned() {
        p.next += 1;
        match keyword.text.to_ascii_lowercase().as_str() {
            "version" if version.is_none() => {
                let token = p.take("the new version")?;
                version = Some(Version::parse(&token.text).map_err(|e| p.error(&token, e.0))?);
            }
            "to" if environment.is_none() => {
                let token = p.take("the new environment")?;
                environment = Some(Name::parse(&token.text).map_err(|e| p.error(&token, e.0))?);
            }
            _ => {
                return Err(p.error(
                    &keyword,
                    format!("Unexpected `{}`. Usage: {}", keyword.text, p.usage),
                ))
            }
        }
    }
    if version.is_none() && environment.is_none() {
        return Err(missing(p, "what to change (`version <v>` or `to <env>`)"));
    }
    Ok(Command::Change {
        id,
        version,
        environment,
    })
}

/// `open`, `pending`, `mine`, `all` or a status.
pub(super) fn list_filter(p: &mut Parser<'_>) -> Result<ListFilter, ParseError> {
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
