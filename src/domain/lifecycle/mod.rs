//! The rules of each step in a release's life: who may take it, from which
//! status, and what it changes. Pure: the engine persists what these return.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::ids::{Name, ReleaseId, UserRef, Version};
use super::incident::IncidentId;
use super::policy::{Directory, EnvPolicy, QuorumState};
use super::release::{
    Approval, ChecklistItem, Closure, DeployAction, Deployment, JobOutcome, LiveVersion, Priority,
    Release, ReleaseStatus,
};
use super::{Act, Refusal};

/// Who is acting, with the roles they hold.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: &'a UserRef,
    pub roles: &'a BTreeSet<String>,
}

/// What a requester asks for, already resolved against config and clock.
#[derive(Debug, Clone)]
pub struct RequestDraft {
    pub service: Name,
    pub version: Version,
    pub environment: Name,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    pub priority: Priority,
    /// The incident this release fixes (`fix I-1`).
    pub fixes: Option<IncidentId>,
}

/// Whether `actor` may request releases to `policy`'s environment; the
/// engine asks before it reads the calendar for the requested time.
pub fn may_request(actor: Actor<'_>, policy: &EnvPolicy) -> Result<(), Refusal> {
    if policy.request.allows(actor.roles) {
        Ok(())
    } else {
        Err(Refusal::NotPermitted {
            act: Act::Request,
            environment: policy.name.clone(),
            needs: policy.request.describe(),
        })
    }
}

pub fn request(
    id: ReleaseId,
    draft: RequestDraft,
    actor: Actor<'_>,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<Release, Refusal> {
    may_request(actor, policy)?;
    Ok(Release {
        id,
        service: draft.service,
        version: draft.version,
        environment: draft.environment,
        status: ReleaseStatus::Requested,
        requester: actor.user.clone(),
        requested_at: now,
        updated_at: now,
        priority: draft.priority,
        notes: draft.notes,
        scheduled_at: draft.scheduled_at,
        approvals: Vec::new(),
        checklist: fresh_checklist(policy),
        deployments: Vec::new(),
        previous: None,
        rejected: None,
        cancelled: None,
        promoted_from: None,
        fixes: draft.fixes,
        incident: None,
        changes: None,
        revision: 0,
    })
}

fn fresh_checklist(policy: &EnvPolicy) -> Vec<ChecklistItem> {
    policy
        .checklist
        .iter()
        .map(|item| ChecklistItem {
            item: item.clone(),
            done: false,
            by: None,
            at: None,
        })
        .collect()
}

fn require_awaiting_deploy(release: &Release, act: Act) -> Result<(), Refusal> {
    if release.status.is_awaiting_deploy() {
        Ok(())
    } else {
        Err(Refusal::Ended {
            release: release.id,
            status: release.status,
            act,
        })
    }
}

/// The requester, or anyone who may approve or deploy in the release's environment.
fn is_participant(release: &Release, actor: Actor<'_>, policy: &EnvPolicy) -> bool {
    &release.requester == actor.user
        || policy.approve.allows(actor.roles)
        || policy.deploy.allows(actor.roles)
}

fn require_participant(
    release: &Release,
    actor: Actor<'_>,
    policy: &EnvPolicy,
    act: Act,
) -> Result<(), Refusal> {
    if is_participant(release, actor, policy) {
        Ok(())
    } else {
        Err(Refusal::NotParticipant {
            act,
            release: release.id,
            requester: release.requester.clone(),
            environment: policy.name.clone(),
        })
    }
}

/// Moves a requested release forward once its quorum is met.
fn promote_if_quorum(release: &mut Release, quorum: &QuorumState) {
    if release.status == ReleaseStatus::Requested && quorum.met() {
        release.status = if release.scheduled_at.is_some() {
            ReleaseStatus::Scheduled
        } else {
            ReleaseStatus::Approved
        };
    }
}

pub fn approve(
    release: &mut Release,
    actor: Actor<'_>,
    comment: Option<String>,
    policy: &EnvPolicy,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Result<QuorumState, Refusal> {
    require_awaiting_deploy(release, Act::Approve)?;
    if !policy.approve.allows(actor.roles) {
        return Err(Refusal::NotPermitted {
            act: Act::Approve,
            environment: policy.name.clone(),
            needs: policy.approve.describe(),
        });
    }
    if !policy.self_approval && &release.requester == actor.user {
        return Err(Refusal::SelfApproval {
            release: release.id,
            environment: policy.name.clone(),
        });
    }
    if let Some(earlier) = release.has_approved(actor.user) {
        if !policy.is_expired(earlier, now) {
            return Err(Refusal::AlreadyApproved {
                release: release.id,
                at: earlier.at,
            });
        }
    }
    release.approvals.retain(|a| &a.by != actor.user);
    release.approvals.push(Approval {
        by: actor.user.clone(),
        at: now,
        comment,
    });
    release.updated_at = now;
    let quorum = policy.quorum(&release.approvals, directory, now);
    promote_if_quorum(release, &quorum);
    Ok(quorum)
}

pub fn reject(
    release: &mut Release,
    actor: Actor<'_>,
    reason: String,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    require_awaiting_deploy(release, Act::Reject)?;
    if !policy.approve.allows(actor.roles) {
        return Err(Refusal::NotPermitted {
            act: Act::Reject,
            environment: policy.name.clone(),
            needs: policy.approve.describe(),
        });
    }
    release.status = ReleaseStatus::Rejected;
    release.rejected = Some(Closure {
        by: actor.user.clone(),
        at: now,
        reason: Some(reason),
    });
    release.updated_at = now;
    Ok(())
}

pub fn cancel(
    release: &mut Release,
    actor: Actor<'_>,
    reason: Option<String>,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    require_awaiting_deploy(release, Act::Cancel)?;
    if &release.requester != actor.user && !policy.approve.allows(actor.roles) {
        return Err(Refusal::MayNotCancel {
            release: release.id,
            requester: release.requester.clone(),
            approvers: policy.approve.describe(),
        });
    }
    release.status = ReleaseStatus::Cancelled;
    release.cancelled = Some(Closure {
        by: actor.user.clone(),
        at: now,
        reason,
    });
    release.updated_at = now;
    Ok(())
}

/// Sets (`Some`) or clears (`None`) the release's deploy time.
pub fn schedule(
    release: &mut Release,
    actor: Actor<'_>,
    at: Option<DateTime<Utc>>,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    may_schedule(release, actor, policy, at.is_some())?;
    if at.is_none() && release.scheduled_at.is_none() {
        return Err(Refusal::NoDeployTime {
            release: release.id,
            act: Act::Unschedule,
        });
    }
    release.scheduled_at = at;
    release.status = match (release.status, at) {
        (ReleaseStatus::Approved, Some(_)) => ReleaseStatus::Scheduled,
        (ReleaseStatus::Scheduled, None) => ReleaseStatus::Approved,
        (status, _) => status,
    };
    release.updated_at = now;
    Ok(())
}

/// Whether `actor` may set (or clear) the deploy time of `release`; the
/// engine asks before it reads the calendar for the new time.
pub fn may_schedule(
    release: &Release,
    actor: Actor<'_>,
    policy: &EnvPolicy,
    setting: bool,
) -> Result<(), Refusal> {
    let act = if setting {
        Act::Schedule
    } else {
        Act::Unschedule
    };
    require_awaiting_deploy(release, act)?;
    require_participant(release, actor, policy, act)
}

/// Changes what is shipped or where; every approval and checklist tick is
/// dropped, so a release never ships on another version's sign-off. Moving
/// to another environment takes the `request` permission there, whoever
/// moves it.
pub fn change(
    release: &mut Release,
    actor: Actor<'_>,
    version: Option<Version>,
    target: Option<&EnvPolicy>,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<usize, Refusal> {
    require_awaiting_deploy(release, Act::Change)?;
    require_participant(release, actor, policy, Act::Change)?;
    if let Some(target) = target {
        if !target.request.allows(actor.roles) {
            return Err(Refusal::MayNotMoveTo {
                release: release.id,
                environment: target.name.clone(),
                needs: target.request.describe(),
            });
        }
    }
    let same_version = version.as_ref().is_none_or(|v| v == &release.version);
    let same_env = target.is_none_or(|t| t.name == release.environment);
    if same_version && same_env {
        return Err(Refusal::NothingToChange {
            release: release.id,
            title: release.title(),
        });
    }
    if let Some(version) = version {
        release.version = version;
    }
    let checklist_from = target.unwrap_or(policy);
    if let Some(target) = target {
        release.environment = target.name.clone();
    }
    release.checklist = fresh_checklist(checklist_from);
    let dropped = release.approvals.len();
    release.approvals.clear();
    release.status = ReleaseStatus::Requested;
    release.updated_at = now;
    Ok(dropped)
}

pub fn set_check(
    release: &mut Release,
    actor: Actor<'_>,
    item: &str,
    done: bool,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<usize, Refusal> {
    require_awaiting_deploy(release, Act::Check)?;
    require_participant(release, actor, policy, Act::Check)?;
    let index = release.find_checklist_item(item).ok_or_else(|| {
        let items: Vec<String> = release
            .checklist
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}. {}", i + 1, c.item))
            .collect();
        Refusal::NoChecklistItem {
            release: release.id,
            item: item.to_string(),
            items,
        }
    })?;
    let entry = &mut release.checklist[index];
    if entry.done == done {
        return Err(Refusal::ChecklistAlready {
            release: release.id,
            item: entry.item.clone(),
            done,
        });
    }
    entry.done = done;
    entry.by = done.then(|| actor.user.clone());
    entry.at = done.then_some(now);
    release.updated_at = now;
    Ok(index)
}

/// Whether a release's status lets it deploy (before its quorum and
/// checklist are looked at).
fn deployable(
    release: &Release,
    policy: &EnvPolicy,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    match release.status {
        ReleaseStatus::Approved | ReleaseStatus::Scheduled | ReleaseStatus::Failed => Ok(()),
        ReleaseStatus::Requested => {
            let quorum = policy.quorum(&release.approvals, directory, now);
            Err(Refusal::NotApprovedYet {
                release: release.id,
                missing: quorum.missing,
            })
        }
        ReleaseStatus::Deploying | ReleaseStatus::RollingBack => {
            let job = release.current_job();
            Err(Refusal::AlreadyRunning {
                release: release.id,
                status: release.status,
                by: job.map(|j| j.by.clone()),
                at: job.map(|j| j.started_at),
            })
        }
        status => Err(Refusal::NotDeployable {
            release: release.id,
            status,
        }),
    }
}

pub fn start_deploy(
    release: &mut Release,
    actor: Actor<'_>,
    policy: &EnvPolicy,
    directory: &Directory,
    live: Option<LiveVersion>,
    now: DateTime<Utc>,
) -> Result<Deployment, Refusal> {
    if !policy.deploy.allows(actor.roles) {
        return Err(Refusal::NotPermitted {
            act: Act::Deploy,
            environment: policy.name.clone(),
            needs: policy.deploy.describe(),
        });
    }
    deployable(release, policy, directory, now)?;
    let quorum = policy.quorum(&release.approvals, directory, now);
    if !quorum.met() {
        return Err(Refusal::ApprovalsStale {
            release: release.id,
            missing: quorum.missing,
            expired: quorum.expired,
            environment: policy.name.clone(),
            hours: policy.approval_expiry.num_hours(),
        });
    }
    if !release.checklist_complete() {
        let open: Vec<String> = release
            .checklist
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.done)
            .map(|(i, c)| format!("{}. {}", i + 1, c.item))
            .collect();
        return Err(Refusal::ChecklistOpen {
            release: release.id,
            done: release.checklist_done(),
            total: release.checklist.len(),
            open,
        });
    }
    if release.status != ReleaseStatus::Failed {
        release.previous = live.filter(|l| l.release != release.id);
    }
    let deployment = new_deployment(
        release,
        DeployAction::Deploy,
        release.version.clone(),
        actor,
        None,
        now,
    );
    release.status = ReleaseStatus::Deploying;
    release.deployments.push(deployment.clone());
    release.updated_at = now;
    Ok(deployment)
}

pub fn start_rollback(
    release: &mut Release,
    actor: Actor<'_>,
    reason: String,
    policy: &EnvPolicy,
    now: DateTime<Utc>,
) -> Result<Deployment, Refusal> {
    if !policy.rollback.allows(actor.roles) {
        return Err(Refusal::NotPermitted {
            act: Act::Rollback,
            environment: policy.name.clone(),
            needs: policy.rollback.describe(),
        });
    }
    if !matches!(
        release.status,
        ReleaseStatus::Deployed | ReleaseStatus::Failed
    ) {
        return Err(Refusal::NotRollbackable {
            release: release.id,
            status: release.status,
        });
    }
    let target = release
        .previous
        .clone()
        .ok_or_else(|| Refusal::NothingToRollBackTo {
            release: release.id,
            service: release.service.clone(),
            environment: release.environment.clone(),
        })?;
    let deployment = new_deployment(
        release,
        DeployAction::Rollback,
        target.version,
        actor,
        Some(reason),
        now,
    );
    release.status = ReleaseStatus::RollingBack;
    release.deployments.push(deployment.clone());
    release.updated_at = now;
    Ok(deployment)
}

fn new_deployment(
    release: &Release,
    action: DeployAction,
    version: Version,
    actor: Actor<'_>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Deployment {
    Deployment {
        job: format!(
            "{}-{}-{}",
            release.id,
            action.as_str(),
            release.deployments.len() + 1
        ),
        action,
        version,
        by: actor.user.clone(),
        started_at: now,
        reason,
        finished_at: None,
        outcome: None,
        url: None,
        message: None,
    }
}

/// Records a CI job's end. Returns `false` when the job had already ended
/// (a duplicate report), leaving the release untouched.
pub fn finish_job(
    release: &mut Release,
    job: &str,
    outcome: JobOutcome,
    url: Option<String>,
    message: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, Refusal> {
    let deployment = release
        .deployments
        .iter_mut()
        .find(|d| d.job == job)
        .ok_or_else(|| Refusal::NoSuchJob {
            release: release.id,
            job: job.to_string(),
        })?;
    if deployment.outcome.is_some() {
        return Ok(false);
    }
    deployment.outcome = Some(outcome);
    deployment.finished_at = Some(now);
    deployment.url = url.or(deployment.url.take());
    deployment.message = message;
    release.status = match (deployment.action, outcome) {
        (DeployAction::Deploy, JobOutcome::Succeeded) => ReleaseStatus::Deployed,
        (DeployAction::Rollback, JobOutcome::Succeeded) => ReleaseStatus::RolledBack,
        (_, JobOutcome::Failed) => ReleaseStatus::Failed,
    };
    release.updated_at = now;
    Ok(true)
}

#[cfg(test)]
mod tests;
