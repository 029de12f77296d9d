//! One release as text: `status`, `checklist` and the Markdown of `notes`.

use std::fmt::Write;

use crate::domain::release::{DeployAction, JobOutcome, Release};
use crate::domain::text::Text;
use crate::domain::when::format_local;

use super::{Drift, NotesView, ReleaseView};

pub(super) fn status(view: &ReleaseView) -> Text {
    let (release, tz) = (&view.release, view.timezone);
    let local = |at| format_local(at, tz);
    let mut out = Text::plain(format!(
        "{} {} {}: {}\nRequested by ",
        release.status.emoji(),
        release.id,
        release.title(),
        release.status
    ));
    out.push_person(&release.requester);
    let _ = writeln!(
        out,
        " at {} · priority {}",
        local(release.requested_at),
        release.priority.as_str()
    );
    let window = release
        .scheduled_at
        .map_or("not scheduled".to_string(), local);
    let _ = writeln!(out, "Window: {window}");
    approvals(&mut out, view);
    if !release.checklist.is_empty() {
        let _ = writeln!(
            out,
            "Checklist {}/{}",
            release.checklist_done(),
            release.checklist.len()
        );
    }
    deployments(&mut out, view);
    for closure in [&release.rejected, &release.cancelled]
        .into_iter()
        .flatten()
    {
        let _ = write!(out, "Closed by ");
        out.push_person(&closure.by);
        let _ = writeln!(out, "{}", suffix(": ", closure.reason.as_ref()));
    }
    for drift in &view.drift {
        let _ = writeln!(out, "Drift: {}", drift_words(drift, release));
    }
    if let Some(from) = release.promoted_from {
        let _ = writeln!(out, "Promoted from {from}");
    }
    if let Some(incident) = release.fixes {
        let _ = writeln!(out, "Intent: the fix of incident {incident}");
    }
    if let Some(incident) = release.incident {
        let _ = writeln!(out, "Incident: {incident} was put down to this release");
    }
    if let Some(changes) = &release.changes {
        let _ = writeln!(out, "Changes: {}", changes.line());
    }
    if let Some(notes) = &release.notes {
        let _ = writeln!(out, "Notes: {notes}");
    }
    out.trim_end()
}

/// `production runs 2.0, 2 versions behind staging (2.1, 2.3)`.
fn drift_words(drift: &Drift, release: &Release) -> String {
    let (env, required) = (&drift.environment, &drift.required);
    let Some(live) = &drift.live else {
        return format!("{env} runs no version of {} yet", release.service);
    };
    match &drift.ahead {
        None => format!("{env} runs {live}, which never went live in {required}"),
        Some(ahead) if ahead.is_empty() => format!("{env} runs {live}, level with {required}"),
        Some(ahead) => format!(
            "{env} runs {live}, {} version{} behind {required} ({}){}",
            ahead.len(),
            if ahead.len() == 1 { "" } else { "s" },
            ahead
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            drift
                .changes
                .map(|n| format!(", {n} changes"))
                .unwrap_or_default()
        ),
    }
}

/// `" (reason: x)"`-style tails: `lead` and the value, or nothing.
fn suffix(lead: &str, value: Option<&String>) -> String {
    value.map(|v| format!("{lead}{v}")).unwrap_or_default()
}

fn approvals(out: &mut Text, view: &ReleaseView) {
    let (release, quorum) = (&view.release, &view.quorum);
    let _ = write!(out, "Approvals {}/{}", quorum.counted, quorum.needed);
    for (at, approval) in release.approvals.iter().enumerate() {
        let _ = write!(out, "{}", if at == 0 { ": " } else { ", " });
        out.push_person(&approval.by);
        if view.expired.get(at).copied().unwrap_or(false) {
            let _ = write!(out, " (expired)");
        }
        if let Some(comment) = &approval.comment {
            let _ = write!(out, " “{comment}”");
        }
    }
    if !quorum.met() && release.status.is_awaiting_deploy() {
        let _ = write!(out, " · needs {}", quorum.missing.join(" and "));
    }
    let _ = writeln!(out);
}

fn deployments(out: &mut Text, view: &ReleaseView) {
    for deployment in &view.release.deployments {
        let result = match deployment.outcome {
            None => "running".to_string(),
            Some(JobOutcome::Succeeded) => "succeeded".to_string(),
            Some(JobOutcome::Failed) => {
                format!("failed{}", suffix(": ", deployment.message.as_ref()))
            }
        };
        let _ = write!(
            out,
            "{} {} by ",
            deployment.action.as_str(),
            deployment.version
        );
        out.push_person(&deployment.by);
        let _ = writeln!(
            out,
            " at {}: {result}{}",
            format_local(deployment.started_at, view.timezone),
            deployment
                .reason
                .as_ref()
                .map(|r| format!(" (reason: {r})"))
                .unwrap_or_default()
        );
    }
}

pub(super) fn checklist(release: &Release) -> Text {
    if release.checklist.is_empty() {
        return Text::plain(format!(
            "{} has no checklist ({} needs none).",
            release.id, release.environment
        ));
    }
    let mut out = format!(
        "Checklist for {} ({}/{}):",
        release.id,
        release.checklist_done(),
        release.checklist.len()
    );
    for (i, item) in release.checklist.iter().enumerate() {
        let who = item
            .by
            .as_ref()
            .map(|by| format!(" — {}", by.local()))
            .unwrap_or_default();
        let mark = if item.done { "x" } else { " " };
        let _ = write!(out, "\n{}. [{mark}] {}{who}", i + 1, item.item);
    }
    Text::plain(out)
}

/// Release notes in Markdown: what, why, who approved, checklist, how to
/// deploy and roll back.
/// `notes A..B <service>`.
pub(super) fn changes(view: &super::ChangesView) -> String {
    let mut md = format!("# {}\n\n", view.title);
    if let Some(notes) = &view.notes {
        md.push_str(&notes.markdown());
    }
    if let Some(pending) = &view.pending {
        let _ = writeln!(md, "_{pending}._");
    }
    md
}

pub(super) fn notes(view: &NotesView) -> String {
    let (release, tz) = (&view.release, view.timezone);
    let local = |at| format_local(at, tz);
    let mut md = format!(
        "# {} — {} {} to {}\n\n",
        release.id, release.service, release.version, release.environment
    );
    let _ = writeln!(
        md,
        "**Status:** {} · **Priority:** {}  ",
        release.status,
        release.priority.as_str()
    );
    let _ = writeln!(
        md,
        "**Requested by:** {} on {}  ",
        release.requester,
        local(release.requested_at)
    );
    let window = release
        .scheduled_at
        .map_or("not scheduled".to_string(), local);
    let _ = writeln!(md, "**Window:** {window}\n");
    let _ = writeln!(
        md,
        "## What and why\n\n{}\n",
        release
            .notes
            .as_deref()
            .unwrap_or("_No notes were given with the request._")
    );
    if let Some(changes) = &release.changes {
        let _ = writeln!(md, "## Changes from the code\n");
        match &view.changes {
            Some(notes) => {
                let _ = writeln!(md, "{}", notes.markdown());
            }
            None => {
                let _ = writeln!(md, "_{}_\n", changes.line());
            }
        }
    }
    let _ = writeln!(md, "## Approvals ({})\n", view.quorum_rule);
    if release.approvals.is_empty() {
        let _ = writeln!(md, "_None yet._");
    }
    for (at, a) in release.approvals.iter().enumerate() {
        let expired = if view.expired.get(at).copied().unwrap_or(false) {
            " (expired)"
        } else {
            ""
        };
        let comment = suffix(": ", a.comment.as_ref());
        let _ = writeln!(md, "- {} on {}{expired}{comment}", a.by, local(a.at));
    }
    let _ = writeln!(md, "\n## Checklist\n");
    if release.checklist.is_empty() {
        let _ = writeln!(md, "_No checklist for {}._", release.environment);
    }
    for item in &release.checklist {
        let mark = if item.done { "x" } else { " " };
        let _ = writeln!(md, "- [{mark}] {}", item.item);
    }
    deploy_and_rollback(&mut md, view);
    md.trim_end().to_string()
}

fn deploy_and_rollback(md: &mut String, view: &NotesView) {
    let release = &view.release;
    let _ = writeln!(md, "\n## Deploy instructions\n");
    let _ = writeln!(md, "1. Confirm approvals and checklist above are complete.");
    let _ = writeln!(
        md,
        "2. `deploy {}` relays {} {} to {} via {}.",
        release.id, release.service, release.version, release.environment, view.ci
    );
    let _ = writeln!(
        md,
        "3. Watch the release thread; the bot announces the result."
    );
    let _ = writeln!(md, "\n## Rollback plan\n");
    let _ = match &release.previous {
        Some(previous) => writeln!(
            md,
            "`rollback {} <reason>` returns {} in {} to {} (as shipped in {}).",
            release.id, release.service, release.environment, previous.version, previous.release
        ),
        None => writeln!(
            md,
            "`rollback {} <reason>` returns {} to the version live before this deploy; the bot records it when the deploy starts.",
            release.id, release.service
        ),
    };
    if release.deployments.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n## Deployments\n");
    for d in &release.deployments {
        let outcome = match d.outcome {
            None => "running",
            Some(JobOutcome::Succeeded) => "succeeded",
            Some(JobOutcome::Failed) => "failed",
        };
        let verb = if d.action == DeployAction::Rollback {
            "rollback to"
        } else {
            "deploy of"
        };
        let _ = writeln!(
            md,
            "- {verb} {} by {} on {}: {outcome}",
            d.version,
            d.by,
            format_local(d.started_at, view.timezone)
        );
    }
}
