//! The release calendar: slot checks for schedules and deploys, freezes,
//! locks, bumping, and the `calendar` view.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::calendar::{week_start, weekday_name, Freeze, Lock};
use crate::domain::command::{CalendarRange, FreezeBound};
use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::lifecycle;
use crate::domain::release::{Release, ReleaseStatus};
use crate::domain::text::Text;
use crate::domain::when::format_local;
use crate::domain::{Act, Refusal};
use crate::store::AuditDraft;

use crate::view::{CalendarLane, CalendarView, FreezesView, View, WeeklyFreeze};

use super::{Change, Engine, EngineResult, Reply};

fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight).earliest().map_or_else(
        || Utc.from_utc_datetime(&midnight),
        |t| t.with_timezone(&Utc),
    )
}

pub(super) fn short(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{} {}",
        weekday_name(local.weekday()),
        local.format("%m-%d %H:%M")
    )
}

impl Engine {
    /// The freeze a rollback breaks, if any, for the record.
    pub(super) fn break_glass(&self, release: &Release) -> EngineResult<Option<String>> {
        let policy = self.policy(&release.environment)?;
        let freezes = self.store.freezes(Some(&release.environment))?;
        Ok(policy
            .slots
            .open_at(self.clock.now(), policy.timezone, &freezes)
            .err()
            .map(|c| c.describe(policy.timezone)))
    }

    /// An audit entry that belongs to no release (freezes, locks, roles).
    pub(super) fn audit_plain(&self, actor: &UserRef, action: &str, detail: String) -> AuditDraft {
        AuditDraft {
            at: self.clock.now(),
            actor: actor.clone(),
            action: action.to_string(),
            release: None,
            before: None,
            after: None,
            detail,
        }
    }

    /// When a freeze asked for runs, in UTC: from now on at the earliest,
    /// ending after it starts, and overlapping no other freeze there.
    fn freeze_span(
        &self,
        environment: &Name,
        tz: Tz,
        (from, to): (FreezeBound, FreezeBound),
        now: DateTime<Utc>,
    ) -> EngineResult<(DateTime<Utc>, DateTime<Utc>)> {
        let resolve = |bound: FreezeBound, is_end: bool| {
            let date = bound.day.date_in(tz, now);
            match bound.time {
                Some(time) => tz
                    .from_local_datetime(&date.and_time(time))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc)),
                None if is_end => Some(local_midnight(tz, date + Duration::days(1))),
                None => Some(local_midnight(tz, date)),
            }
        };
        let (Some(mut start), Some(end)) = (resolve(from, false), resolve(to, true)) else {
            return Err(Refusal::NoSuchLocalTime.into());
        };
        if end <= start {
            return Err(Refusal::FreezeBackwards { start, end, tz }.into());
        }
        // A freeze may start today (from now on), not on an earlier day.
        let today_start = local_midnight(tz, now.with_timezone(&tz).date_naive());
        if end <= now || start < today_start {
            return Err(Refusal::FreezeInPast { now, tz }.into());
        }
        start = start.max(now);
        let existing = self.store.freezes(Some(environment))?;
        if let Some(clash) = existing.iter().find(|f| f.overlaps(start, end)) {
            return Err(Refusal::FreezeOverlaps {
                label: clash.label(),
                reason: clash.reason.clone(),
                start: clash.start,
                end: clash.end,
                tz,
            }
            .into());
        }
        Ok((start, end))
    }

    pub(crate) fn freeze(
        &self,
        user: &UserRef,
        environment: Name,
        from: FreezeBound,
        to: FreezeBound,
        reason: String,
    ) -> EngineResult<Reply> {
        self.require_admin(user, Act::Freeze)?;
        let policy = self.policy(&environment)?;
        let (tz, now) = (policy.timezone, self.clock.now());
        let (start, end) = self.freeze_span(&environment, tz, (from, to), now)?;
        let affected: Vec<Release> = self
            .store
            .scheduled_between(start, end)?
            .into_iter()
            .filter(|r| r.environment == environment && r.status.is_awaiting_deploy())
            .collect();
        let freeze = self.commit(|tx| {
            let directory = self.directory_in(tx)?;
            let freeze = Freeze {
                id: tx.allocate_freeze_id()?,
                environment: environment.clone(),
                start,
                end,
                reason: reason.clone(),
                by: user.clone(),
                created_at: now,
            };
            tx.put_freeze(&freeze)?;
            tx.audit(self.audit_plain(
                user,
                "freeze",
                format!(
                    "{} {environment} {} to {}: {reason}",
                    freeze.label(),
                    start.to_rfc3339(),
                    end.to_rfc3339()
                ),
            ))?;
            for release in &affected {
                // The requester is needed: their slot is gone.
                let line = Text::plain(format!(
                    "🧊 {} “{reason}” covers this release's deploy time; ",
                    freeze.label()
                ))
                .ping(&release.requester)
                .say(" please reschedule (")
                .code(format!("schedule {} <date time>", release.id))
                .say(")");
                self.announce_line(tx, &directory, release, line)?;
            }
            Ok(freeze)
        })?;
        let told = if affected.is_empty() {
            String::new()
        } else {
            format!(
                " Scheduled inside it, and told: {}.",
                affected
                    .iter()
                    .map(|r| r.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Ok(Reply::new(format!(
            "{}: {environment} is frozen from {} to {}: {reason}. Deploys and new schedules into it are refused; rollbacks stay allowed.{told}",
            freeze.label(),
            format_local(freeze.start, tz),
            format_local(freeze.end, tz)
        )))
    }

    pub(crate) fn unfreeze(&self, user: &UserRef, id: u64) -> EngineResult<Reply> {
        self.require_admin(user, Act::Unfreeze)?;
        let freeze = self.commit(|tx| {
            let freeze = tx.freeze(id)?.ok_or(Refusal::NoSuchFreeze(id))?;
            tx.remove_freeze(id)?;
            tx.audit(self.audit_plain(
                user,
                "unfreeze",
                format!(
                    "{} {}: {}",
                    freeze.label(),
                    freeze.environment,
                    freeze.reason
                ),
            ))?;
            Ok(freeze)
        })?;
        Ok(Reply::new(format!(
            "{} “{}” on {} is lifted.",
            freeze.label(),
            freeze.reason,
            freeze.environment
        )))
    }

    pub(crate) fn freezes(&self) -> EngineResult<Reply> {
        let now = self.clock.now();
        let freezes = self
            .store
            .freezes(None)?
            .into_iter()
            .filter(|f| f.end > now)
            .map(|freeze| {
                let tz = self.timezone_of(&freeze.environment);
                let holds = freeze.covers(now);
                (freeze, tz, holds)
            })
            .collect();
        let mut weekly = Vec::new();
        for (name, env) in &self.config.environments {
            for recurring in &env.policy.slots.recurring_freezes {
                weekly.push(WeeklyFreeze {
                    environment: name.clone(),
                    span: recurring.span.clone(),
                    timezone: env.policy.timezone,
                    reason: recurring.reason.clone(),
                });
            }
        }
        Ok(Reply::view(View::Freezes(FreezesView { freezes, weekly })))
    }

    pub(crate) fn lock(
        &self,
        user: &UserRef,
        service: Name,
        environment: Name,
        reason: String,
    ) -> EngineResult<Reply> {
        let policy = self.policy(&environment)?;
        if !policy.deploy.allows(&self.roles_of(user)) {
            return Err(Refusal::NotPermitted {
                act: Act::Lock,
                environment,
                needs: policy.deploy.describe(),
            }
            .into());
        }
        if !self.config.services.contains_key(&service) {
            return Err(Refusal::NoSuchService {
                service: service.to_string(),
                known: self.config.service_names(),
            }
            .into());
        }
        let now = self.clock.now();
        self.commit(|tx| {
            if let Some(held) = tx.lock(&service, &environment)? {
                if &held.by != user {
                    return Err(Refusal::AlreadyLocked {
                        service: service.clone(),
                        environment: environment.clone(),
                        by: held.by,
                        reason: held.reason,
                    }
                    .into());
                }
            }
            let lock = Lock {
                service: service.clone(),
                environment: environment.clone(),
                reason: reason.clone(),
                by: user.clone(),
                at: now,
            };
            tx.set_lock(&service, &environment, Some(&lock))?;
            tx.audit(self.audit_plain(user, "lock", format!("{service} {environment}: {reason}")))
        })?;
        Ok(Reply::new(format!(
            "{service} is locked in {environment}: {reason}. Others' deploys are refused until `unlock {service} {environment}`."
        )))
    }

    pub(crate) fn unlock(
        &self,
        user: &UserRef,
        service: Name,
        environment: Name,
    ) -> EngineResult<Reply> {
        let is_admin = self.config.admin.allows(&self.roles_of(user));
        self.commit(|tx| {
            let held = tx
                .lock(&service, &environment)?
                .ok_or_else(|| Refusal::NotLocked {
                    service: service.clone(),
                    environment: environment.clone(),
                })?;
            if &held.by != user && !is_admin {
                return Err(Refusal::LockHeldByOther {
                    by: held.by,
                    admins: self.config.admin.describe(),
                }
                .into());
            }
            tx.set_lock(&service, &environment, None)?;
            tx.audit(self.audit_plain(user, "unlock", format!("{service} {environment}")))
        })?;
        Ok(Reply::new(format!(
            "{service} is unlocked in {environment}."
        )))
    }

    pub(crate) fn bump(
        &self,
        user: &UserRef,
        id: ReleaseId,
        reason: String,
    ) -> EngineResult<Reply> {
        self.require_admin(user, Act::Bump)?;
        let (release, was) = self.change_release(user, id, "bump", |release, ctx| {
            let was = release.scheduled_at.ok_or(Refusal::NoDeployTime {
                release: id,
                act: Act::Bump,
            })?;
            lifecycle::schedule(release, ctx.actor, None, ctx.policy, ctx.now)?;
            let thread_line = Text::plain("⏭️ ")
                .person(user)
                .say(format!(
                    " bumped it out of {}: {reason}. ",
                    format_local(was, ctx.policy.timezone)
                ))
                .ping(&release.requester)
                .say(", please pick a new slot (")
                .code(format!("schedule {id} <date time>"))
                .say(")");
            Ok(Change {
                value: was,
                detail: reason.clone(),
                thread_line,
            })
        })?;
        let tz = self.policy(&release.environment)?.timezone;
        Ok(Reply::new(
            Text::plain(format!("{id} ({} priority, ", release.priority.as_str()))
                .person(&release.requester)
                .say(format!(") no longer holds {}; ", format_local(was, tz)))
                .person(&release.requester)
                .say(" was told why in its thread."),
        ))
    }

    /// The calendar in `tz` (the viewer's or the channel's, from config).
    pub(crate) fn calendar(&self, range: CalendarRange, tz: Tz) -> EngineResult<Reply> {
        let today = self.clock.now().with_timezone(&tz).date_naive();
        let week_after = |day: NaiveDate| {
            week_start(day)
                .checked_add_days(chrono::Days::new(7))
                .ok_or_else(|| Refusal::OutOfCalendar {
                    day: day.to_string(),
                })
        };
        let (first, last, title) = match range {
            CalendarRange::Today => (
                today,
                today.succ_opt().unwrap_or(today),
                format!("today, {today}"),
            ),
            CalendarRange::Week => (
                week_start(today),
                week_after(today)?,
                format!("week of {}", week_start(today)),
            ),
            CalendarRange::Around(day) => (
                week_start(day),
                week_after(day)?,
                format!("week of {}", week_start(day)),
            ),
            CalendarRange::Month => {
                let first = today.with_day(1).expect("day 1 exists");
                let next = if first.month() == 12 {
                    NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
                }
                .expect("the first of a month exists");
                (first, next, first.format("%B %Y").to_string())
            }
        };
        let (from, to) = (local_midnight(tz, first), local_midnight(tz, last));
        let releases: Vec<Release> = self
            .store
            .scheduled_between(from, to)?
            .into_iter()
            .filter(|r| !matches!(r.status, ReleaseStatus::Cancelled | ReleaseStatus::Rejected))
            .collect();
        let freezes: Vec<Freeze> = self
            .store
            .freezes(None)?
            .into_iter()
            .filter(|f| f.overlaps(from, to))
            .collect();
        let environments = self
            .config
            .environments
            .iter()
            .map(|(name, env)| CalendarLane {
                environment: name.clone(),
                windows: env.policy.slots.windows.clone(),
                window_timezone: env.policy.timezone,
                freezes: freezes
                    .iter()
                    .filter(|f| &f.environment == name)
                    .cloned()
                    .collect(),
                releases: releases
                    .iter()
                    .filter(|r| &r.environment == name)
                    .cloned()
                    .collect(),
            })
            .collect();
        Ok(Reply::view(View::Calendar(CalendarView {
            title,
            timezone: tz,
            from,
            to,
            environments,
        })))
    }
}

impl Engine {
    /// The iCalendar feed: releases scheduled from two weeks back to 90 days
    /// ahead (from the time index) and freezes, for one environment or all.
    /// Calendar apps re-fetch a subscription every few hours; the horizon
    /// keeps each fetch small however long the history grows.
    pub fn calendar_feed(&self, environment: Option<&Name>) -> EngineResult<String> {
        if let Some(env) = environment {
            self.policy(env)?;
        }
        let now = self.clock.now();
        let releases: Vec<Release> = self
            .store
            .scheduled_between(now - Duration::days(14), now + Duration::days(90))?
            .into_iter()
            .filter(|r| environment.is_none_or(|e| &r.environment == e))
            .collect();
        let freezes = self.store.freezes(environment)?;
        let name = match environment {
            Some(env) => format!("Releases ({env})"),
            None => "Releases".to_string(),
        };
        Ok(crate::domain::ics::feed(&name, &releases, &freezes, now))
    }
}

/// `2 h 5 min`, `12 min`
pub fn age(elapsed: Duration) -> String {
    let minutes = elapsed.num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}
