//! Read-only commands: status, checklist, list, history and notes,
//! each answered with a view (rendered in `crate::view`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use std::collections::BTreeSet;

use crate::domain::command::{ListFilter, Needs};
use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::policy::EnvPolicy;
use crate::domain::release::{Release, ReleaseStatus};
use crate::domain::soak::drift;
use crate::view::{Drift, HistoryView, ListKind, ListView, NotesView, ReleaseView, View};

use super::{no_such_release, Engine, EngineResult, Reply};

/// Rows a list shows before it says how many more there are.
const LIST_LIMIT: usize = 20;

impl Engine {
    /// A release by id, or the refusal that names it.
    pub(super) fn get(&self, id: ReleaseId) -> EngineResult<Release> {
        Ok(self.store.release(id)?.ok_or_else(|| no_such_release(id))?)
    }

    /// The timezone an environment's times are shown in (the bot's, for
    /// one the config no longer has).
    pub(super) fn timezone_of(&self, environment: &Name) -> Tz {
        self.policy(environment)
            .map_or(self.config.timezone, |p| p.timezone)
    }

    /// Per approval, in order: whether it has expired by `now`.
    fn expired(release: &Release, policy: &EnvPolicy, now: DateTime<Utc>) -> Vec<bool> {
        release
            .approvals
            .iter()
            .map(|a| policy.is_expired(a, now))
            .collect()
    }

    pub(crate) fn status(&self, id: ReleaseId) -> EngineResult<Reply> {
        let release = self.get(id)?;
        let policy = self.policy(&release.environment)?;
        let now = self.clock.now();
        let quorum = policy.quorum(&release.approvals, &self.directory(), now);
        let expired = Self::expired(&release, policy, now);
        Ok(Reply::view(View::Release(Box::new(ReleaseView {
            timezone: policy.timezone,
            quorum,
            expired,
            drift: self.drift(&release.service)?,
            release,
        }))))
    }

    /// For each environment with a soak rule, how far `service` there is
    /// behind the environment it requires.
    fn drift(&self, service: &Name) -> EngineResult<Vec<Drift>> {
        let rules: Vec<_> = self
            .config
            .environments
            .iter()
            .filter_map(|(name, env)| Some((name, env.policy.requires.as_ref()?)))
            .collect();
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let live = self.store.targets()?.live;
        let mut found = Vec::new();
        for (name, rule) in rules {
            let running = live
                .iter()
                .find(|(s, e, _)| s == service && e == name)
                .map(|(_, _, l)| l.version.clone());
            let history = self.store.releases_of(service, &rule.environment)?;
            let ahead: Option<Vec<_>> = running
                .as_ref()
                .and_then(|v| drift(&history, v))
                .map(|vs| vs.into_iter().cloned().collect());
            // In changes, where the range's notes from the code are kept.
            let changes = match (
                self.source_of(service),
                &running,
                ahead.as_ref().and_then(|a| a.last()),
            ) {
                (Some(source), Some(from), Some(to)) => self
                    .kept_notes(&source.cache_key(from.as_str(), to.as_str()))?
                    .map(|notes| notes.changes()),
                _ => None,
            };
            found.push(Drift {
                environment: name.clone(),
                required: rule.environment.clone(),
                live: running,
                ahead,
                changes,
            });
        }
        Ok(found)
    }

    pub(crate) fn checklist(&self, id: ReleaseId) -> EngineResult<Reply> {
        Ok(Reply::view(View::Checklist(Box::new(self.get(id)?))))
    }

    pub(crate) fn list(&self, user: &UserRef, filter: ListFilter) -> EngineResult<Reply> {
        let (kind, releases, total) = match filter {
            ListFilter::Status(status) => {
                let page = self.store.with_status(status, LIST_LIMIT)?;
                let kind = if status == ReleaseStatus::Requested {
                    ListKind::Pending
                } else {
                    ListKind::Status(status)
                };
                let mut releases = page.releases;
                by_priority(&mut releases);
                (kind, releases, page.total)
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
                (ListKind::Open, releases, total)
            }
            ListFilter::Mine => {
                let releases = self.store.requested_by(user, LIST_LIMIT)?;
                let total = releases.len() as u64;
                (ListKind::Mine, releases, total)
            }
            ListFilter::All => (
                ListKind::Latest,
                self.store.newest(LIST_LIMIT)?,
                self.store.release_count()?,
            ),
        };
        let rows = releases
            .into_iter()
            .map(|release| {
                let tz = self.timezone_of(&release.environment);
                (release, tz)
            })
            .collect();
        Ok(Reply::view(View::List(ListView { kind, rows, total })))
    }

    pub(crate) fn history(&self, id: ReleaseId) -> EngineResult<Reply> {
        self.get(id)?;
        Ok(Reply::view(View::History(HistoryView {
            release: id,
            entries: self.store.audit_for(id)?,
        })))
    }

    /// Release notes: what, why, who approved, checklist, how to deploy and roll back.
    pub(crate) fn notes(&self, id: ReleaseId) -> EngineResult<Reply> {
        let release = self.get(id)?;
        let now = self.clock.now();
        let policy = self.policy(&release.environment)?;
        Ok(Reply::view(View::Notes(Box::new(NotesView {
            timezone: policy.timezone,
            quorum_rule: policy.describe_quorum(),
            expired: Self::expired(&release, policy, now),
            ci: self.ci_kind(&release).to_string(),
            changes: match &release.changes {
                Some(changes) if !changes.key.is_empty() => self.kept_notes(&changes.key)?,
                _ => None,
            },
            release,
        }))))
    }

    /// Whether `roles` allow what `needs` names in some environment.
    pub(crate) fn allowed_somewhere(&self, roles: &BTreeSet<String>, needs: Needs) -> bool {
        self.config.environments.values().any(|env| {
            let policy = &env.policy;
            match needs {
                Needs::Anyone => true,
                Needs::Request => policy.request.allows(roles) || policy.approve.allows(roles),
                Needs::Approve => policy.approve.allows(roles),
                Needs::Deploy => policy.deploy.allows(roles),
                Needs::Rollback => policy.rollback.allows(roles),
                Needs::Admin => self.config.admin.allows(roles),
            }
        })
    }
}

/// The queue's order: higher priority first, then first come, first served.
pub(super) fn by_priority(releases: &mut [Release]) {
    releases.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.id));
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
