//! One home per command. Each file here holds one command whole: its
//! grammar (usage, summary, who may use it, how a line reads), its typed
//! options (Discord's `/release` subcommands read them as fields), whether a
//! reply in a release's thread may leave out the id, and what it does in
//! the engine. The parser, `help`, did-you-mean, Discord's registration and
//! thread shortcuts are built from `REGISTRY`.
//!
//! Adding a command: its value in `domain::command::Command`, one file here
//! (copy `status.rs`), and its `mod` and `REGISTRY` lines below.

mod approve;
mod bump;
mod calendar;
mod cancel;
mod change;
mod check;
mod checklist;
mod dashboard;
mod deploy;
mod freeze;
mod freezes;
mod grant;
mod help;
mod history;
mod incident;
mod list;
mod lock;
mod notes;
mod promote;
mod reject;
mod request;
mod resolve;
mod revoke;
mod roles;
mod rollback;
mod schedule;
mod signout_everyone;
mod stats;
mod status;
mod uncheck;
mod unfreeze;
mod unlock;
mod unschedule;
mod update;

use crate::domain::command::{error_at, tokenize, Command, Fields, Needs, ParseError, Parser};
use crate::domain::ids::UserRef;
use crate::engine::{Engine, EngineError, EngineResult, Reply};

/// Every command, in the order `help` lists them.
pub static REGISTRY: &[&Def] = &[
    &request::DEF,
    &approve::DEF,
    &reject::DEF,
    &cancel::DEF,
    &schedule::DEF,
    &unschedule::DEF,
    &change::DEF,
    &checklist::DEF,
    &check::DEF,
    &uncheck::DEF,
    &deploy::DEF,
    &rollback::DEF,
    &promote::DEF,
    &incident::DEF,
    &update::DEF,
    &resolve::DEF,
    &status::DEF,
    &list::DEF,
    &history::DEF,
    &notes::DEF,
    &roles::DEF,
    &grant::DEF,
    &revoke::DEF,
    &calendar::DEF,
    &freeze::DEF,
    &freezes::DEF,
    &unfreeze::DEF,
    &lock::DEF,
    &unlock::DEF,
    &bump::DEF,
    &stats::DEF,
    &dashboard::DEF,
    &signout_everyone::DEF,
    &help::DEF,
];

/// One command.
pub struct Def {
    pub name: &'static str,
    pub usage: &'static str,
    /// A line that runs it (tests check that it reads back as this command).
    pub example: &'static str,
    pub summary: &'static str,
    /// Who `help` shows it to (the engine checks the rules when it runs).
    pub needs: Needs,
    /// Whether it changes anything: chat shows changes to the channel and
    /// answers queries (and errors) to the asker alone.
    pub changes: bool,
    /// In a release's thread, `deploy` stands for `deploy <that release>`.
    pub in_thread: bool,
    /// Its typed options, where a client sends named fields; `None` for a
    /// command that only comes as a line (Discord: `/release run`).
    pub typed: Option<Typed>,
    /// Reads the rest of a line, after the command's name.
    pub parse: fn(&mut Parser<'_>) -> Result<Command, ParseError>,
    /// Whether a command value is this command's.
    pub applies: fn(&Command) -> bool,
    /// Runs it in the engine.
    pub apply: fn(&Engine, &UserRef, Command) -> EngineResult<Reply>,
}

/// A command's typed options and how a set of them reads.
pub struct Typed {
    pub options: &'static [Opt],
    pub read: fn(&Fields<'_, '_>) -> Result<Command, ParseError>,
}

/// What an option holds, and so how a client offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A release id; autocompleted from open releases.
    Release,
    /// One of the configured services (choices).
    Service,
    /// One of the configured environments (choices).
    Environment,
    /// One of fixed words.
    Choice(&'static [&'static str]),
}

/// One typed option.
#[derive(Debug)]
pub struct Opt {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub kind: Kind,
}

const fn opt(name: &'static str, description: &'static str, required: bool, kind: Kind) -> Opt {
    Opt {
        name,
        description,
        required,
        kind,
    }
}

/// The release a command is about.
const ID: Opt = opt("id", "the release, e.g. R-12", true, Kind::Release);

/// The command named `name`.
pub fn find(name: &str) -> Option<&'static Def> {
    REGISTRY.iter().copied().find(|def| def.name == name)
}

/// The command a value is of.
pub fn of(command: &Command) -> &'static Def {
    REGISTRY
        .iter()
        .copied()
        .find(|def| (def.applies)(command))
        .expect("every command value has its file in the registry")
}

/// Whether a command changes anything (see `Def::changes`).
pub fn changes_state(command: &Command) -> bool {
    of(command).changes
}

/// The closest command name, for "did you mean".
pub fn nearest(word: &str) -> Option<&'static str> {
    REGISTRY
        .iter()
        .map(|def| (strsim::damerau_levenshtein(word, def.name), def.name))
        .filter(|(distance, name)| *distance <= 2.max(name.len() / 3))
        .min()
        .map(|(_, name)| name)
}

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
    let Some(def) = find(&name) else {
        let hint = nearest(&name)
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
        usage: def.usage,
    };
    let command = (def.parse)(&mut p)?;
    p.finish()?;
    Ok(command)
}

/// The command `name` with its fields, as a client with typed options
/// sends them (Discord's `/release request service:api version:2.4.0`);
/// `field` gives a field's value as sent (blank counts as absent). Each
/// value is read alone, with the line parser's reader for it; free text is
/// taken exactly as sent, never joined into a line and parsed again.
pub fn from_fields<'a>(
    name: &str,
    field: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Command, ParseError> {
    let Some(def) = find(name) else {
        return Err(error_at(
            name,
            0,
            name.chars().count(),
            format!("Unknown command `{name}`. Type `help` to see the commands."),
        ));
    };
    match &def.typed {
        Some(typed) => (typed.read)(&Fields::new(def.usage, field)),
        // Structured arguments of their own (dates with optional times,
        // users): these come as a line.
        None => Err(error_at(
            name,
            0,
            name.chars().count(),
            format!("`{name}` takes a command line: write it out, as in the shell."),
        )),
    }
}

/// Runs a command in the engine.
pub fn apply(engine: &Engine, actor: &UserRef, command: Command) -> EngineResult<Reply> {
    (of(&command).apply)(engine, actor, command)
}

/// A command handed to another command's `apply`: a bug, not the user's.
fn mismatch(def: &Def, command: &Command) -> EngineError {
    EngineError::Internal(format!("`{}` was asked to run {command:?}", def.name))
}

#[cfg(test)]
mod fields_tests;
#[cfg(test)]
mod tests;
