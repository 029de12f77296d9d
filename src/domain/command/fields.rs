//! Commands from named fields, as a client with typed options sends them
//! (Discord's `/release request service:api version:2.4.0 notes:…`). Each
//! value is read on its own, with the same readers as the line parser, so a
//! date or an id means the same everywhere; free text (notes, reasons,
//! comments, checklist items) is taken exactly as sent. Nothing is joined
//! into a line and parsed again, so no quote or keyword in someone's words
//! can be read as syntax.

use super::cursor::{error_at, tokenize, Parser};
use super::parse::{calendar_range, list_filter, stats_period};
use super::*;

/// The command `name` with its fields; `field` gives a field's value as sent
/// (blank counts as absent). Field names are the option names of the
/// `/release` subcommands: `id`, `service`, `version`, `environment`, `at`,
/// `notes`, `priority`, `comment`, `reason`, `item`, `filter`, `range`,
/// `period`, `command`.
pub fn from_fields<'a>(
    name: &str,
    field: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Command, ParseError> {
    let Some(spec) = spec(name) else {
        return Err(error_at(
            name,
            0,
            name.chars().count(),
            format!("Unknown command `{name}`. Type `help` to see the commands."),
        ));
    };
    let f = Fields {
        usage: spec.usage,
        field,
    };
    let command = match spec.name {
        "request" => Command::Request(RequestArgs {
            service: f.need("service", "the service", |p| p.name("the service"))?,
            version: f.need("version", "the version (like 2.4.0)", |p| p.version())?,
            environment: f.read("environment", |p| p.name("the environment"))?,
            at: f.read("at", |p| p.when())?,
            notes: f.text("notes"),
            priority: f.read("priority", |p| p.priority())?.unwrap_or_default(),
        }),
        "approve" => Command::Approve {
            id: f.id()?,
            comment: f.text("comment"),
        },
        "reject" => Command::Reject {
            id: f.id()?,
            reason: f.need_text("reason", "the reason for rejecting")?,
        },
        "cancel" => Command::Cancel {
            id: f.id()?,
            reason: f.text("reason"),
        },
        "schedule" => Command::Schedule {
            id: f.id()?,
            at: f.need("at", "the date and time (like 2026-12-01 14:00)", |p| {
                p.when()
            })?,
        },
        "unschedule" => Command::Unschedule { id: f.id()? },
        "checklist" => Command::Checklist { id: f.id()? },
        "check" => Command::Check {
            id: f.id()?,
            item: f.need_text("item", "the checklist item (its number or name)")?,
        },
        "uncheck" => Command::Uncheck {
            id: f.id()?,
            item: f.need_text("item", "the checklist item (its number or name)")?,
        },
        "deploy" => Command::Deploy { id: f.id()? },
        "rollback" => Command::Rollback {
            id: f.id()?,
            reason: f.need_text("reason", "the reason for the rollback")?,
        },
        "status" => Command::Status { id: f.id()? },
        "history" => Command::History { id: f.id()? },
        "notes" => Command::Notes { id: f.id()? },
        "list" => Command::List(f.read("filter", list_filter)?.unwrap_or(ListFilter::Open)),
        "roles" => Command::Roles,
        "freezes" => Command::Freezes,
        "calendar" => Command::Calendar {
            range: f
                .read("range", calendar_range)?
                .unwrap_or(CalendarRange::Week),
        },
        "stats" => Command::Stats {
            period: f.read("period", stats_period)?.unwrap_or(StatsPeriod::Week),
        },
        "lock" => Command::Lock {
            service: f.need("service", "the service", |p| p.name("the service"))?,
            environment: f.need("environment", "the environment", |p| {
                p.name("the environment")
            })?,
            reason: f.need_text("reason", "the reason for the lock")?,
        },
        "unlock" => Command::Unlock {
            service: f.need("service", "the service", |p| p.name("the service"))?,
            environment: f.need("environment", "the environment", |p| {
                p.name("the environment")
            })?,
        },
        "bump" => Command::Bump {
            id: f.id()?,
            reason: f.need_text("reason", "the reason for the bump")?,
        },
        "help" => Command::Help {
            // As on a line: the first word names the command.
            topic: f
                .value("command")
                .and_then(|t| t.split_whitespace().next())
                .map(|t| t.to_ascii_lowercase()),
        },
        // Commands with structured arguments of their own (dates with
        // optional times, users) have no fields: they come as a line.
        other => {
            return Err(error_at(
                other,
                0,
                other.chars().count(),
                format!("`{other}` takes a command line: write it out, as in the shell."),
            ))
        }
    };
    Ok(command)
}

struct Fields<'f, 'a> {
    usage: &'static str,
    field: &'f dyn Fn(&str) -> Option<&'a str>,
}

impl Fields<'_, '_> {
    fn value(&self, key: &str) -> Option<&str> {
        (self.field)(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Free text, exactly as sent (trimmed).
    fn text(&self, key: &str) -> Option<String> {
        self.value(key).map(str::to_string)
    }

    fn need_text(&self, key: &str, what: &str) -> Result<String, ParseError> {
        self.text(key).ok_or_else(|| self.missing(key, what))
    }

    /// A typed value, read alone by the line parser's reader for it; all of
    /// the value must be used.
    fn read<T>(
        &self,
        key: &str,
        reader: impl FnOnce(&mut Parser<'_>) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ParseError> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let named = |error: ParseError| ParseError {
            message: format!("`{key}`: {}", error.message),
            ..error
        };
        let mut p = Parser {
            input: value,
            tokens: tokenize(value).map_err(named)?,
            next: 0,
            usage: self.usage,
        };
        let read = reader(&mut p).map_err(named)?;
        p.finish().map_err(named)?;
        Ok(Some(read))
    }

    fn need<T>(
        &self,
        key: &str,
        what: &str,
        reader: impl FnOnce(&mut Parser<'_>) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.read(key, reader)?
            .ok_or_else(|| self.missing(key, what))
    }

    fn id(&self) -> Result<ReleaseId, ParseError> {
        self.need("id", "the release id (like R-42)", |p| p.id())
    }

    fn missing(&self, key: &str, what: &str) -> ParseError {
        error_at("", 0, 0, format!("Missing `{key}`: {what}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(name: &str, pairs: &[(&str, &str)]) -> Result<Command, ParseError> {
        let values: BTreeMap<&str, &str> = pairs.iter().copied().collect();
        from_fields(name, &|key| values.get(key).copied())
    }

    #[test]
    fn a_request_reads_like_the_same_line_and_keeps_the_notes_verbatim() {
        let notes = r#"fixes "login" \ and to production at 10:00 priority low"#;
        let typed = run(
            "request",
            &[
                ("service", "api"),
                ("version", "2.4.0"),
                ("environment", "production"),
                ("at", "2026-12-01 14:00"),
                ("notes", notes),
                ("priority", "high"),
            ],
        )
        .unwrap();
        let Command::Request(args) = &typed else {
            panic!("{typed:?}")
        };
        assert_eq!(args.notes.as_deref(), Some(notes));
        let line =
            parse("request api 2.4.0 to production at 2026-12-01 14:00 priority high notes x")
                .unwrap();
        let Command::Request(from_line) = line else {
            unreachable!()
        };
        assert_eq!(
            RequestArgs {
                notes: Some(notes.to_string()),
                ..from_line
            },
            *args
        );
    }

    #[test]
    fn reasons_are_taken_whole_and_ids_alone() {
        assert_eq!(
            run(
                "reject",
                &[("id", "R-3"), ("reason", "  \"no\" — see <@&1>  ")]
            )
            .unwrap(),
            Command::Reject {
                id: ReleaseId::new(3),
                reason: "\"no\" — see <@&1>".into()
            }
        );
        let extra = run("deploy", &[("id", "R-3 now")]).unwrap_err();
        assert!(
            extra.message.starts_with("`id`: Unexpected `now`"),
            "{extra}"
        );
        assert_eq!(
            run("list", &[("filter", "mine")]).unwrap(),
            Command::List(ListFilter::Mine)
        );
        assert_eq!(run("list", &[]).unwrap(), Command::List(ListFilter::Open));
    }

    #[test]
    fn missing_and_out_of_range_values_name_their_field() {
        let missing = run("reject", &[("id", "R-3"), ("reason", "   ")]).unwrap_err();
        assert_eq!(
            missing.message,
            "Missing `reason`: the reason for rejecting."
        );
        let priority = run(
            "request",
            &[
                ("service", "api"),
                ("version", "1.0"),
                ("priority", "urgent"),
            ],
        )
        .unwrap_err();
        assert!(
            priority
                .message
                .starts_with("`priority`: `urgent` is not a priority"),
            "{priority}"
        );
        let period = run("stats", &[("period", "decade")]).unwrap_err();
        assert!(
            period
                .message
                .starts_with("`period`: `decade` is not a period"),
            "{period}"
        );
        let when = run("schedule", &[("id", "R-1"), ("at", "2026-12-01 25:00")]).unwrap_err();
        assert!(
            when.message.starts_with("`at`: `25:00` is not a time"),
            "{when}"
        );
        let id = run("status", &[("id", "R-0")]).unwrap_err();
        assert!(id.message.starts_with("`id`: "), "{id}");
        assert!(run("launch", &[])
            .unwrap_err()
            .message
            .contains("Unknown command"));
        assert!(run("freeze", &[])
            .unwrap_err()
            .message
            .contains("takes a command line"));
    }
}
