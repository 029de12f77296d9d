//! The relay's worker: CI jobs in lanes, one per service and environment.
//! A lane steps its jobs in outbox order (a deploy before the rollback that
//! follows it); lanes run at once within `[delivery] in_flight`, so a CI
//! target that never answers holds up only its own service's jobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use super::Relay;
use crate::domain::outbox::CiJob;
use crate::engine::off_async_threads;
use crate::lanes::{LaneMarks, Start};

/// Which lanes are under way, and the bound on jobs sent at once.
pub(super) struct LaneBook {
    marks: Mutex<LaneMarks>,
    permits: Arc<Semaphore>,
    /// Woken when a lane finishes, so the worker looks again at once.
    done: Notify,
}

impl LaneBook {
    pub(super) fn new(in_flight: usize) -> Self {
        LaneBook {
            marks: Mutex::new(LaneMarks::default()),
            permits: Arc::new(Semaphore::new(in_flight.max(1))),
            done: Notify::new(),
        }
    }

    fn marks(&self) -> MutexGuard<'_, LaneMarks> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Clears a lane's busy mark however its task ends (done, panicked, aborted
/// at shutdown) and wakes the worker.
struct LaneGuard {
    relay: Arc<Relay>,
    lane: String,
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        self.relay.lanes.marks().finish(&self.lane);
        self.relay.lanes.done.notify_one();
    }
}

impl Relay {
    /// The worker: starts every lane with a due job, sleeping until the next
    /// falls due, it is woken, or a lane finishes; it never waits for a slow
    /// lane itself. At shutdown it stops the lanes under way: a job cut short
    /// is still pending and goes again, with the same idempotency key.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let mut lanes: Vec<JoinHandle<()>> = Vec::new();
        let shared = self.engine.shared_store();
        loop {
            lanes.retain(|lane| !lane.is_finished());
            // Read off the async threads: the store may fsync or wait on
            // the network.
            let read_at = self.lanes.marks().read_mark();
            let engine = self.engine.clone();
            let jobs = off_async_threads("claiming CI jobs", move || engine.store().claim_jobs())
                .await
                .unwrap_or_else(|e| Err(crate::store::StoreError::Storage(e.to_string())));
            let next = self.dispatch(self.clock.now(), (read_at, jobs), &mut lanes);
            // Claims are held by lanes under way and jobs due later.
            let longest = crate::notify::longest_sleep(shared, !lanes.is_empty() || next.is_some());
            let wait = next
                .map(|at| (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(longest)
                .clamp(Duration::from_millis(5), longest);
            tokio::select! {
                _ = wake.notified() => {}
                _ = self.lanes.done.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        for lane in &lanes {
            lane.abort();
        }
        for lane in lanes {
            let _ = lane.await;
        }
    }

    /// Starts a task for each idle lane with a job due by `now`, from jobs
    /// read at `read_at` (a lane mark); returns when the earliest job of an
    /// idle lane falls due.
    fn dispatch(
        self: &Arc<Self>,
        now: DateTime<Utc>,
        (read_at, jobs): (u64, crate::store::StoreResult<Vec<CiJob>>),
        started: &mut Vec<JoinHandle<()>>,
    ) -> Option<DateTime<Utc>> {
        let jobs = match jobs {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::error!(%error, "reading the CI outbox failed");
                return Some(now + chrono::Duration::seconds(1));
            }
        };
        let mut order: Vec<String> = Vec::new();
        let mut by_lane: HashMap<String, Vec<CiJob>> = HashMap::new();
        for job in jobs {
            let lane = job.lane();
            if !by_lane.contains_key(&lane) {
                order.push(lane.clone());
            }
            by_lane.entry(lane).or_default().push(job);
        }
        let mut next_due: Option<DateTime<Utc>> = None;
        for lane in order {
            let jobs = by_lane.remove(&lane).unwrap_or_default();
            let Some(due) = jobs.iter().filter_map(|job| self.due_at(job)).min() else {
                continue;
            };
            if due > now {
                next_due = Some(next_due.map_or(due, |next| next.min(due)));
                continue;
            }
            match self.lanes.marks().start(&lane, read_at) {
                Start::Started => {}
                Start::Busy => continue,
                // It may have sent what was read of it: read again at once.
                Start::Stale => {
                    next_due = Some(now);
                    continue;
                }
            }
            let guard = LaneGuard {
                relay: self.clone(),
                lane,
            };
            started.push(tokio::spawn(run_lane(guard, jobs)));
        }
        next_due
    }
}

/// One lane's task: within the bound on jobs at once, steps its jobs in order.
async fn run_lane(guard: LaneGuard, jobs: Vec<CiJob>) {
    let relay = guard.relay.clone();
    let Ok(_permit) = relay.lanes.permits.clone().acquire_owned().await else {
        return;
    };
    for job in jobs {
        relay.step(job, relay.clock.now()).await;
    }
    drop(guard);
}
