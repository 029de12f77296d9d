//! Per-release timers (window reminders, approval nudges, expired approvals)
//! and the scheduled digests: what they say, and recording that they fired.

use chrono::{DateTime, Duration, Utc};

use crate::config::{Digest as DigestKind, ScheduledDigest};
use crate::domain::command::CalendarRange;
use crate::domain::outbox::{Digest, Timer, TimerKind};
use crate::domain::policy::{Directory, EnvPolicy, QuorumState};
use crate::domain::release::{Release, ReleaseStatus};
use crate::domain::text::Text;
use crate::domain::when::format_local;
use crate::store::{Tx, TxResult};

use super::calendar::age;
use super::{Engine, EngineResult};

/// The scheduler key that remembers a release's last approval nudge.
pub(super) fn nudge_key(release: &Release) -> String {
    format!("nudge:{}", release.id)
}

impl Engine {
    /// The timers a release should have in its current state.
    pub(super) fn timers_for(
        &self,
        release: &Release,
        last_nudge: Option<DateTime<Utc>>,
    ) -> Vec<Timer> {
        let mut timers = Vec::new();
        if !release.status.is_awaiting_deploy() {
            return timers;
        }
        let timer = |due, kind| Timer {
            due,
            kind,
            release: release.id,
        };
        let reminders = &self.config.reminders;
        // Checked: a time out of chrono's range sets no timer rather than panicking.
        if let (Some(at), Some(before)) = (release.scheduled_at, reminders.before_window) {
            if let Some(due) = at.checked_sub_signed(before) {
                timers.push(timer(due, TimerKind::WindowReminder));
            }
        }
        if let (ReleaseStatus::Requested, Some(every)) = (release.status, reminders.approval_nudge)
        {
            let since = last_nudge.map_or(release.requested_at, |n| n.max(release.requested_at));
            if let Some(due) = since.checked_add_signed(every) {
                timers.push(timer(due, TimerKind::ApprovalNudge));
            }
        }
        if let Ok(policy) = self.policy(&release.environment) {
            if let Some(first) = release
                .approvals
                .iter()
                .filter_map(|a| a.at.checked_add_signed(policy.approval_expiry))
                .filter(|at| *at > release.updated_at)
                .min()
            {
                timers.push(timer(first, TimerKind::ApprovalExpiry));
            }
        }
        timers
    }

    /// Keeps the timer index in step with a release, inside `record`'s transaction.
    pub(super) fn update_timers(
        &self,
        tx: &Tx<'_>,
        before: Option<&Release>,
        after: &Release,
    ) -> TxResult<()> {
        let last_nudge = tx.last_fired(&nudge_key(after))?;
        let old = before
            .map(|b| self.timers_for(b, last_nudge))
            .unwrap_or_default();
        tx.replace_timers(&old, &self.timers_for(after, last_nudge))
    }

    /// Everyone who may approve in `policy`, pinged: the line asks them to.
    fn approvers(&self, policy: &EnvPolicy, directory: &Directory) -> Text {
        let mut out = Text::new();
        let approvers = directory
            .users()
            .filter(|(_, roles)| policy.approve.allows(roles));
        for (at, (user, _)) in approvers.enumerate() {
            if at > 0 {
                out = out.say(", ");
            }
            out = out.ping(user);
        }
        if out.is_empty() {
            out.say("nobody is configured")
        } else {
            out
        }
    }

    /// The reminder before a release's window: what it still needs, or
    /// nothing when it is ready.
    fn window_reminder(
        &self,
        release: &Release,
        policy: &EnvPolicy,
        quorum: &QuorumState,
        directory: &Directory,
    ) -> Option<Text> {
        let ready = quorum.met() && release.checklist_complete();
        let at = release
            .scheduled_at
            .map(|a| format_local(a, policy.timezone))
            .unwrap_or_default();
        (!ready).then(|| {
            let mut missing = quorum.missing.clone();
            if !release.checklist_complete() {
                missing.push(format!(
                    "checklist {}/{}",
                    release.checklist_done(),
                    release.checklist.len()
                ));
            }
            let line = Text::plain("⏰ ")
                .release(release.id)
                .say(format!(
                    " goes out at {at} but still needs {}. ",
                    missing.join(", ")
                ))
                .ping(&release.requester);
            if quorum.met() {
                line
            } else {
                line.say("; approvers: ")
                    .then(self.approvers(policy, directory))
            }
        })
    }

    /// Fires one due timer: posts to the release's thread if its condition
    /// still holds, and sets the next timer where one follows. Returns the line posted.
    pub fn fire_timer(&self, timer: Timer, now: DateTime<Utc>) -> EngineResult<Option<Text>> {
        let posted = self.commit(|tx| {
            let directory = self.directory_in(tx)?;
            // Gone already: fired (by another instance) or replaced.
            if !tx.take_timer(&timer)? {
                return Ok(None);
            }
            let Some(release) = tx.release(timer.release)? else {
                return Ok(None);
            };
            if !release.status.is_awaiting_deploy() {
                return Ok(None);
            }
            let policy = self.policy(&release.environment)?;
            let quorum = policy.quorum(&release.approvals, &directory, now);
            let line = match timer.kind {
                TimerKind::WindowReminder => {
                    self.window_reminder(&release, policy, &quorum, &directory)
                }
                TimerKind::ApprovalNudge => {
                    tx.set_last_fired(&nudge_key(&release), now)?;
                    if let Some(every) = self.config.reminders.approval_nudge {
                        tx.replace_timers(
                            &[],
                            &[Timer {
                                due: now + every,
                                ..timer
                            }],
                        )?;
                    }
                    (release.status == ReleaseStatus::Requested).then(|| {
                        Text::plain("⏳ ")
                            .release(release.id)
                            .say(format!(
                                " has waited {} for approval and needs {}. Approvers: ",
                                age(now - release.requested_at),
                                quorum.missing.join(" and ")
                            ))
                            .then(self.approvers(policy, &directory))
                    })
                }
                TimerKind::ApprovalExpiry => {
                    let next = release
                        .approvals
                        .iter()
                        .map(|a| a.at + policy.approval_expiry)
                        .filter(|at| *at > now)
                        .min();
                    if let Some(next) = next {
                        tx.replace_timers(&[], &[Timer { due: next, ..timer }])?;
                    }
                    let lost = release.status != ReleaseStatus::Requested && !quorum.met();
                    (lost && !quorum.expired.is_empty()).then(|| {
                        Text::plain("⌛ ")
                            .release(release.id)
                            .say("'s approvals from ")
                            .people(&quorum.expired, "nobody")
                            .say(format!(
                                " expired ({} h limit); ",
                                policy.approval_expiry.num_hours()
                            ))
                            .ping(&release.requester)
                            .say(", ask for fresh ones before deploying")
                    })
                }
            };
            if let Some(line) = &line {
                self.announce_line(tx, &directory, &release, line.clone())?;
            }
            Ok(line)
        })?;
        Ok(posted)
    }

    /// Posts a scheduled digest for `slot` and records the slot as fired, in
    /// one transaction: a restart can neither lose nor repeat it.
    pub fn fire_digest(
        &self,
        job: &ScheduledDigest,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> EngineResult<bool> {
        let text = self.digest_text(job.digest, job.timezone, now)?;
        let key = format!("cron:{}", job.name);
        let fired = self.commit(|tx| {
            if tx.last_fired(&key)?.is_some_and(|last| last >= slot) {
                return Ok(false);
            }
            // The slot's unique record: two schedulers that both believe
            // they lead still queue its digest once.
            if !tx.record_slot(&key, slot)? {
                return Ok(false);
            }
            tx.set_last_fired(&key, slot)?;
            tx.post_digest(&Digest {
                channel: job.channel.clone(),
                text: text.clone(),
            })?;
            Ok(true)
        })?;
        Ok(fired)
    }

    /// The text of a digest as of `now` (the calendars read the engine's clock).
    pub fn digest_text(
        &self,
        kind: DigestKind,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> EngineResult<Text> {
        match kind {
            DigestKind::Today => Ok(self.calendar(CalendarRange::Today, tz)?.text()),
            DigestKind::Week => Ok(self.calendar(CalendarRange::Week, tz)?.text()),
            DigestKind::Pending => {
                let directory = self.directory();
                let mut page = self.store.with_status(ReleaseStatus::Requested, 20)?;
                super::views::by_priority(&mut page.releases);
                let mut out = Text::plain(format!(
                    "⏳ Waiting for approval ({}), by priority, oldest first:",
                    page.total
                ));
                if page.releases.is_empty() {
                    out = out.say(" none.");
                }
                // Who is asked to approve: pinged once, by environment.
                let mut asked: Vec<&crate::domain::ids::Name> = Vec::new();
                for release in &page.releases {
                    let needs = self
                        .policy(&release.environment)
                        .map(|p| {
                            p.quorum(&release.approvals, &directory, now)
                                .missing
                                .join(" and ")
                        })
                        .unwrap_or_default();
                    out = out
                        .say("\n")
                        .release(release.id)
                        .say(format!(" {} · ", release.title()))
                        .person(&release.requester)
                        .say(format!(
                            " · waiting {} · needs {needs}",
                            age(now - release.requested_at)
                        ));
                    if !asked.contains(&&release.environment) {
                        asked.push(&release.environment);
                    }
                }
                for environment in asked {
                    if let Ok(policy) = self.policy(environment) {
                        out = out
                            .say(format!("\nApprovers for {environment}: "))
                            .then(self.approvers(policy, &directory));
                    }
                }
                Ok(out)
            }
            DigestKind::Status => self.status_report(now),
        }
    }

    /// Shipped, rolled back and failed in the last week; scheduled ahead; blocked and why.
    fn status_report(&self, now: DateTime<Utc>) -> EngineResult<Text> {
        let week_ago = now - Duration::days(7);
        let recent = |status| -> EngineResult<Vec<Release>> {
            Ok(self
                .store
                .with_status(status, 500)?
                .releases
                .into_iter()
                .filter(|r| r.updated_at >= week_ago)
                .collect())
        };
        let list = |releases: &[Release]| {
            if releases.is_empty() {
                "none".to_string()
            } else {
                releases
                    .iter()
                    .map(|r| format!("{} {}", r.id, r.title()))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        let shipped = recent(ReleaseStatus::Deployed)?;
        let rolled_back = recent(ReleaseStatus::RolledBack)?;
        let failed = recent(ReleaseStatus::Failed)?;
        let ahead: Vec<Release> = self
            .store
            .scheduled_between(now, now + Duration::days(7))?
            .into_iter()
            .filter(|r| r.status.is_awaiting_deploy())
            .collect();
        let directory = self.directory();
        let blocked: Vec<String> = ahead
            .iter()
            .filter_map(|r| {
                let policy = self.policy(&r.environment).ok()?;
                let quorum = policy.quorum(&r.approvals, &directory, now);
                let mut why = quorum.missing.clone();
                if !r.checklist_complete() {
                    why.push(format!(
                        "checklist {}/{}",
                        r.checklist_done(),
                        r.checklist.len()
                    ));
                }
                (!why.is_empty()).then(|| format!("{} ({})", r.id, why.join(", ")))
            })
            .collect();
        Ok(Text::plain(format!(
            "📊 Release status, last 7 days and next 7:\nShipped: {}\nRolled back: {}\nFailed: {}\nScheduled: {}\nBlocked: {}",
            list(&shipped),
            list(&rolled_back),
            list(&failed),
            list(&ahead),
            if blocked.is_empty() { "none".to_string() } else { blocked.join("; ") }
        )))
    }
}
