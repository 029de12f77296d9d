//! `notes A..B <service>`: the changes between two versions, or between
//! what two environments run (`notes staging..production api`: what
//! production lacks), from the kept notes, or asked of the notes worker.

use crate::domain::ids::{Name, Version};
use crate::domain::Refusal;
use crate::view::{ChangesView, View};

use super::code_notes::Wanted;
use super::{Engine, EngineResult, Reply};

impl Engine {
    pub(crate) fn notes_between(
        &self,
        from: &str,
        to: &str,
        service: &Name,
    ) -> EngineResult<Reply> {
        self.known_service(service)?;
        let source = self.source_of(service).ok_or_else(|| Refusal::NoSource {
            service: service.clone(),
        })?;
        let (a, b) = (self.end(from, service)?, self.end(to, service)?);
        // Older to newer, whichever way round they were named.
        let (base, head) = match a.1.numbers() <= b.1.numbers() {
            true => (a, b),
            false => (b, a),
        };
        let title = format!("{service}: what {} lacks of {}", base.0, head.0);
        if base.1 == head.1 {
            return Ok(Reply::view(View::Changes(Box::new(ChangesView {
                title,
                notes: None,
                pending: Some(format!(
                    "both run {}: there is nothing between them",
                    base.1
                )),
            }))));
        }
        let key = source.cache_key(base.1.as_str(), head.1.as_str());
        let notes = self.kept_notes(&key)?;
        let pending = match notes {
            Some(_) => None,
            None => {
                self.want_range(Wanted {
                    service: service.clone(),
                    base: base.1.clone(),
                    head: head.1.clone(),
                    key: key.clone(),
                    release: None,
                    attempts: 0,
                    next_at: self.clock.now(),
                })?;
                Some(format!(
                    "reading {}..{} from {}; ask again in a moment",
                    source.tag_of(base.1.as_str()),
                    source.tag_of(head.1.as_str()),
                    source.kind.name()
                ))
            }
        };
        Ok(Reply::view(View::Changes(Box::new(ChangesView {
            title,
            notes,
            pending,
        }))))
    }

    /// One end of a range: an environment (what runs there) or a version.
    fn end(&self, text: &str, service: &Name) -> EngineResult<(String, Version)> {
        if let Ok(environment) = Name::parse(text) {
            if self.config.environments.contains_key(&environment) {
                let live = self
                    .store
                    .transaction(|tx| tx.live(service, &environment))?
                    .ok_or_else(|| Refusal::NothingLive {
                        service: service.clone(),
                        environment: environment.clone(),
                    })?;
                return Ok((format!("{environment} ({})", live.version), live.version));
            }
        }
        let version = Version::parse(text).map_err(|_| Refusal::NoSuchEnvironment {
            environment: text.to_string(),
            known: format!("{} (or give a version)", self.config.environment_names()),
        })?;
        Ok((version.to_string(), version))
    }
}
