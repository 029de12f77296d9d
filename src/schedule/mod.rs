//! The scheduler: cron digests (standard crontab lines, per-job timezone,
//! missed-slot policy, never twice for one slot), per-release timers, and
//! nudges to incident leads whose update is due.
//! `run_due(now)` is public so that tests drive it with a fixed clock.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};

use crate::clock::Clock;
use crate::config::{Missed, ScheduledDigest};
use crate::engine::off_async_threads;
use crate::engine::Engine;

/// The lease whose holder is the one active scheduler.
pub const LEASE: &str = "scheduler";

/// Timers handled per tick at most; the rest wait for the next tick.
const TIMERS_PER_TICK: usize = 500;

/// What one `run_due` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fired {
    /// (job name, slot) for each digest posted.
    pub digests: Vec<(String, DateTime<Utc>)>,
    /// Lines posted by per-release timers.
    pub reminders: Vec<String>,
}

/// Jobs by next slot, earliest first: (slot, index into `jobs`).
type Queue = BinaryHeap<Reverse<(DateTime<Utc>, usize)>>;

pub struct Scheduler {
    engine: Engine,
    jobs: Vec<ScheduledDigest>,
    /// (next slot, job index), earliest first: a tick looks only at what is due.
    queue: Mutex<Queue>,
}

/// The latest slot of `job` in `(after, now]`, if any.
fn latest_slot(
    job: &ScheduledDigest,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut latest = None;
    let mut cursor = after;
    while let Some(next) = job.cron.next_after(cursor, job.timezone) {
        if next > now {
            break;
        }
        latest = Some(next);
        cursor = next;
    }
    latest
}

impl Scheduler {
    /// Plans every job from what the store says last fired. A slot missed
    /// while the bot was down runs once now if the job's policy allows
    /// (by default: missed by under an hour), else it is skipped.
    pub fn new(engine: Engine, now: DateTime<Utc>) -> Scheduler {
        let jobs = engine.config().schedules.clone();
        let mut queue = BinaryHeap::new();
        for (index, job) in jobs.iter().enumerate() {
            let last = engine.store().last_fired(&format!("cron:{}", job.name)).unwrap_or_else(|error| {
                tracing::error!(job = %job.name, %error, "reading when a job last fired failed");
                None
            });
            let missed = last.and_then(|last| latest_slot(job, last, now));
            let first = match (missed, job.missed) {
                (Some(slot), Missed::RunOnce(within)) if now - slot <= within => Some(slot),
                _ => job.cron.next_after(now, job.timezone),
            };
            if let Some(first) = first {
                queue.push(Reverse((first, index)));
            }
        }
        Scheduler {
            engine,
            jobs,
            queue: Mutex::new(queue),
        }
    }

    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// Fires what is due at `now`: digests whose slot came, then timers;
    /// nothing while another instance holds the scheduler lease (its queue
    /// stays as it is, so a slot due now fires here once the lease is ours).
    pub fn run_due(&self, now: DateTime<Utc>) -> Fired {
        let mut fired = Fired::default();
        match self.engine.hold_lease(LEASE) {
            Ok(Some(_)) => {}
            Ok(None) => return fired,
            Err(error) => {
                tracing::error!(%error, "taking the scheduler lease failed; not firing");
                return fired;
            }
        }
        loop {
            let due = {
                let mut queue = self.queue.lock().expect("scheduler queue lock");
                match queue.peek() {
                    Some(Reverse((at, _))) if *at <= now => queue.pop().map(|Reverse(entry)| entry),
                    _ => None,
                }
            };
            let Some((slot, index)) = due else { break };
            let job = &self.jobs[index];
            match self.engine.fire_digest(job, slot, now) {
                Ok(true) => fired.digests.push((job.name.clone(), slot)),
                Ok(false) => {}
                Err(error) => tracing::error!(job = %job.name, %error, "posting a digest failed"),
            }
            // After `now`, not after the slot: a clock jump fires a job once, not per slot.
            if let Some(next) = job.cron.next_after(now.max(slot), job.timezone) {
                self.queue
                    .lock()
                    .expect("scheduler queue lock")
                    .push(Reverse((next, index)));
            }
        }
        match self.engine.store().due_timers(now, TIMERS_PER_TICK) {
            Ok(timers) => {
                for timer in timers {
                    match self.engine.fire_timer(timer, now) {
                        Ok(Some(line)) => fired.reminders.push(line.to_string()),
                        Ok(None) => {}
                        Err(error) => {
                            tracing::error!(release = %timer.release, %error, "a release timer failed")
                        }
                    }
                }
            }
            Err(error) => tracing::error!(%error, "reading due timers failed"),
        }
        match self.engine.nudge_incident_leads(now) {
            Ok(lines) => fired
                .reminders
                .extend(lines.iter().map(ToString::to_string)),
            Err(error) => tracing::error!(%error, "nudging incident leads failed"),
        }
        fired
    }

    /// When something next falls due (a digest or a timer).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let digest = self
            .queue
            .lock()
            .expect("scheduler queue lock")
            .peek()
            .map(|Reverse((at, _))| *at);
        let timer = self.engine.store().next_timer().ok().flatten();
        match (digest, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The worker: ticks at least once a second, so that a job fires within
    /// a second of its time (and, on a shared store, the scheduler lease
    /// stays renewed), and when `wake` says timers changed or the scheduler
    /// lease of a dead instance ran out.
    pub async fn run(
        self: Arc<Self>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let now = clock.now();
            // Off the async threads: firing writes to the store.
            let scheduler = self.clone();
            // What it posts wakes the notifier through the change feed.
            let _ = off_async_threads("a scheduler tick", move || scheduler.run_due(now)).await;
            let scheduler = self.clone();
            let next = off_async_threads("finding the next job", move || scheduler.next_due())
                .await
                .ok()
                .flatten();
            let wait = next
                .map(|at| (at - clock.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(1))
                .clamp(Duration::from_millis(10), Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod dst_tests;
#[cfg(test)]
mod tests;
