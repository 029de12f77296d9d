//! Administration: roles granted in chat, and importing an export.

use crate::domain::ids::UserRef;
use crate::domain::release::{LiveVersion, Release, ReleaseStatus};
use crate::domain::{Act, Refusal};
use crate::store::AuditDraft;

use crate::view::{RolesView, View};

use super::{Engine, EngineResult, Reply};

/// Releases written per transaction while importing.
const IMPORT_CHUNK: usize = 500;

impl Engine {
    /// Writes exported releases back, with their indexes. Refuses ids that
    /// already exist, so an import never overwrites history.
    pub fn import(&self, releases: Vec<Release>) -> EngineResult<usize> {
        for release in &releases {
            if self.store.release(release.id)?.is_some() {
                return Err(Refusal::ImportClash(release.id).into());
            }
        }
        let now = self.clock.now();
        let actor = UserRef::parse("system:import").expect("a valid literal");
        for chunk in releases.chunks(IMPORT_CHUNK) {
            self.commit(|tx| {
                for release in chunk {
                    tx.put_release(release, None)?;
                    tx.reserve_release_id(release.id)?;
                    if release.status == ReleaseStatus::Deployed {
                        let live = tx.live(&release.service, &release.environment)?;
                        if live.is_none_or(|l| l.release < release.id) {
                            let current = LiveVersion {
                                version: release.version.clone(),
                                release: release.id,
                            };
                            tx.set_live(&release.service, &release.environment, &current)?;
                        }
                    }
                }
                Ok(())
            })?;
        }
        self.commit(|tx| {
            tx.audit(AuditDraft {
                at: now,
                actor: actor.clone(),
                action: "import".to_string(),
                release: None,
                before: None,
                after: None,
                detail: format!("{} releases", releases.len()),
            })
        })?;
        Ok(releases.len())
    }
}

impl Engine {
    /// Refuses unless the user holds one of `bot.admin_roles`.
    pub(super) fn require_admin(&self, actor: &UserRef, act: Act) -> Result<(), Refusal> {
        if self.config.admin.allows(&self.roles_of(actor)) {
            Ok(())
        } else {
            Err(Refusal::NotAdmin {
                act,
                needs: self.config.admin.describe(),
            })
        }
    }

    fn known_role(&self, role: &str) -> Result<(), Refusal> {
        let known = self.config.directory.role_names();
        if known.contains(role) {
            Ok(())
        } else {
            Err(Refusal::NoSuchRole {
                role: role.to_string(),
                known: known.into_iter().map(str::to_string).collect(),
            })
        }
    }

    pub(crate) fn grant(
        &self,
        actor: &UserRef,
        user: UserRef,
        role: String,
    ) -> EngineResult<Reply> {
        self.require_admin(actor, Act::Grant)?;
        self.known_role(&role)?;
        if self.config.directory.holds(&user, &role) {
            return Err(Refusal::AlreadyHasRole {
                user,
                role,
                in_config: true,
            }
            .into());
        }
        self.commit(|tx| {
            if !tx.grant(&user, &role)? {
                return Err(Refusal::AlreadyHasRole {
                    user: user.clone(),
                    role: role.clone(),
                    in_config: false,
                }
                .into());
            }
            tx.audit(self.audit_plain(actor, "grant", format!("{user} {role}")))?;
            Ok(())
        })?;
        Ok(Reply::new(format!("{user} is now {role}.")))
    }

    pub(crate) fn revoke(
        &self,
        actor: &UserRef,
        user: UserRef,
        role: String,
    ) -> EngineResult<Reply> {
        self.require_admin(actor, Act::Revoke)?;
        self.known_role(&role)?;
        if self.config.directory.holds(&user, &role) {
            return Err(Refusal::RoleFromConfig { user, role }.into());
        }
        self.commit(|tx| {
            if !tx.revoke(&user, &role)? {
                return Err(Refusal::NotGranted {
                    user: user.clone(),
                    role: role.clone(),
                }
                .into());
            }
            tx.audit(self.audit_plain(actor, "revoke", format!("{user} {role}")))?;
            Ok(())
        })?;
        Ok(Reply::new(format!("{user} is no longer {role}.")))
    }

    pub(crate) fn roles(&self) -> EngineResult<Reply> {
        let granted = self.store.grants()?;
        let directory = self.directory();
        let people = directory
            .users()
            .map(|(user, roles)| {
                let roles = roles
                    .iter()
                    .map(|role| {
                        let in_chat = granted.iter().any(|(u, r)| u == user && r == role);
                        (role.clone(), in_chat)
                    })
                    .collect();
                (user.clone(), roles)
            })
            .collect();
        Ok(Reply::view(View::Roles(RolesView { people })))
    }
}
