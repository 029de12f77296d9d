//! Lists as text: `list`, `history`, `roles` and `help`.

use std::fmt::Write;

use crate::domain::text::Text;
use crate::domain::when::format_local;

use super::{HelpView, HistoryView, ListKind, ListView, RolesView};

impl ListKind {
    /// The list's title word: `Pending`, `Open`, `Deployed`, `Your`, `Latest`.
    pub fn title(self) -> String {
        match self {
            ListKind::Pending => "Pending".to_string(),
            ListKind::Status(status) => capitalize(status.as_str()),
            ListKind::Open => "Open".to_string(),
            ListKind::Mine => "Your".to_string(),
            ListKind::Latest => "Latest".to_string(),
        }
    }
}

fn capitalize(word: &str) -> String {
    let spaced = word.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

pub(super) fn list(view: &ListView) -> Text {
    let title = view.kind.title();
    if view.rows.is_empty() {
        return Text::plain(format!("{title} releases: none."));
    }
    let mut out = Text::plain(format!("{title} releases ({}):", view.total));
    for (release, tz) in &view.rows {
        let when = release
            .scheduled_at
            .map(|at| format_local(at, *tz))
            .unwrap_or_default();
        let _ = write!(
            out,
            "\n{:<6} {:<12} {:<32} ",
            release.id.to_string(),
            release.status.as_str(),
            release.title(),
        );
        out.push_person(&release.requester);
        let _ = write!(out, " {when}");
    }
    let shown = view.rows.len() as u64;
    if view.total > shown {
        let _ = write!(out, "\n… and {} more.", view.total - shown);
    }
    out.trim_end()
}

pub(super) fn history(view: &HistoryView) -> Text {
    let mut out = format!("History of {}:", view.release);
    for entry in &view.entries {
        let _ = write!(out, "\n{}", entry.to_line());
    }
    Text::plain(out)
}

pub(super) fn roles(view: &RolesView) -> Text {
    let mut out = Text::plain("Roles (* granted in chat):");
    for (user, roles) in &view.people {
        let list: Vec<String> = roles
            .iter()
            .map(|(role, granted)| format!("{role}{}", if *granted { "*" } else { "" }))
            .collect();
        let _ = writeln!(out);
        out.push_person(user);
        let _ = write!(out, ": {}", list.join(", "));
    }
    out
}

pub(super) fn help(view: &HelpView) -> Text {
    match view {
        HelpView::Topic {
            usage,
            name,
            summary,
            allowed,
        } => {
            let note = if *allowed {
                ""
            } else {
                "\n(Your roles don't allow this here.)"
            };
            Text::plain(format!("{usage}\n  {name}: {summary}{note}"))
        }
        HelpView::All {
            user,
            roles,
            usages,
        } => {
            let role_list = if roles.is_empty() {
                "no roles".to_string()
            } else {
                roles.join(", ")
            };
            let mut out = Text::plain("You are ")
                .person(user)
                .say(format!(" ({role_list}). You can:"));
            for usage in usages {
                let _ = write!(out, "\n  {usage}");
            }
            let _ = write!(out, "\nIds look like R-42. `help <command>` explains one.");
            out
        }
    }
}
