//! The relay: delivers the CI job outbox to each target (simulate, GitHub,
//! GitLab, Jenkins, webhook), retries with backoff, gives up clearly, and
//! declares runs that never report back stuck.

mod github;
mod gitlab;
mod jenkins;
pub mod payload;
pub mod response;
pub mod signature;
pub mod simulate;
mod webhook;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::clock::Clock;
use crate::config::{CiKind, CiTarget};
use crate::domain::outbox::{CiJob, JobState};
use crate::domain::release::JobOutcome;
use crate::engine::{Engine, JobReport};
use crate::metrics::Metrics;
use response::{Accepted, SendError};

/// The first retry waits about this long; each later one doubles it.
const BACKOFF_BASE: Duration = Duration::from_secs(2);
const BACKOFF_CAP: Duration = Duration::from_secs(300);

pub struct Relay {
    engine: Engine,
    clock: Arc<dyn Clock>,
    /// Built on first use: the demo's `simulate` target never needs TLS, and
    /// building the client (root certificates) costs start time and memory.
    client: std::sync::OnceLock<reqwest::Client>,
    metrics: Arc<Metrics>,
    /// The worker's lanes (one per service and environment) under way.
    lanes: worker::LaneBook,
}

/// Looks for a job an earlier, unanswered request may have started, where
/// the CI system lets us: GitHub lists runs whose name carries the
/// idempotency key (see `config/ci/callbacks.md`); Jenkins shows the
/// parameters of queued items and builds. A webhook receiver dedupes on
/// `X-Releasebot-Delivery`, so it is simply sent again; GitLab's trigger
/// token cannot read pipelines, so it is sent again too.
async fn lookup(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Option<Accepted>, String> {
    match &target.kind {
        CiKind::GithubWorkflow { .. } | CiKind::GithubDispatch { .. } => {
            github::find_run(client, target, job).await
        }
        CiKind::Jenkins { .. } => jenkins::find_build(client, target, job).await,
        _ => Ok(None),
    }
}

/// Exponential backoff with jitter: base·2^(n-1), capped, times 0.5–1.0.
pub fn backoff(attempt: u32) -> Duration {
    let exponential = BACKOFF_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    exponential
        .min(BACKOFF_CAP)
        .mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// The CI client: every request gives up after `timeout` (`[delivery]
/// timeout_secs`), which the relay treats like a 5xx: retried with backoff.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("releasebot/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        // CI systems answer a trigger with 201/204; a redirect is not followed blindly.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds with static settings")
}

impl Relay {
    pub fn new(engine: Engine, clock: Arc<dyn Clock>, metrics: Arc<Metrics>) -> Self {
        Relay {
            clock,
            client: std::sync::OnceLock::new(),
            lanes: worker::LaneBook::new(engine.config().delivery.in_flight),
            engine,
            metrics,
        }
    }

    fn client(&self) -> &reqwest::Client {
        let timeout = self.engine.config().delivery.timeout;
        self.client.get_or_init(|| http_client(timeout))
    }

    /// Moves every due job one step. Returns when the next one falls due.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let jobs = match self.engine.store().claim_jobs() {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::error!(%error, "reading the CI outbox failed");
                return Some(now + chrono::Duration::seconds(1));
            }
        };
        let mut next_due: Option<DateTime<Utc>> = None;
        for job in jobs {
            let due = self.step(job, now).await;
            next_due = match (next_due, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        next_due
    }

    /// When a job next needs a step: a send or retry, a simulated run's
    /// end, or the deadline after which a silent run is stuck. `None` for a
    /// job no target is configured for.
    fn due_at(&self, job: &CiJob) -> Option<DateTime<Utc>> {
        let Some(target) = self.engine.config().ci_for(&job.service, &job.environment) else {
            tracing::error!(job = %job.key, env = %job.environment, "no CI target is configured for this job");
            return None;
        };
        match &job.state {
            JobState::Pending => Some(job.next_attempt_at),
            JobState::Accepted {
                simulated: Some((due, _)),
                ..
            } => Some(*due),
            JobState::Accepted { at, .. } => Some(
                at.checked_add_signed(
                    chrono::Duration::from_std(target.timeout)
                        .unwrap_or(chrono::Duration::hours(1)),
                )
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            ),
        }
    }

    /// One job's next step; returns when it next needs attention.
    async fn step(&self, job: CiJob, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let due = self.due_at(&job)?;
        if due > now {
            return Some(due);
        }
        let target = self
            .engine
            .config()
            .ci_for(&job.service, &job.environment)?
            .clone();
        match &job.state {
            JobState::Pending => self.send(&job, &target, now).await,
            JobState::Accepted {
                run_url,
                simulated: Some((_, outcome)),
                ..
            } => {
                let report = JobReport {
                    key: job.key.clone(),
                    outcome: *outcome,
                    url: run_url.clone(),
                    message: None,
                };
                self.finish(report).await;
                None
            }
            JobState::Accepted {
                run_url,
                simulated: None,
                ..
            } => {
                let minutes = target.timeout.as_secs() / 60;
                let link = run_url
                    .as_ref()
                    .map(|u| format!("; check the run: {u}"))
                    .unwrap_or_default();
                let report = JobReport {
                    key: job.key.clone(),
                    outcome: JobOutcome::Failed,
                    url: run_url.clone(),
                    message: Some(format!(
                        "stuck: no report from {} within {minutes} min{link}. Release managers: roll back or redeploy",
                        target.display_name()
                    )),
                };
                Metrics::count(&self.metrics.jobs_failed);
                self.finish(report).await;
                None
            }
        }
    }

    async fn finish(&self, report: JobReport) {
        let key = report.key.clone();
        let recorded = self
            .engine
            .blocking_try(move |engine| engine.job_finished(&report))
            .await;
        match recorded {
            Ok(_) => {}
            Err(error) => {
                tracing::error!(job = %key, %error, "recording a job's end failed")
            }
        }
    }

    /// Marks a job as possibly taken before its request goes out, off the
    /// async threads: after a crash it is looked for before being sent again.
    async fn mark_sending(&self, key: &str) -> Result<(), crate::engine::EngineError> {
        let key = key.to_string();
        self.engine
            .blocking_try(move |engine| engine.job_sending(&key))
            .await
    }

    /// Records a failed attempt and when to try again, off the async threads.
    async fn retry(&self, key: &str, next: DateTime<Utc>, why: &str, unanswered: bool) {
        let (job, why) = (key.to_string(), why.to_string());
        let recorded = self
            .engine
            .blocking_try(move |engine| engine.job_retry(&job, next, &why, unanswered))
            .await;
        if let Err(error) = recorded {
            tracing::error!(job = %key, %error, "recording a retry failed");
        }
    }

    async fn send(
        &self,
        job: &CiJob,
        target: &CiTarget,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if let CiKind::Simulate { delay, outcome } = &target.kind {
            let (url, due, outcome) = simulate::accept(job, *delay, *outcome, now);
            self.accepted(
                job,
                target,
                Accepted {
                    run_url: Some(url),
                    follow: None,
                },
                Some((due, outcome)),
            )
            .await;
            return Some(due);
        }
        let client = self.client();
        if job.uncertain {
            if let Err(then) = self.look_before_resending(job, target, now).await {
                return then;
            }
        } else if let Err(error) = self.mark_sending(&job.key).await {
            tracing::error!(job = %job.key, %error, "marking the job as sent failed; not sending it yet");
            return Some(now + chrono::Duration::seconds(1));
        }
        Metrics::count(&self.metrics.jobs_sent);
        let result = match &target.kind {
            CiKind::GithubWorkflow { .. } | CiKind::GithubDispatch { .. } => {
                github::trigger(client, target, job).await
            }
            CiKind::Gitlab { .. } => gitlab::trigger(client, target, job).await,
            CiKind::Jenkins { .. } => jenkins::trigger(client, target, job).await,
            CiKind::Webhook { .. } => webhook::trigger(client, target, job).await,
            CiKind::Simulate { .. } => unreachable!("handled above"),
        };
        // A crash here: the CI system answered, the bot never recorded it.
        crate::failpoint::hit("ci.after_answer", &job.key);
        self.settle(job, target, result, now).await
    }

    /// Before sending a job again whose earlier request went unanswered:
    /// whether the CI system took it. `Err` carries what `send` returns
    /// instead of sending (when to look again, or nothing).
    async fn look_before_resending(
        &self,
        job: &CiJob,
        target: &CiTarget,
        now: DateTime<Utc>,
    ) -> Result<(), Option<DateTime<Utc>>> {
        let client = self.client();
        // An earlier request went unanswered (a timeout, a crash): it
        // may have been taken. Look before sending it again.
        match lookup(client, target, job).await {
            Ok(Some(found)) => {
                tracing::info!(job = %job.key, "an earlier request was taken; not sending it again");
                self.accepted(job, target, found, None).await;
                Err(None)
            }
            Ok(None) => Ok(()),
            Err(why) if job.attempts + 1 >= target.max_attempts => {
                Metrics::count(&self.metrics.jobs_failed);
                self.finish(JobReport {
                    key: job.key.clone(),
                    outcome: JobOutcome::Failed,
                    url: None,
                    message: Some(format!(
                        "gave up: an earlier request went unanswered and {} could not be asked whether it took it ({why}); check {} before deploying again",
                        target.display_name(),
                        target.display_name()
                    )),
                })
                .await;
                Err(None)
            }
            Err(why) => {
                let next = now
                    + chrono::Duration::from_std(backoff(job.attempts + 1))
                        .unwrap_or(chrono::Duration::seconds(1));
                tracing::warn!(job = %job.key, %why, "looking for an earlier request failed; will look again");
                self.retry(&job.key, next, &why, true).await;
                Err(Some(next))
            }
        }
    }

    /// What a CI system's answer leaves: accepted, a retry, or given up.
    async fn settle(
        &self,
        job: &CiJob,
        target: &CiTarget,
        result: Result<Accepted, SendError>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match result {
            Ok(accepted) => {
                self.accepted(job, target, accepted, None).await;
                None
            }
            Err(SendError::Retry {
                after,
                why,
                unanswered,
            }) if job.attempts + 1 < target.max_attempts => {
                let wait = after.unwrap_or_else(|| backoff(job.attempts + 1));
                let next =
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1));
                tracing::warn!(job = %job.key, %why, retry_in = ?wait, "CI request failed; will retry");
                Metrics::count(&self.metrics.jobs_retried);
                self.retry(&job.key, next, &why, unanswered).await;
                Some(next)
            }
            Err(SendError::Retry { why, .. }) => {
                Metrics::count(&self.metrics.jobs_failed);
                let message = format!("gave up after {} attempts: {why}", job.attempts + 1);
                self.finish(JobReport {
                    key: job.key.clone(),
                    outcome: JobOutcome::Failed,
                    url: None,
                    message: Some(message),
                })
                .await;
                None
            }
            Err(SendError::Fatal(why)) => {
                Metrics::count(&self.metrics.jobs_failed);
                self.finish(JobReport {
                    key: job.key.clone(),
                    outcome: JobOutcome::Failed,
                    url: None,
                    message: Some(why),
                })
                .await;
                None
            }
        }
    }

    async fn accepted(
        &self,
        job: &CiJob,
        target: &CiTarget,
        accepted: Accepted,
        simulated: Option<(DateTime<Utc>, JobOutcome)>,
    ) {
        let (key, url) = (job.key.clone(), accepted.run_url.clone());
        let recorded = self
            .engine
            .blocking_try(move |engine| engine.job_accepted(&key, url, simulated))
            .await;
        if let Err(error) = recorded {
            tracing::error!(job = %job.key, %error, "recording acceptance failed");
            return;
        }
        if let Some(item) = accepted.follow {
            let (client, target, engine) =
                (self.client().clone(), target.clone(), self.engine.clone());
            let (release, key) = (job.release, job.key.clone());
            tokio::spawn(async move {
                if let Some(build) = jenkins::follow_queue_item(&client, &target, &item).await {
                    let started = crate::engine::Callback {
                        release,
                        job: key,
                        outcome: None,
                        url: Some(build),
                        message: None,
                    };
                    let _ = engine.blocking(move |e| e.callback(&started)).await;
                }
            });
        }
    }
}
