//! What the relay tells the engine about CI jobs: accepted, retried, finished.

use chrono::{DateTime, Utc};

use crate::domain::ids::UserRef;
use crate::domain::lifecycle;
use crate::domain::outbox::JobState;
use crate::domain::release::{DeployAction, JobOutcome, LiveVersion};

use super::{Engine, EngineResult, Step};

/// A CI system's word on a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub key: String,
    pub outcome: JobOutcome,
    pub url: Option<String>,
    pub message: Option<String>,
}

fn ci_actor() -> UserRef {
    UserRef::parse("system:ci").expect("a valid literal")
}

impl Engine {
    /// Records that the CI system took the job, before the relay lets go of it,
    /// so that a restart never sends it twice.
    pub fn job_accepted(
        &self,
        key: &str,
        run_url: Option<String>,
        simulated: Option<(DateTime<Utc>, JobOutcome)>,
    ) -> EngineResult<()> {
        let now = self.clock.now();
        self.commit(|tx| {
            let Some(mut job) = tx.job(key)? else {
                return Ok(());
            };
            job.attempts += 1;
            job.state = JobState::Accepted {
                at: now,
                run_url: run_url.clone(),
                simulated,
            };
            tx.put_job(&job)
        })?;
        Ok(())
    }

    /// Records a job's end, moves its release on and announces it. Returns
    /// `false` for a job that already ended (a duplicate report).
    pub fn job_finished(&self, report: &JobReport) -> EngineResult<bool> {
        let now = self.clock.now();
        let system = ci_actor();
        let finished = self.commit(|tx| {
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
                thread_line: format!("CI {verdict} (job {}){why}", report.key),
            };
            self.record(tx, Some(&before), &release, step)?;
            Ok(true)
        })?;
        Ok(finished)
    }
}
