//! Words for every audience: a release's text in one audience's template
//! (`notes R-1 customers`), shown before anything goes out, and posted to
//! the audience's channels when the release goes live.

use crate::domain::ids::{Name, ReleaseId};
use crate::domain::notes::ReleaseNotes;
use crate::domain::outbox::Digest;
use crate::domain::release::Release;
use crate::domain::text::Text;
use crate::domain::when::format_local;
use crate::domain::Refusal;
use crate::store::{Tx, TxResult};
use crate::view::{AudienceView, View};

use super::{Engine, EngineResult, Reply};

impl Engine {
    pub(crate) fn audience_notes(&self, id: ReleaseId, audience: &Name) -> EngineResult<Reply> {
        let release = self.get(id)?;
        let kept = match &release.changes {
            Some(changes) if !changes.key.is_empty() => self.kept_notes(&changes.key)?,
            _ => None,
        };
        let text = self.in_words_of(audience, "notes", &release, kept.as_ref())?;
        Ok(Reply::view(View::Audience(Box::new(AudienceView {
            release,
            audience: audience.clone(),
            text,
        }))))
    }

    /// A release gone live, in each audience's own words (`announcement`
    /// templates), in its channels.
    pub(super) fn tell_audiences_live(&self, tx: &Tx<'_>, release: &Release) -> TxResult<()> {
        let mut kept = None;
        if let Some(changes) = release.changes.as_ref().filter(|c| !c.key.is_empty()) {
            let bytes = tx.record(super::code_notes::NOTES, &changes.key)?;
            kept = bytes.and_then(|b| serde_json::from_slice::<ReleaseNotes>(&b).ok());
        }
        for (name, audience) in &self.config.audiences {
            if !audience.templates.contains_key("announcement") {
                continue;
            }
            let text =
                Text::plain(self.in_words_of(name, "announcement", release, kept.as_ref())?);
            for channel in &audience.channels {
                tx.post_digest(&Digest {
                    channel: channel.clone(),
                    text: text.clone(),
                })?;
            }
        }
        Ok(())
    }

    /// `kind`'s template of `audience`, filled from `release`.
    pub(crate) fn in_words_of(
        &self,
        audience: &Name,
        kind: &'static str,
        release: &Release,
        kept: Option<&ReleaseNotes>,
    ) -> Result<String, Refusal> {
        let found = self
            .config
            .audiences
            .get(audience)
            .ok_or_else(|| Refusal::NoSuchAudience {
                audience: audience.to_string(),
                known: match self
                    .config
                    .audiences
                    .keys()
                    .map(Name::as_str)
                    .collect::<Vec<_>>()
                {
                    names if names.is_empty() => "none".to_string(),
                    names => names.join(", "),
                },
            })?;
        let template = found.templates.get(kind).ok_or(Refusal::NoTemplate {
            audience: audience.clone(),
            kind,
        })?;
        let tz = self.timezone_of(&release.environment);
        Ok(template.render(&|name| match name {
            "release" => Some(release.id.to_string()),
            "service" => Some(release.service.to_string()),
            "version" => Some(release.version.to_string()),
            "environment" => Some(release.environment.to_string()),
            "requester" => Some(release.requester.local().to_string()),
            "status" => Some(release.status.to_string()),
            "window" => release.scheduled_at.map(|at| format_local(at, tz)),
            "summary" => release.notes.clone(),
            "changes" => kept
                .map(|n| n.summary())
                .or_else(|| release.changes.as_ref().map(|c| c.line())),
            "breaking" => kept.map(|n| n.breaking().to_string()),
            "incident" => release.incident.map(|i| i.to_string()),
            // Incidents bring impact, the next update and the rest.
            _ => None,
        }))
    }
}
