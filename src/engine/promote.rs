//! `promote R-1 [to production]`: the same service and version, requested
//! for the next environment (the one whose `requires` names R-1's), linked
//! to R-1 and carrying its notes. The soak rule then decides when it may
//! deploy.

use crate::domain::command::RequestArgs;
use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::release::{DeployAction, JobOutcome};
use crate::domain::Refusal;

use super::{Engine, EngineResult, Reply};

impl Engine {
    pub(crate) fn promote(
        &self,
        user: &UserRef,
        id: ReleaseId,
        to: Option<Name>,
    ) -> EngineResult<Reply> {
        let source = self.get(id)?;
        let reached = source
            .deployments
            .iter()
            .any(|d| d.action == DeployAction::Deploy && d.outcome == Some(JobOutcome::Succeeded));
        if !reached {
            return Err(Refusal::NotPromotable {
                release: id,
                environment: source.environment.clone(),
                status: source.status,
            }
            .into());
        }
        let target = match to {
            Some(environment) => environment,
            None => self.next_environment(&source.environment)?,
        };
        let args = RequestArgs {
            service: source.service.clone(),
            version: source.version.clone(),
            environment: Some(target),
            at: None,
            notes: source.notes.clone(),
            priority: source.priority,
            fixes: None,
        };
        self.request_from(user, args, Some(id))
    }

    /// The environment whose soak rule names `environment`.
    fn next_environment(&self, environment: &Name) -> Result<Name, Refusal> {
        self.config
            .environments
            .iter()
            .find(|(_, env)| {
                env.policy
                    .requires
                    .as_ref()
                    .is_some_and(|rule| &rule.environment == environment)
            })
            .map(|(name, _)| name.clone())
            .ok_or_else(|| Refusal::NoNextEnvironment {
                environment: environment.clone(),
            })
    }
}
