//! The relay: delivers the CI job outbox to each environment's CI target and
//! feeds what CI reports back to the engine.

pub mod simulate;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};

use crate::clock::Clock;
use crate::config::CiTarget;
use crate::domain::outbox::JobState;
use crate::engine::{Engine, JobReport};

pub struct Relay {
    engine: Engine,
    clock: Arc<dyn Clock>,
    /// Woken after a job finishes, so its announcement goes out at once.
    notifier_wake: Arc<Notify>,
}

impl Relay {
    pub fn new(engine: Engine, clock: Arc<dyn Clock>, notifier_wake: Arc<Notify>) -> Self {
        Relay {
            engine,
            clock,
            notifier_wake,
        }
    }

    /// Moves every due job one step. Returns when the next one falls due.
    pub fn run_due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let jobs = match self.engine.store().jobs() {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::error!(%error, "reading the CI outbox failed");
                return Some(now + chrono::Duration::seconds(1));
            }
        };
        let mut next_due: Option<DateTime<Utc>> = None;
        let mut remember = |at: DateTime<Utc>| next_due = Some(next_due.map_or(at, |n| n.min(at)));
        for job in jobs {
            match &job.state {
                JobState::Pending if job.next_attempt_at <= now => {
                    let Some(environment) = self.engine.config().environment(&job.environment)
                    else {
                        tracing::error!(job = %job.key, env = %job.environment, "no CI target for this environment");
                        continue;
                    };
                    match &environment.ci {
                        CiTarget::Simulate { delay, outcome } => {
                            let (url, due, outcome) = simulate::accept(&job, *delay, *outcome, now);
                            match self.engine.job_accepted(
                                &job.key,
                                Some(url),
                                Some((due, outcome)),
                            ) {
                                Ok(()) => remember(due),
                                Err(error) => {
                                    tracing::error!(job = %job.key, %error, "recording acceptance failed")
                                }
                            }
                        }
                    }
                }
                JobState::Pending => remember(job.next_attempt_at),
                JobState::Accepted {
                    run_url,
                    simulated: Some((due, outcome)),
                    ..
                } => {
                    if *due <= now {
                        let report = JobReport {
                            key: job.key.clone(),
                            outcome: *outcome,
                            url: run_url.clone(),
                            message: None,
                        };
                        match self.engine.job_finished(&report) {
                            Ok(_) => self.notifier_wake.notify_one(),
                            Err(error) => {
                                tracing::error!(job = %job.key, %error, "recording the result failed")
                            }
                        }
                    } else {
                        remember(*due);
                    }
                }
                // Waiting for the CI system to call back.
                JobState::Accepted {
                    simulated: None, ..
                } => {}
            }
        }
        next_due
    }

    /// The worker: runs due jobs, sleeping until the next is due or it is woken.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        loop {
            let now = self.clock.now();
            let next = self.run_due(now);
            let wait = next
                .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(3600))
                .max(Duration::from_millis(5));
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }
}
