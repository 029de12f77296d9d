//! Commands that change a release: each is one store transaction.

use crate::domain::command::RequestArgs;
use crate::domain::ids::{Name, ReleaseId, UserRef, Version};
use crate::domain::lifecycle::{self, RequestDraft};
use crate::domain::outbox::{CiJob, JobState};
use crate::domain::policy::EnvPolicy;
use crate::domain::release::{Deployment, Release};
use crate::domain::text::Text;
use crate::domain::when::{format_local, When};
use crate::domain::{Act, Refusal};
use crate::store::{Tx, TxResult};

use super::{actor, Change, Engine, EngineResult, Reply, Step};

impl Engine {
    pub(super) fn known_service(&self, service: &Name) -> Result<(), Refusal> {
        if self.config.services.contains_key(service) {
            Ok(())
        } else {
            Err(Refusal::NoSuchService {
                service: service.to_string(),
                known: self.config.service_names(),
            })
        }
    }

    pub(super) fn known_environment(&self, environment: &Name) -> Result<(), Refusal> {
        if self.config.environments.contains_key(environment) {
            Ok(())
        } else {
            Err(Refusal::NoSuchEnvironment {
                environment: environment.to_string(),
                known: self.config.environment_names(),
            })
        }
    }

    fn service_allowed_in(&self, service: &Name, environment: &Name) -> Result<(), Refusal> {
        let allowed = self
            .config
            .services
            .get(service)
            .and_then(|s| s.environments.as_ref());
        match allowed {
            Some(list) if !list.contains(environment) => Err(Refusal::NotReleasedTo {
                service: service.clone(),
                environment: environment.clone(),
                allowed: list.to_vec(),
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn request(&self, user: &UserRef, args: RequestArgs) -> EngineResult<Reply> {
        self.request_from(user, args, None)
    }

    /// A request; `promoted_from` links it to the release it promotes.
    pub(super) fn request_from(
        &self,
        user: &UserRef,
        args: RequestArgs,
        promoted_from: Option<ReleaseId>,
    ) -> EngineResult<Reply> {
        let now = self.clock.now();
        self.known_service(&args.service)?;
        let environment = match args.environment {
            Some(env) => env,
            None => self.config.default_environment().cloned().ok_or_else(|| {
                Refusal::NoEnvironmentGiven {
                    known: self.config.environment_names(),
                }
            })?,
        };
        self.known_environment(&environment)?;
        self.service_allowed_in(&args.service, &environment)?;
        let policy = self.policy(&environment)?;
        let roles = self.directory().roles_of(user);
        // Who may ask is settled before the calendar is read for the time.
        lifecycle::may_request(actor(user, &roles), policy)?;
        let scheduled_at = args
            .at
            .map(|w| w.resolve(policy.timezone, now))
            .transpose()?;
        let warning = match scheduled_at {
            Some(at) => self.check_slot(&self.store, policy, &args.service, at, None)?,
            None => None,
        };
        let draft = RequestDraft {
            service: args.service,
            version: args.version,
            environment,
            scheduled_at,
            notes: args.notes,
            priority: args.priority,
            fixes: args.fixes,
        };
        let release = self.commit(|tx| {
            let directory = self.directory_in(tx)?;
            let roles = directory.roles_of(user);
            // Again on what this transaction commits against.
            if let Some(at) = draft.scheduled_at {
                self.check_slot(tx, policy, &draft.service, at, None)?;
            }
            if let Some(incident) = draft.fixes {
                self.check_fix_target(tx, incident, &draft.service, &draft.environment)?;
            }
            let id = tx.allocate_release_id()?;
            let mut release =
                lifecycle::request(id, draft.clone(), actor(user, &roles), policy, now)?;
            release.promoted_from = promoted_from;
            let live = tx.live(&release.service, &release.environment)?;
            self.want_notes(tx, &mut release, live.as_ref(), now)?;
            let promoted = match (promoted_from, release.fixes) {
                (Some(from), _) => format!(", promoting {from},"),
                (None, Some(incident)) => format!(" as the fix of {incident}"),
                (None, None) => String::new(),
            };
            let step = Step {
                actor: user,
                action: "request",
                detail: format!("{}{}", release.title(), promoted.trim_end_matches(',')),
                thread_line: Text::new()
                    .release(release.id)
                    .say(format!(" requested {}{promoted} by ", release.title()))
                    .person(user),
            };
            self.record(tx, &directory, None, &release, step)?;
            Ok(release)
        })?;
        Ok(self.requested(&release, policy, warning))
    }

    /// The reply to a request: its window, quorum, checklist, and any
    /// warning about its time.
    fn requested(&self, release: &Release, policy: &EnvPolicy, warning: Option<String>) -> Reply {
        let window = release
            .scheduled_at
            .map_or("no deploy time yet".to_string(), |at| {
                format_local(at, policy.timezone)
            });
        let checklist = if release.checklist.is_empty() {
            String::new()
        } else {
            format!(" Checklist 0/{}.", release.checklist.len())
        };
        Reply::changed(
            release,
            format!(
                "{} requested: {}, {window}. Needs {}.{checklist}{}",
                release.id,
                release.title(),
                policy.describe_quorum(),
                warning.map(|w| format!("\n{w}")).unwrap_or_default()
            ),
        )
    }

    pub(crate) fn approve(
        &self,
        user: &UserRef,
        id: ReleaseId,
        comment: Option<String>,
    ) -> EngineResult<Reply> {
        let (release, quorum) = self.change_release(user, id, "approve", |release, ctx| {
            let quorum = lifecycle::approve(
                release,
                ctx.actor,
                comment.clone(),
                ctx.policy,
                ctx.directory,
                ctx.now,
            )?;
            let progress = format!("{}/{}", quorum.counted, quorum.needed);
            let thread_line = Text::new()
                .person(user)
                .say(format!(" approved ({progress})"));
            let thread_line = match &comment {
                Some(c) => thread_line.say(": ").say(c.as_str()),
                None => thread_line,
            };
            Ok(Change {
                value: quorum,
                detail: comment.clone().unwrap_or_default(),
                thread_line,
            })
        })?;
        let progress = format!("{}/{}", quorum.counted, quorum.needed);
        let text = if quorum.met() {
            let next = if release.checklist_complete() {
                format!("Next: `deploy {id}`.")
            } else {
                format!(
                    "Next: finish the checklist ({}/{}), then `deploy {id}`.",
                    release.checklist_done(),
                    release.checklist.len()
                )
            };
            format!(
                "You approved {id} ({progress}): it is now {}. {next}",
                release.status
            )
        } else {
            format!(
                "You approved {id} ({progress}); it still needs {}.",
                quorum.missing.join(" and ")
            )
        };
        Ok(Reply::changed(&release, text))
    }

    pub(crate) fn reject(
        &self,
        user: &UserRef,
        id: ReleaseId,
        reason: String,
    ) -> EngineResult<Reply> {
        let (release, ()) = self.change_release(user, id, "reject", |release, ctx| {
            lifecycle::reject(release, ctx.actor, reason.clone(), ctx.policy, ctx.now)?;
            // The requester is needed: their release will not go out.
            let thread_line = Text::new()
                .person(user)
                .say(format!(" rejected it: {reason} — "))
                .ping(&release.requester);
            Ok(Change {
                value: (),
                detail: reason.clone(),
                thread_line,
            })
        })?;
        Ok(Reply::changed(
            &release,
            format!("You rejected {id}: {reason}. Its requester has been told in the thread."),
        ))
    }

    pub(crate) fn cancel(
        &self,
        user: &UserRef,
        id: ReleaseId,
        reason: Option<String>,
    ) -> EngineResult<Reply> {
        let (release, ()) = self.change_release(user, id, "cancel", |release, ctx| {
            lifecycle::cancel(release, ctx.actor, reason.clone(), ctx.policy, ctx.now)?;
            let thread_line = Text::new().person(user).say(" cancelled it");
            let thread_line = match &reason {
                Some(r) => thread_line.say(format!(": {r}")),
                None => thread_line,
            };
            Ok(Change {
                value: (),
                detail: reason.clone().unwrap_or_default(),
                thread_line,
            })
        })?;
        Ok(Reply::changed(&release, format!("{id} is cancelled.")))
    }

    pub(crate) fn schedule(
        &self,
        user: &UserRef,
        id: ReleaseId,
        when: Option<When>,
    ) -> EngineResult<Reply> {
        let action = if when.is_some() {
            "schedule"
        } else {
            "unschedule"
        };
        // Resolve and check the time before the transaction (the checks read the store).
        let current = self
            .store
            .release(id)?
            .ok_or_else(|| super::no_such_release(id))?;
        let policy = self.policy(&current.environment)?;
        let roles = self.directory().roles_of(user);
        lifecycle::may_schedule(&current, actor(user, &roles), policy, when.is_some())?;
        let at = when
            .map(|w| w.resolve(policy.timezone, self.clock.now()))
            .transpose()?;
        let warning = match at {
            Some(at) if current.status.is_awaiting_deploy() => {
                self.check_slot(&self.store, policy, &current.service, at, Some(id))?
            }
            _ => None,
        };
        let (release, tz) = self.change_release(user, id, action, |release, ctx| {
            let tz = ctx.policy.timezone;
            // Again on what this transaction commits against.
            if let Some(at) = at.filter(|_| release.status.is_awaiting_deploy()) {
                self.check_slot(ctx.tx, ctx.policy, &release.service, at, Some(release.id))?;
            }
            lifecycle::schedule(release, ctx.actor, at, ctx.policy, ctx.now)?;
            let thread_line = Text::new().person(user).say(match at {
                Some(at) => format!(" scheduled it for {}", format_local(at, tz)),
                None => " cleared its deploy time".to_string(),
            });
            Ok(Change {
                value: tz,
                detail: at.map(|a| a.to_rfc3339()).unwrap_or_default(),
                thread_line,
            })
        })?;
        Ok(Reply::changed(
            &release,
            match release.scheduled_at {
                Some(at) => format!(
                    "{id} is set for {} (status: {}).",
                    format_local(at, tz),
                    release.status
                ),
                None => format!("{id} has no deploy time now (status: {}).", release.status),
            } + &warning.map(|w| format!("\n{w}")).unwrap_or_default(),
        ))
    }

    pub(crate) fn change(
        &self,
        user: &UserRef,
        id: ReleaseId,
        version: Option<Version>,
        environment: Option<Name>,
    ) -> EngineResult<Reply> {
        if let Some(env) = &environment {
            self.known_environment(env)?;
        }
        let (release, dropped) = self.change_release(user, id, "change", |release, ctx| {
            if let Some(env) = &environment {
                self.service_allowed_in(&release.service, env)?;
            }
            let target = environment.as_ref().map(|e| self.policy(e)).transpose()?;
            let was = release.title();
            let dropped = lifecycle::change(
                release,
                ctx.actor,
                version.clone(),
                target,
                ctx.policy,
                ctx.now,
            )?;
            let thread_line = Text::new().person(user).say(format!(
                " changed it to {}; approvals and the checklist start over",
                release.title()
            ));
            Ok(Change {
                value: dropped,
                detail: format!(
                    "{was} → {}; approvals and checklist cleared",
                    release.title()
                ),
                thread_line,
            })
        })?;
        Ok(Reply::changed(&release, format!(
            "{id} is now {}. {dropped} approval{} and the checklist ticks dropped; it needs {} again.",
            release.title(),
            if dropped == 1 { "" } else { "s" },
            self.policy(&release.environment)?.describe_quorum()
        )))
    }

    pub(crate) fn set_check(
        &self,
        user: &UserRef,
        id: ReleaseId,
        item: &str,
        done: bool,
    ) -> EngineResult<Reply> {
        let action = if done { "check" } else { "uncheck" };
        let (release, index) = self.change_release(user, id, action, |release, ctx| {
            let index = lifecycle::set_check(release, ctx.actor, item, done, ctx.policy, ctx.now)?;
            let name = release.checklist[index].item.clone();
            let thread_line = Text::new()
                .person(user)
                .say(if done { " checked " } else { " unchecked " })
                .code(name.as_str())
                .say(format!(
                    " ({}/{})",
                    release.checklist_done(),
                    release.checklist.len()
                ));
            Ok(Change {
                value: index,
                detail: name,
                thread_line,
            })
        })?;
        Ok(Reply::changed(
            &release,
            format!(
                "{} `{}` on {id}. Checklist {}/{}.",
                if done { "Checked" } else { "Unchecked" },
                release.checklist[index].item,
                release.checklist_done(),
                release.checklist.len()
            ),
        ))
    }

    pub(crate) fn deploy(
        &self,
        user: &UserRef,
        id: ReleaseId,
        override_soak: Option<String>,
    ) -> EngineResult<Reply> {
        if override_soak.is_some() {
            self.require_admin(user, Act::Override)?;
        }
        // Windows, freezes and locks matter only to someone who may deploy at all.
        if let Some(current) = self.store.release(id)? {
            let policy = self.policy(&current.environment)?;
            if policy.deploy.allows(&self.roles_of(user)) {
                self.check_deploy_now(&self.store, policy, user, &current)?;
            }
        }
        let (release, deployment) = self.change_release(user, id, "deploy", |release, ctx| {
            // Again on what this transaction commits against: a freeze or
            // lock that committed a moment ago counts.
            if ctx.policy.deploy.allows(ctx.actor.roles) {
                self.check_deploy_now(ctx.tx, ctx.policy, user, release)?;
            }
            self.refuse_if_target_busy(ctx.tx, release)?;
            let live = ctx.tx.live(&release.service, &release.environment)?;
            self.want_notes(ctx.tx, release, live.as_ref(), ctx.now)?;
            let deployment = lifecycle::start_deploy(
                release,
                ctx.actor,
                ctx.policy,
                ctx.directory,
                live,
                ctx.now,
            )?;
            // After the release's own state: its soak where it must be first.
            let overridden =
                self.check_soak(ctx.tx, ctx.policy, release, override_soak.is_some())?;
            let passed = self.check_incidents(ctx, release, override_soak.as_deref())?;
            self.start_job(ctx.tx, release, &deployment)?;
            let mut thread_line = Text::new()
                .person(user)
                .say(format!(" started the deploy of {} (job ", release.version))
                .code(deployment.job.as_str())
                .say(")");
            let mut detail = format!("job {}", deployment.job);
            if let (Some(soaked), Some(reason), Some(rule)) =
                (overridden, &override_soak, &ctx.policy.requires)
            {
                let why = format!(
                    "before its soak in {} was done ({} of {} min): {reason}",
                    rule.environment,
                    soaked.earned.num_minutes(),
                    rule.minutes
                );
                thread_line = thread_line.say(format!(", overriding the soak rule {why}"));
                detail = format!("{detail}; soak overridden {why}");
            }
            if let Some(passed) = passed {
                thread_line = thread_line.say(format!(" ({passed})"));
                detail = format!("{detail}; {passed}");
            }
            Ok(Change {
                detail,
                thread_line,
                value: deployment,
            })
        })?;
        Ok(Reply::changed(
            &release,
            format!(
                "{id} is deploying: {} via {} (job {}). I'll announce the result.",
                release.title(),
                self.ci_kind(&release),
                deployment.job
            ),
        ))
    }

    pub(crate) fn rollback(
        &self,
        user: &UserRef,
        id: ReleaseId,
        reason: String,
    ) -> EngineResult<Reply> {
        // Rollback is break-glass: allowed in a freeze, and recorded as such.
        let frozen = match self.store.release(id)? {
            Some(current) => self.break_glass(&current)?,
            None => None,
        };
        let glass = frozen
            .as_ref()
            .map(|why| format!(" (🧊 break-glass: {why})"))
            .unwrap_or_default();
        let (release, deployment) = self.change_release(user, id, "rollback", |release, ctx| {
            self.refuse_if_target_busy(ctx.tx, release)?;
            let deployment =
                lifecycle::start_rollback(release, ctx.actor, reason.clone(), ctx.policy, ctx.now)?;
            self.start_job(ctx.tx, release, &deployment)?;
            let (incident, new) =
                self.incident_for_rollback(ctx.tx, release, &deployment, user, &reason, ctx.now)?;
            let told = self.rollback_incident_words(ctx.tx, &incident, new)?;
            let thread_line = Text::plain("🚨 ").person(user).say(format!(
                " started a rollback to {}: {reason}{glass}{told}",
                deployment.version
            ));
            Ok(Change {
                detail: format!(
                    "to {} (job {}): {reason}{glass}{told}",
                    deployment.version, deployment.job
                ),
                thread_line,
                value: (deployment, told),
            })
        })?;
        let (deployment, told) = deployment;
        let from = release
            .previous
            .as_ref()
            .map(|p| format!(" (as shipped in {})", p.release))
            .unwrap_or_default();
        Ok(Reply::changed(&release, format!(
            "{id} is rolling back: {} {} → {}{from} in {} via {} (job {}). Reason recorded: {reason}{glass}{told}",
            release.service,
            release.version,
            deployment.version,
            release.environment,
            self.ci_kind(&release),
            deployment.job
        )))
    }

    /// One CI job at a time per service+environment.
    fn refuse_if_target_busy(&self, tx: &Tx<'_>, release: &Release) -> TxResult<()> {
        match tx.in_flight(&release.service, &release.environment)? {
            Some(other) if other != release.id => Err(Refusal::TargetBusy {
                release: release.id,
                other,
                service: release.service.clone(),
                environment: release.environment.clone(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    fn start_job(&self, tx: &Tx<'_>, release: &Release, deployment: &Deployment) -> TxResult<()> {
        tx.set_in_flight(&release.service, &release.environment, Some(release.id))?;
        tx.put_job(&CiJob {
            key: deployment.job.clone(),
            release: release.id,
            action: deployment.action,
            service: release.service.clone(),
            environment: release.environment.clone(),
            version: deployment.version.clone(),
            release_version: release.version.clone(),
            requested_by: release.requester.clone(),
            started_by: deployment.by.clone(),
            approvers: release.approvals.iter().map(|a| a.by.clone()).collect(),
            created_at: deployment.started_at,
            attempts: 0,
            next_attempt_at: deployment.started_at,
            last_error: None,
            uncertain: false,
            state: JobState::Pending,
        })?;
        Ok(())
    }
}
