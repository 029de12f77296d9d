//! Read-only commands: status, checklist, list, history, notes and help.

use std::fmt::Write;

use crate::domain::command::{spec, ListFilter, Needs, COMMANDS};
use crate::domain::ids::{ReleaseId, UserRef};
use crate::domain::release::{DeployAction, JobOutcome, Release, ReleaseStatus};
use crate::domain::text::Text;
use crate::domain::when::format_local;
use crate::domain::Refusal;

use super::{no_such_release, Engine, EngineResult, Reply};

/// Rows a list shows before it says how many more there are.
const LIST_LIMIT: usize = 20;

impl Engine {
    fn get(&self, id: ReleaseId) -> EngineResult<Release> {
        Ok(self.store.release(id)?.ok_or_else(|| no_such_release(id))?)
    }

    fn local(&self, release: &Release, at: chrono::DateTime<chrono::Utc>) -> String {
        let tz = self
            .policy(&release.environment)
            .map_or(self.config.timezone, |p| p.timezone);
        format_local(at, tz)
    }

    pub(super) fn status(&self, id: ReleaseId) -> EngineResult<Reply> {
        let release = self.get(id)?;
        let policy = self.policy(&release.environment)?;
        let now = self.clock.now();
        let quorum = policy.quorum(&release.approvals, &self.directory(), now);
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
            self.local(&release, release.requested_at),
            release.priority.as_str()
        );
        let window = release
            .scheduled_at
            .map_or("not scheduled".to_string(), |at| self.local(&release, at));
        let _ = writeln!(out, "Window: {window}");
        let _ = write!(out, "Approvals {}/{}", quorum.counted, quorum.needed);
        for (at, approval) in release.approvals.iter().enumerate() {
            let _ = write!(out, "{}", if at == 0 { ": " } else { ", " });
            out.push_person(&approval.by);
            if policy.is_expired(approval, now) {
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
        if !release.checklist.is_empty() {
            let _ = writeln!(
                out,
                "Checklist {}/{}",
                release.checklist_done(),
                release.checklist.len()
            );
        }
        for deployment in &release.deployments {
            let result = match deployment.outcome {
                None => "running".to_string(),
                Some(JobOutcome::Succeeded) => "succeeded".to_string(),
                Some(JobOutcome::Failed) => format!(
                    "failed{}",
                    deployment
                        .message
                        .as_ref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
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
                self.local(&release, deployment.started_at),
                deployment
                    .reason
                    .as_ref()
                    .map(|r| format!(" (reason: {r})"))
                    .unwrap_or_default()
            );
        }
        for closure in [&release.rejected, &release.cancelled]
            .into_iter()
            .flatten()
        {
            let _ = write!(out, "Closed by ");
            out.push_person(&closure.by);
            let _ = writeln!(
                out,
                "{}",
                closure
                    .reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
        if let Some(notes) = &release.notes {
            let _ = writeln!(out, "Notes: {notes}");
        }
        Ok(Reply::new(out.trim_end()))
    }

    pub(super) fn checklist(&self, id: ReleaseId) -> EngineResult<Reply> {
        let release = self.get(id)?;
        if release.checklist.is_empty() {
            return Ok(Reply::new(format!(
                "{id} has no checklist ({} needs none).",
                release.environment
            )));
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
        Ok(Reply::new(out))
    }

    pub(super) fn list(&self, user: &UserRef, filter: ListFilter) -> EngineResult<Reply> {
        let (title, releases, total) = match filter {
            ListFilter::Status(status) => {
                let page = self.store.with_status(status, LIST_LIMIT)?;
                let name = if status == ReleaseStatus::Requested {
                    "Pending".to_string()
                } else {
                    capitalize(status.as_str())
                };
                let mut releases = page.releases;
                by_priority(&mut releases);
                (name, releases, page.total)
            }
            ListFilter::Open => {
                let mut releases = Vec::new();
                let mut total = 0;
                for status in ReleaseStatus::ALL
                    .into_iter()
                    .filter(|s| s.is_awaiting_deploy() || s.is_in_flight())
                {
                    let page = self.store.with_status(status, LIST_LIMIT)?;
                    total += page.total;
                    releases.extend(page.releases);
                }
                by_priority(&mut releases);
                releases.truncate(LIST_LIMIT);
                ("Open".to_string(), releases, total)
            }
            ListFilter::Mine => {
                let releases = self.store.requested_by(user, LIST_LIMIT)?;
                let total = releases.len() as u64;
                ("Your".to_string(), releases, total)
            }
            ListFilter::All => (
                "Latest".to_string(),
                self.store.newest(LIST_LIMIT)?,
                self.store.release_count()?,
            ),
        };
        if releases.is_empty() {
            return Ok(Reply::new(format!("{title} releases: none.")));
        }
        let mut out = Text::plain(format!("{title} releases ({total}):"));
        for release in &releases {
            let when = release
                .scheduled_at
                .map(|at| self.local(release, at))
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
        if total > releases.len() as u64 {
            let _ = write!(out, "\n… and {} more.", total - releases.len() as u64);
        }
        Ok(Reply::new(out.trim_end()))
    }

    pub(super) fn history(&self, id: ReleaseId) -> EngineResult<Reply> {
        self.get(id)?;
        let entries = self.store.audit_for(id)?;
        let mut out = format!("History of {id}:");
        for entry in entries {
            let _ = write!(out, "\n{}", entry.to_line());
        }
        Ok(Reply::new(out))
    }

    /// Release notes in Markdown: what, why, who approved, checklist, how to deploy and roll back.
    pub(super) fn notes(&self, id: ReleaseId) -> EngineResult<Reply> {
        let release = self.get(id)?;
        let now = self.clock.now();
        let policy = self.policy(&release.environment)?;
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
            self.local(&release, release.requested_at)
        );
        let window = release
            .scheduled_at
            .map_or("not scheduled".to_string(), |at| self.local(&release, at));
        let _ = writeln!(md, "**Window:** {window}\n");
        let _ = writeln!(
            md,
            "## What and why\n\n{}\n",
            release
                .notes
                .as_deref()
                .unwrap_or("_No notes were given with the request._")
        );
        let _ = writeln!(md, "## Approvals ({})\n", policy.describe_quorum());
        if release.approvals.is_empty() {
            let _ = writeln!(md, "_None yet._");
        }
        for a in &release.approvals {
            let expired = if policy.is_expired(a, now) {
                " (expired)"
            } else {
                ""
            };
            let comment = a
                .comment
                .as_ref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "- {} on {}{expired}{comment}",
                a.by,
                self.local(&release, a.at)
            );
        }
        let _ = writeln!(md, "\n## Checklist\n");
        if release.checklist.is_empty() {
            let _ = writeln!(md, "_No checklist for {}._", release.environment);
        }
        for item in &release.checklist {
            let _ = writeln!(
                md,
                "- [{}] {}",
                if item.done { "x" } else { " " },
                item.item
            );
        }
        let ci = self.ci_kind(&release);
        let _ = writeln!(md, "\n## Deploy instructions\n");
        let _ = writeln!(md, "1. Confirm approvals and checklist above are complete.");
        let _ = writeln!(
            md,
            "2. `deploy {}` relays {} {} to {} via {ci}.",
            release.id, release.service, release.version, release.environment
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
        if !release.deployments.is_empty() {
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
                    self.local(&release, d.started_at)
                );
            }
        }
        Ok(Reply::new(md.trim_end()))
    }

    /// Lists only what the caller's roles allow somewhere.
    pub(super) fn help(&self, user: &UserRef, topic: Option<&str>) -> EngineResult<Reply> {
        let roles = self.roles_of(user);
        let allowed = |needs: Needs| {
            self.config.environments.values().any(|env| {
                let policy = &env.policy;
                match needs {
                    Needs::Anyone => true,
                    Needs::Request => {
                        policy.request.allows(&roles) || policy.approve.allows(&roles)
                    }
                    Needs::Approve => policy.approve.allows(&roles),
                    Needs::Deploy => policy.deploy.allows(&roles),
                    Needs::Rollback => policy.rollback.allows(&roles),
                    Needs::Admin => self.config.admin.allows(&roles),
                }
            })
        };
        if let Some(topic) = topic {
            let spec = spec(topic).ok_or_else(|| Refusal::NoSuchCommand {
                topic: topic.to_string(),
            })?;
            let note = if allowed(spec.needs) {
                ""
            } else {
                "\n(Your roles don't allow this here.)"
            };
            return Ok(Reply::new(format!(
                "{}\n  {}: {}{note}",
                spec.usage, spec.name, spec.summary
            )));
        }
        let role_list = if roles.is_empty() {
            "no roles".to_string()
        } else {
            roles.iter().cloned().collect::<Vec<_>>().join(", ")
        };
        let mut out = Text::plain("You are ")
            .person(user)
            .say(format!(" ({role_list}). You can:"));
        for spec in COMMANDS.iter().filter(|c| allowed(c.needs)) {
            let _ = write!(out, "\n  {}", spec.usage);
        }
        let _ = write!(out, "\nIds look like R-42. `help <command>` explains one.");
        Ok(Reply::new(out))
    }
}

/// The queue's order: higher priority first, then first come, first served.
pub(super) fn by_priority(releases: &mut [Release]) {
    releases.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.id));
}

fn capitalize(word: &str) -> String {
    let spaced = word.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// Statuses whose releases someone may still act on (approve, deploy, roll back).
const SUGGESTED: [ReleaseStatus; 6] = [
    ReleaseStatus::Requested,
    ReleaseStatus::Approved,
    ReleaseStatus::Scheduled,
    ReleaseStatus::Deploying,
    ReleaseStatus::Failed,
    ReleaseStatus::Deployed,
];

impl Engine {
    /// Releases to offer while someone types an id (chat autocomplete):
    /// `(label, id)` pairs for releases still in play whose label contains
    /// `typed`, newest first, open ones before deployed ones.
    pub fn suggest_releases(&self, typed: &str, limit: usize) -> Vec<(String, String)> {
        let typed = typed.trim().to_lowercase();
        let mut found = Vec::new();
        for status in SUGGESTED {
            let releases = match self.store.newest_with_status(status, 200) {
                Ok(releases) => releases,
                Err(error) => {
                    tracing::error!(%error, "reading releases for suggestions failed");
                    return found;
                }
            };
            for release in releases {
                let label = format!("{} {} ({})", release.id, release.title(), release.status);
                if typed.is_empty() || label.to_lowercase().contains(&typed) {
                    found.push((label, release.id.to_string()));
                    if found.len() == limit {
                        return found;
                    }
                }
            }
        }
        found
    }
}
