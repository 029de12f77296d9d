//! The command table: every command's usage line, summary and who may use
//! it. `help` is generated from it, and the parser dispatches on its names.

/// What a caller needs before `help` shows them a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Anyone,
    Request,
    Approve,
    Deploy,
    Rollback,
    /// May grant and revoke roles.
    Admin,
}

/// One command's usage line and summary; the source of `help`.
#[derive(Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    pub needs: Needs,
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "request", usage: "request <service> <version> [to <env>] [at <YYYY-MM-DD HH:MM>] [notes \"<text>\"] [priority low|normal|high]", summary: "ask for a release", needs: Needs::Request },
    CommandSpec { name: "approve", usage: "approve <id> [comment]", summary: "approve a release", needs: Needs::Approve },
    CommandSpec { name: "reject", usage: "reject <id> <reason>", summary: "reject a release, saying why", needs: Needs::Approve },
    CommandSpec { name: "cancel", usage: "cancel <id> [reason]", summary: "withdraw a release (requester or approver)", needs: Needs::Request },
    CommandSpec { name: "schedule", usage: "schedule <id> <YYYY-MM-DD HH:MM>", summary: "set when a release goes out", needs: Needs::Request },
    CommandSpec { name: "unschedule", usage: "unschedule <id>", summary: "clear a release's deploy time", needs: Needs::Request },
    CommandSpec { name: "change", usage: "change <id> [version <version>] [to <env>]", summary: "change what or where (drops approvals)", needs: Needs::Request },
    CommandSpec { name: "checklist", usage: "checklist <id>", summary: "show a release's checklist", needs: Needs::Anyone },
    CommandSpec { name: "check", usage: "check <id> <item number or name>", summary: "tick a checklist item", needs: Needs::Request },
    CommandSpec { name: "uncheck", usage: "uncheck <id> <item number or name>", summary: "untick a checklist item", needs: Needs::Request },
    CommandSpec { name: "deploy", usage: "deploy <id>", summary: "relay the deploy to CI", needs: Needs::Deploy },
    CommandSpec { name: "rollback", usage: "rollback <id> <reason>", summary: "roll back to the previous live version", needs: Needs::Rollback },
    CommandSpec { name: "status", usage: "status <id>", summary: "where a release stands", needs: Needs::Anyone },
    CommandSpec { name: "list", usage: "list [pending|approved|scheduled|deploying|deployed|failed|mine|all]", summary: "list releases (default: open ones)", needs: Needs::Anyone },
    CommandSpec { name: "history", usage: "history <id>", summary: "the audit trail of a release", needs: Needs::Anyone },
    CommandSpec { name: "notes", usage: "notes <id>", summary: "release notes in Markdown", needs: Needs::Anyone },
    CommandSpec { name: "roles", usage: "roles", summary: "who holds which role", needs: Needs::Anyone },
    CommandSpec { name: "grant", usage: "grant <platform:user> <role>", summary: "give someone a role (kept in the store)", needs: Needs::Admin },
    CommandSpec { name: "revoke", usage: "revoke <platform:user> <role>", summary: "take back a role granted in chat", needs: Needs::Admin },
    CommandSpec { name: "calendar", usage: "calendar [today|week|month|<YYYY-MM-DD>]", summary: "scheduled releases and freezes", needs: Needs::Anyone },
    CommandSpec { name: "freeze", usage: "freeze <env> <YYYY-MM-DD> [HH:MM] to <YYYY-MM-DD> [HH:MM] <reason>", summary: "stop deploys and schedules for a while", needs: Needs::Admin },
    CommandSpec { name: "freezes", usage: "freezes", summary: "freezes now and ahead, with weekly ones", needs: Needs::Anyone },
    CommandSpec { name: "unfreeze", usage: "unfreeze <F-id>", summary: "lift a freeze", needs: Needs::Admin },
    CommandSpec { name: "lock", usage: "lock <service> <env> <reason>", summary: "hold deploys of a service (e.g. during a migration)", needs: Needs::Deploy },
    CommandSpec { name: "unlock", usage: "unlock <service> <env>", summary: "release a deploy lock", needs: Needs::Deploy },
    CommandSpec { name: "bump", usage: "bump <id> <reason>", summary: "take a lower-priority release out of its slot", needs: Needs::Admin },
    CommandSpec { name: "stats", usage: "stats [week|month|quarter]", summary: "deploy frequency, lead time, failure rate, time to restore", needs: Needs::Anyone },
    CommandSpec { name: "help", usage: "help [command]", summary: "what you can do here", needs: Needs::Anyone },
];

pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The closest command name, for "did you mean".
pub fn nearest_command(word: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c.name), c.name))
        .filter(|(distance, name)| *distance <= 2.max(name.len() / 3))
        .min()
        .map(|(_, name)| name)
}
