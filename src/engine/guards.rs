//! The guards that decide a write on the calendar: windows, freezes and
//! capacity for a deploy time, freezes and locks for a deploy now. Each is
//! judged twice: on the committed store before the transaction, for a quick
//! refusal that names the next free slots, and inside the transaction that
//! writes, on the state it commits against, so that two instances (or two
//! threads) cannot both pass it (a day's `max_per_day` overfilled, a deploy
//! slipping into a freeze that committed a moment before).

use chrono::{DateTime, Duration, Utc};

use crate::domain::calendar::{Booking, Freeze, Lock};
use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::incident::Incident;
use crate::domain::policy::EnvPolicy;
use crate::domain::release::Release;
use crate::domain::soak::{soak_paused, Soak};
use crate::domain::when::format_local;
use crate::domain::{Refusal, SoakClock};
use crate::store::prelude::*;
use crate::store::{Store, Tx, TxError};

use super::calendar::{age, short};
use super::{Engine, EngineError};

/// Where a guard reads freezes, locks and bookings: the committed store, or
/// the transaction that writes. Its error is the caller's.
pub(super) trait GuardReads {
    type Error: From<Refusal>;
    fn freezes_of(&self, environment: &Name) -> Result<Vec<Freeze>, Self::Error>;
    fn lock_of(&self, service: &Name, environment: &Name) -> Result<Option<Lock>, Self::Error>;
    fn scheduled(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Release>, Self::Error>;
    /// A service's releases to one environment: its history there.
    fn history_of(&self, service: &Name, environment: &Name) -> Result<Vec<Release>, Self::Error>;
    /// The latest incident on a service in one environment, open or not.
    fn incident_on(
        &self,
        service: &Name,
        environment: &Name,
    ) -> Result<Option<Incident>, Self::Error>;
}

impl GuardReads for Store {
    type Error = EngineError;
    fn freezes_of(&self, environment: &Name) -> Result<Vec<Freeze>, EngineError> {
        Ok(self.freezes(Some(environment))?)
    }
    fn lock_of(&self, service: &Name, environment: &Name) -> Result<Option<Lock>, EngineError> {
        Ok(self.lock(service, environment)?)
    }
    fn scheduled(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Release>, EngineError> {
        Ok(self.scheduled_between(from, to)?)
    }
    fn history_of(&self, service: &Name, environment: &Name) -> Result<Vec<Release>, EngineError> {
        Ok(self.releases_of(service, environment)?)
    }
    fn incident_on(
        &self,
        service: &Name,
        environment: &Name,
    ) -> Result<Option<Incident>, EngineError> {
        Ok(self
            .incidents()?
            .into_iter()
            .rfind(|i| &i.service == service && &i.environment == environment))
    }
}

impl GuardReads for Tx<'_> {
    type Error = TxError;
    fn freezes_of(&self, environment: &Name) -> Result<Vec<Freeze>, TxError> {
        self.freezes(environment)
    }
    fn lock_of(&self, service: &Name, environment: &Name) -> Result<Option<Lock>, TxError> {
        self.lock(service, environment)
    }
    fn scheduled(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Release>, TxError> {
        self.scheduled_between(from, to)
    }
    fn history_of(&self, service: &Name, environment: &Name) -> Result<Vec<Release>, TxError> {
        self.releases_of(service, environment)
    }
    fn incident_on(&self, service: &Name, environment: &Name) -> Result<Option<Incident>, TxError> {
        self.latest_incident(service, environment)
    }
}

impl Engine {
    /// Other open releases in the environment in `[from, to)`, as bookings.
    fn bookings<R: GuardReads + ?Sized>(
        &self,
        reads: &R,
        environment: &Name,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        except: Option<ReleaseId>,
    ) -> Result<Vec<Booking>, R::Error> {
        Ok(reads
            .scheduled(from, to)?
            .into_iter()
            .filter(|r| {
                &r.environment == environment
                    && r.status.is_awaiting_deploy()
                    && Some(r.id) != except
            })
            .filter_map(|r| {
                r.scheduled_at.map(|at| Booking {
                    release: r.id,
                    service: r.service,
                    requester: r.requester,
                    at,
                })
            })
            .collect())
    }

    /// Checks a deploy time against windows, freezes and capacity. A broken
    /// rule is a refusal (with the next free slots) or, where the policy
    /// says warn, a warning to add to the reply.
    pub(super) fn check_slot<R: GuardReads + ?Sized>(
        &self,
        reads: &R,
        policy: &EnvPolicy,
        service: &Name,
        at: DateTime<Utc>,
        except: Option<ReleaseId>,
    ) -> Result<Option<String>, R::Error> {
        let freezes = reads.freezes_of(&policy.name)?;
        let rules = &policy.slots;
        // Other bookings matter only to capacity rules, and only near `at`
        // until a conflict asks for the next free slots.
        let uses_bookings = rules.max_per_day.is_some() || rules.service_gap.is_some();
        let around = |days: i64| -> Result<Vec<Booking>, R::Error> {
            if !uses_bookings {
                return Ok(Vec::new());
            }
            let from = at
                .checked_sub_signed(Duration::days(1))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let to = at
                .checked_add_signed(Duration::days(days))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            self.bookings(reads, &policy.name, from, to, except)
        };
        let tz = policy.timezone;
        let Err(conflict) = rules.check(at, tz, service, &freezes, &around(1)?) else {
            return Ok(None);
        };
        let others = around(15)?;
        let slots: Vec<String> = policy
            .slots
            .next_free(at, tz, service, &freezes, &others, 3)
            .into_iter()
            .map(|slot| short(slot, tz))
            .collect();
        let next = if slots.is_empty() {
            "no free slot in the next two weeks".to_string()
        } else {
            format!("next free slots: {}", slots.join(", "))
        };
        let text = format!(
            "{} for {service} in {} does not suit: {}; {next}.",
            format_local(at, tz),
            policy.name,
            conflict.describe(tz)
        );
        if policy.slots.refuse_conflicts {
            Err(Refusal::SlotTaken { why: text }.into())
        } else {
            Ok(Some(format!("⚠️ Heads-up: {text}")))
        }
    }

    /// Refuses a deploy now if the environment is closed or someone else
    /// holds a lock.
    pub(super) fn check_deploy_now<R: GuardReads + ?Sized>(
        &self,
        reads: &R,
        policy: &EnvPolicy,
        user: &UserRef,
        release: &Release,
    ) -> Result<(), R::Error> {
        let now = self.clock.now();
        if let Some(lock) = reads.lock_of(&release.service, &release.environment)? {
            if &lock.by != user {
                return Err(Refusal::Locked {
                    held_for: age(now - lock.at),
                    service: lock.service,
                    environment: lock.environment,
                    by: lock.by,
                    reason: lock.reason,
                }
                .into());
            }
        }
        let freezes = reads.freezes_of(&release.environment)?;
        if let Err(conflict) = policy.slots.open_at(now, policy.timezone, &freezes) {
            return Err(Refusal::Frozen {
                release: release.id,
                environment: release.environment.clone(),
                why: conflict.describe(policy.timezone),
            }
            .into());
        }
        Ok(())
    }

    /// The soak rule (`requires`): refused unless the version was live and
    /// healthy long enough where it must be first. Returns the soak when a
    /// release manager's override is what lets it go (for the audit line).
    pub(super) fn check_soak<R: GuardReads + ?Sized>(
        &self,
        reads: &R,
        policy: &EnvPolicy,
        release: &Release,
        overriding: bool,
    ) -> Result<Option<Soak>, R::Error> {
        let Some(rule) = &policy.requires else {
            return Ok(None);
        };
        let now = self.clock.now();
        let history = reads.history_of(&release.service, &rule.environment)?;
        // An incident there stops the clock while it is open.
        let incident = reads.incident_on(&release.service, &rule.environment)?;
        let pause = incident.as_ref().map(|i| (i.opened_at, i.resolved_at));
        let soaked = soak_paused(&history, &release.version, now, pause);
        let open = incident.filter(|i| i.is_open());
        if soaked.earned >= rule.needed() && open.is_none() {
            return Ok(None);
        }
        if overriding {
            return Ok(Some(soaked));
        }
        Err(Refusal::NotSoaked {
            release: release.id,
            version: release.version.to_string(),
            environment: release.environment.clone(),
            required: rule.environment.clone(),
            earned_minutes: u32::try_from(soaked.earned.num_minutes()).unwrap_or(u32::MAX),
            needed_minutes: rule.minutes,
            clock: match (open, soaked.done_at(rule.needed(), now)) {
                (Some(incident), _) => SoakClock::Incident(incident.id),
                (None, Some(at)) => SoakClock::ReadyAt(at),
                (None, None) => SoakClock::Stands,
            },
            tz: policy.timezone,
        }
        .into())
    }
}
