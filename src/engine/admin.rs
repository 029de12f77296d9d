//! Operator actions outside the chat language: importing an export.

use crate::domain::ids::UserRef;
use crate::domain::release::{LiveVersion, Release, ReleaseStatus};
use crate::domain::Refusal;
use crate::store::AuditDraft;

use super::{Engine, EngineResult};

/// Releases written per transaction while importing.
const IMPORT_CHUNK: usize = 500;

impl Engine {
    /// Writes exported releases back, with their indexes. Refuses ids that
    /// already exist, so an import never overwrites history.
    pub fn import(&self, releases: Vec<Release>) -> EngineResult<usize> {
        for release in &releases {
            if self.store.release(release.id)?.is_some() {
                return Err(Refusal::new(format!(
                    "{} already exists in this store; import only into a store that does not hold those ids.",
                    release.id
                ))
                .into());
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
