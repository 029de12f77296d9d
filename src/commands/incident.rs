//! `incident`: open one, hand its lead on, or show one (or every open one).
//! `incident update` and `incident resolve` are `update` and `resolve`.

use crate::domain::command::{Command, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineResult, Reply};

use super::{mismatch, Def};

pub static DEF: Def = Def {
    name: "incident",
    usage: "incident open <service> <env> sev1|sev2|sev3 <summary> | incident lead <incident> <platform:user> | incident update <incident> <text> | incident resolve <incident> <summary> | incident [<incident>]",
    example: "incident open api production sev1 checkout errors above 5%",
    summary: "open an incident (locks deploys there), hand its lead on, or show incidents",
    needs: Needs::Rollback,
    changes: true,
    in_thread: false,
    // Discord has room for 25 typed subcommands: this comes as a line
    // (`/release run`).
    typed: None,
    parse,
    applies: |command| {
        matches!(
            command,
            Command::IncidentOpen { .. } | Command::IncidentLead { .. } | Command::Incidents { .. }
        )
    },
    apply,
};

fn parse(p: &mut Parser<'_>) -> Result<Command, ParseError> {
    let Some(word) = p.peek().cloned() else {
        return Ok(Command::Incidents { subject: None });
    };
    match word.text.to_ascii_lowercase().as_str() {
        "open" => {
            p.next += 1;
            let service = p.name("the service")?;
            let environment = p.name("the environment")?;
            let severity = p.severity()?;
            let summary = p.rest().ok_or_else(|| p.missing("a summary of what is wrong"))?;
            Ok(Command::IncidentOpen {
                service,
                environment,
                severity,
                summary,
            })
        }
        "lead" => {
            p.next += 1;
            let subject = p.subject()?;
            let token = p.take("the new lead (platform:id, like slack:U123)")?;
            let lead = UserRef::parse(&token.text).map_err(|e| p.error(&token, e.0))?;
            Ok(Command::IncidentLead { subject, lead })
        }
        "update" => {
            p.next += 1;
            super::update::read(p)
        }
        "resolve" => {
            p.next += 1;
            super::resolve::read(p)
        }
        _ => Ok(Command::Incidents {
            subject: Some(p.subject().map_err(|_| {
                p.error(
                    &word,
                    format!(
                        "Unexpected `{}`: after `incident` come `open`, `lead`, `update`, `resolve` or an incident id. Usage: {}",
                        word.text, p.usage
                    ),
                )
            })?),
        }),
    }
}

fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    match command {
        Command::IncidentOpen {
            service,
            environment,
            severity,
            summary,
        } => engine.open_incident(actor, &service, &environment, severity, &summary),
        Command::IncidentLead { subject, lead } => engine.hand_lead(actor, subject, &lead),
        Command::Incidents { subject } => engine.incidents(subject),
        other => Err(mismatch(&DEF, &other)),
    }
}
