//! What the relay and CI callbacks tell the engine about CI jobs: accepted,
//! retried, started, finished.

use chrono::{DateTime, Utc};

use crate::domain::ids::{ReleaseId, UserRef};
use crate::domain::lifecycle;
use crate::domain::outbox::JobState;
use crate::domain::release::{DeployAction, JobOutcome, LiveVersion};
use crate::domain::text::Text;
use crate::domain::Refusal;

use super::{Engine, EngineError, EngineResult, Step};

/// A CI system's word on a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub key: String,
    pub outcome: JobOutcome,
    pub url: Option<String>,
    pub message: Option<String>,
}

/// What a CI callback says, after its signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub release: ReleaseId,
    pub job: String,
    /// `None` for `started`.
    pub outcome: Option<JobOutcome>,
    pub url: Option<String>,
    pub message: Option<String>,
}

/// How a callback was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackResult {
    Recorded,
    /// The same report arrived before; nothing changed.
    Duplicate,
}

/// Why a callback was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("internal error")]
    Internal,
}

fn ci_actor() -> UserRef {
    UserRef::parse("system:ci").expect("a valid literal")
}

/// Who the audit log says read the notes from the code.
pub(super) fn notes_actor() -> UserRef {
    UserRef::parse("system:notes").expect("a valid literal")
}

impl Engine {
    /// Records that the CI system took the job, before the relay lets go of
    /// it, so that a restart never sends it twice; links the run in the thread.
    pub fn job_accepted(
        &self,
        key: &str,
        run_url: Option<String>,
        simulated: Option<(DateTime<Utc>, JobOutcome)>,
    ) -> EngineResult<()> {
        let now = self.clock.now();
        let system = ci_actor();
        self.commit(|tx| {
            let directory = self.directory_in(tx)?;
            let Some(mut job) = tx.job(key)? else {
                return Ok(());
            };
            job.attempts += 1;
            job.last_error = None;
            job.uncertain = false;
            job.state = JobState::Accepted {
                at: now,
                run_url: run_url.clone(),
                simulated,
            };
            tx.put_job(&job)?;
            let before = Self::load(tx, job.release)?;
            let mut release = before.clone();
            let Some(deployment) = release.deployments.iter_mut().find(|d| d.job == key) else {
                return Ok(());
            };
            deployment.url = run_url.clone();
            release.updated_at = now;
            let ci = self.ci_name(&release.service, &release.environment);
            let link = run_url
                .as_ref()
                .map(|u| format!(": {u}"))
                .unwrap_or_default();
            let step = Step {
                actor: &system,
                action: "ci_accepted",
                detail: format!("job {key}{link}"),
                thread_line: job_line(
                    Text::plain(format!("{ci} accepted the {} (job ", job.action.as_str())),
                    key,
                    run_url.as_deref(),
                ),
            };
            self.record(tx, &directory, Some(&before), &release, step)
        })?;
        Ok(())
    }

    /// Records a failed attempt and when to try again; `unanswered` keeps
    /// the job uncertain (the CI system may have taken it).
    pub fn job_retry(
        &self,
        key: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        unanswered: bool,
    ) -> EngineResult<()> {
        self.commit(|tx| {
            let Some(mut job) = tx.job(key)? else {
                return Ok(());
            };
            job.attempts += 1;
            job.next_attempt_at = next_attempt_at;
            job.last_error = Some(error.to_string());
            job.uncertain = unanswered;
            tx.put_job(&job)
        })?;
        Ok(())
    }

    /// Marks a job uncertain, durably, just before its request is sent.
    pub fn job_sending(&self, key: &str) -> EngineResult<()> {
        self.commit(|tx| {
            let Some(mut job) = tx.job(key)? else {
                return Ok(());
            };
            if job.uncertain {
                return Ok(());
            }
            job.uncertain = true;
            tx.put_job(&job)
        })?;
        Ok(())
    }

    fn ci_name(
        &self,
        service: &crate::domain::ids::Name,
        environment: &crate::domain::ids::Name,
    ) -> &'static str {
        self.config
            .ci_for(service, environment)
            .map_or("CI", |t| t.display_name())
    }

    /// Records a job's end, moves its release on and announces it. Returns
    /// `false` for a job that already ended (a duplicate report).
    pub fn job_finished(&self, report: &JobReport) -> EngineResult<bool> {
        let now = self.clock.now();
        let system = ci_actor();
        let finished = self.commit(|tx| {
            let directory = self.directory_in(tx)?;
            let Some(job) = tx.job(&report.key)? else {
                return Ok(false);
            };
            let before = Self::load(tx, job.release)?;
            let mut release = before.clone();
            let changed = lifecycle::finish_job(
                &mut release,
                &report.key,
                report.outcome,
                report.url.clone(),
                report.message.clone(),
                now,
            )?;
            tx.remove_job(&report.key)?;
            if !changed {
                return Ok(false);
            }
            tx.set_in_flight(&release.service, &release.environment, None)?;
            if report.outcome == JobOutcome::Succeeded {
                let live = match job.action {
                    DeployAction::Deploy => LiveVersion {
                        version: release.version.clone(),
                        release: release.id,
                    },
                    DeployAction::Rollback => LiveVersion {
                        version: job.version.clone(),
                        release: release.previous.as_ref().map_or(release.id, |p| p.release),
                    },
                };
                tx.set_live(&release.service, &release.environment, &live)?;
            }
            let verdict = match (job.action, report.outcome) {
                (DeployAction::Deploy, JobOutcome::Succeeded) => {
                    format!("deployed {} ✔", job.version)
                }
                (DeployAction::Rollback, JobOutcome::Succeeded) => {
                    format!("rolled back to {} ✔", job.version)
                }
                (DeployAction::Deploy, JobOutcome::Failed) => {
                    format!("deploy of {} failed ✘", job.version)
                }
                (DeployAction::Rollback, JobOutcome::Failed) => {
                    format!("rollback to {} failed ✘", job.version)
                }
            };
            let why = report
                .message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let step = Step {
                actor: &system,
                action: match report.outcome {
                    JobOutcome::Succeeded => "ci_succeeded",
                    JobOutcome::Failed => "ci_failed",
                },
                detail: format!("job {}{why}", report.key),
                thread_line: match report.outcome {
                    // The requester is needed when their release failed.
                    JobOutcome::Failed => Text::plain(format!("CI {verdict} (job "))
                        .code(report.key.as_str())
                        .say(format!("){why} — "))
                        .ping(&release.requester),
                    JobOutcome::Succeeded => Text::plain(format!("CI {verdict} (job "))
                        .code(report.key.as_str())
                        .say(format!("){why}")),
                },
            };
            self.record(tx, &directory, Some(&before), &release, step)?;
            Ok(true)
        })?;
        Ok(finished)
    }

    /// Takes a signed CI callback. Idempotent: the same report twice changes nothing the second time.
    pub fn callback(&self, callback: &Callback) -> Result<CallbackResult, CallbackError> {
        let release = match self.store.release(callback.release) {
            Ok(Some(release)) => release,
            Ok(None) => {
                return Err(CallbackError::NotFound(format!(
                    "no release {}",
                    callback.release
                )))
            }
            Err(error) => {
                tracing::error!(%error, "reading a release for a callback failed");
                return Err(CallbackError::Internal);
            }
        };
        let Some(deployment) = release.deployments.iter().find(|d| d.job == callback.job) else {
            return Err(CallbackError::NotFound(format!(
                "{} has no job {}",
                release.id, callback.job
            )));
        };
        if let Some(ended) = deployment.outcome {
            return match callback.outcome {
                Some(outcome) if outcome == ended => Ok(CallbackResult::Duplicate),
                None => Ok(CallbackResult::Duplicate),
                Some(_) => Err(CallbackError::Conflict(format!(
                    "job {} already ended as {}",
                    callback.job,
                    if ended == JobOutcome::Succeeded {
                        "succeeded"
                    } else {
                        "failed"
                    }
                ))),
            };
        }
        let result = match callback.outcome {
            Some(outcome) => self
                .job_finished(&JobReport {
                    key: callback.job.clone(),
                    outcome,
                    url: callback.url.clone(),
                    message: callback.message.clone(),
                })
                .map(|changed| {
                    if changed {
                        CallbackResult::Recorded
                    } else {
                        CallbackResult::Duplicate
                    }
                }),
            None if callback.url.is_some() && callback.url != deployment.url => self
                .job_started(callback)
                .map(|()| CallbackResult::Recorded),
            None => Ok(CallbackResult::Duplicate),
        };
        result.map_err(|error| match error {
            EngineError::Refused(refusal) => CallbackError::Conflict(refusal.to_string()),
            EngineError::Unparsed(error) => CallbackError::Conflict(error.to_string()),
            EngineError::Internal(text) | EngineError::Unavailable(text) => {
                tracing::error!(error = %text, "recording a callback failed");
                CallbackError::Internal
            }
            // Callbacks carry no chat delivery; this cannot happen.
            EngineError::Duplicate => CallbackError::Internal,
        })
    }

    /// A pipeline said it started: link its run in the thread.
    fn job_started(&self, callback: &Callback) -> EngineResult<()> {
        let now = self.clock.now();
        let system = ci_actor();
        self.commit(|tx| {
            let directory = self.directory_in(tx)?;
            let before = Self::load(tx, callback.release)?;
            let mut release = before.clone();
            let deployment = release
                .deployments
                .iter_mut()
                .find(|d| d.job == callback.job && d.outcome.is_none())
                .ok_or_else(|| Refusal::JobNotRunning {
                    job: callback.job.clone(),
                })?;
            deployment.url = callback.url.clone();
            release.updated_at = now;
            let url = callback.url.clone().unwrap_or_default();
            let step = Step {
                actor: &system,
                action: "ci_started",
                detail: format!("job {}: {url}", callback.job),
                thread_line: job_line(
                    Text::plain("CI run started (job "),
                    &callback.job,
                    callback.url.as_deref(),
                ),
            };
            self.record(tx, &directory, Some(&before), &release, step)
        })?;
        Ok(())
    }
}

/// `(job <key>)` after `start`, then `: <link>` when the run has one.
fn job_line(start: Text, key: &str, url: Option<&str>) -> Text {
    let line = start.code(key).say(")");
    match url {
        Some(url) => line.say(": ").link(url),
        None => line,
    }
}
