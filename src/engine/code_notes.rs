//! Notes from the code, on the engine's side. A request (and a deploy,
//! when what is live moved) names the range it changes: from the version
//! live in its environment (else the one before it there) to its own. The
//! range's notes are kept once, by repository and range; a missing one is
//! asked of the notes worker (`scm::worker`), which fetches it off the
//! command's path and hands it back here, where the release's
//! announcement gets its summary line and its thread the full list. An
//! SCM that is down, a tag not pushed yet: the release goes on, its notes
//! say why, and the worker tries again.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Source;
use crate::domain::ids::{Name, ReleaseId, Version};
use crate::domain::notes::{Changes, ReleaseNotes};
use crate::domain::release::{LiveVersion, Release};
use crate::domain::text::Text;
use crate::store::{StoreResult, Tx, TxResult};

use super::{Engine, EngineResult, Step};

/// Kept notes, by range key.
pub(super) const NOTES: &str = "notes";
/// Ranges waiting for the worker, by release (`R-3`) or `range:<key>`.
const WANTED: &str = "notes-wanted";
/// Tries before a range is given up: 30 s doubling to hourly, about a
/// day in all (a tag pushed later that day still fills the notes in).
const MAX_ATTEMPTS: u32 = 30;

/// A range the worker is to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    pub service: Name,
    pub base: Version,
    pub head: Version,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseId>,
    #[serde(default)]
    pub attempts: u32,
    pub next_at: DateTime<Utc>,
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Option<T> {
    serde_json::from_slice(bytes).ok()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("notes records always serialize")
}

impl Engine {
    pub(super) fn source_of(&self, service: &Name) -> Option<&Source> {
        self.config.services.get(service)?.source.as_ref()
    }

    /// Names the range `release` changes, with `live` what runs in its
    /// environment now, and asks for its notes when they are not kept.
    pub(super) fn want_notes(
        &self,
        tx: &Tx<'_>,
        release: &mut Release,
        live: Option<&LiveVersion>,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        let Some(source) = self.source_of(&release.service) else {
            return Ok(());
        };
        let base = live
            .map(|l| &l.version)
            .filter(|v| **v != release.version)
            .or(release.previous.as_ref().map(|p| &p.version));
        let Some(base) = base.cloned() else {
            release.changes = Some(Changes {
                key: String::new(),
                summary: None,
                missing: Some(format!(
                    "no earlier version of {} in {} to compare with",
                    release.service, release.environment
                )),
                first_commit_at: None,
            });
            return Ok(());
        };
        let key = source.cache_key(base.as_str(), release.version.as_str());
        if release.changes.as_ref().is_some_and(|c| c.key == key) {
            return Ok(());
        }
        let kept: Option<ReleaseNotes> = tx.record(NOTES, &key)?.and_then(|b| decode(&b));
        release.changes = Some(changes_of(&key, kept.as_ref()));
        if kept.is_none() {
            let wanted = Wanted {
                service: release.service.clone(),
                base,
                head: release.version.clone(),
                key,
                release: Some(release.id),
                attempts: 0,
                next_at: now,
            };
            tx.put_record(WANTED, &release.id.to_string(), Some(&encode(&wanted)))?;
        }
        Ok(())
    }

    /// The kept notes of a range.
    pub(crate) fn kept_notes(&self, key: &str) -> StoreResult<Option<ReleaseNotes>> {
        Ok(self.store.record(NOTES, key)?.and_then(|b| decode(&b)))
    }

    /// Asks for a range's notes with no release behind it (`notes A..B`).
    pub(super) fn want_range(&self, wanted: Wanted) -> EngineResult<()> {
        let key = format!("range:{}", wanted.key);
        self.commit(|tx| tx.put_record(WANTED, &key, Some(&encode(&wanted))))?;
        Ok(())
    }

    /// What the worker should fetch now (nothing while another instance
    /// holds the notes lease), with each range's source.
    pub fn notes_due(&self, now: DateTime<Utc>) -> StoreResult<Vec<(String, Wanted, Source)>> {
        if self.hold_lease("notes")?.is_none() {
            return Ok(Vec::new());
        }
        let mut due = Vec::new();
        for (key, body) in self.store.records(WANTED)? {
            let Some(wanted) = decode::<Wanted>(&body) else {
                continue;
            };
            match self.source_of(&wanted.service) {
                Some(source) if wanted.next_at <= now => due.push((key, wanted, source.clone())),
                _ => {}
            }
        }
        Ok(due)
    }

    /// When the next waiting range falls due.
    pub fn next_notes_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self
            .store
            .records(WANTED)?
            .iter()
            .filter_map(|(_, body)| decode::<Wanted>(body))
            .map(|w| w.next_at)
            .min())
    }

    /// Takes what the worker fetched (or why it could not) for `wanted`.
    pub fn notes_fetched(
        &self,
        wanted_key: &str,
        wanted: &Wanted,
        fetched: Result<ReleaseNotes, String>,
    ) -> EngineResult<()> {
        let now = self.clock.now();
        self.commit(|tx| {
            let release = match wanted.release {
                Some(id) => tx.release(id)?,
                None => None,
            };
            match &fetched {
                Ok(notes) => {
                    tx.put_record(NOTES, &wanted.key, Some(&encode(notes)))?;
                    tx.put_record(WANTED, wanted_key, None)?;
                }
                Err(_) => {
                    let mut again = wanted.clone();
                    again.attempts += 1;
                    again.next_at = now + backoff(again.attempts);
                    let keep = (again.attempts < MAX_ATTEMPTS).then(|| encode(&again));
                    tx.put_record(WANTED, wanted_key, keep.as_deref())?;
                }
            }
            match release {
                Some(release) => self.tell_notes(tx, release, wanted, &fetched, now),
                None => Ok(()),
            }
        })?;
        Ok(())
    }

    /// Puts the summary (or why it is missing) on the release, so its
    /// announcement is edited, with the full list (or the reason, the
    /// first time) in its thread.
    fn tell_notes(
        &self,
        tx: &Tx<'_>,
        before: Release,
        wanted: &Wanted,
        fetched: &Result<ReleaseNotes, String>,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        if before.changes.as_ref().map(|c| c.key.as_str()) != Some(wanted.key.as_str()) {
            return Ok(()); // It names another range now.
        }
        let mut release = before.clone();
        let (changes, line) = match fetched {
            Ok(notes) => (
                changes_of(&wanted.key, Some(notes)),
                Text::plain(format!("📝 Changes in this release:\n{}", notes.markdown())),
            ),
            Err(why) => {
                let changes = Changes {
                    missing: Some(why.clone()),
                    ..changes_of(&wanted.key, None)
                };
                if before.changes.as_ref() == Some(&changes) {
                    return Ok(()); // Said already.
                }
                let line = format!(
                    "📝 The changes could not be read from the code: {why}. I'll try again."
                );
                (changes, Text::plain(line))
            }
        };
        release.changes = Some(changes);
        release.updated_at = now;
        let directory = self.directory_in(tx)?;
        let step = Step {
            actor: &super::jobs::notes_actor(),
            action: "notes",
            detail: release
                .changes
                .as_ref()
                .map(Changes::line)
                .unwrap_or_default(),
            thread_line: line,
        };
        self.record(tx, &directory, Some(&before), &release, step)
    }
}

fn changes_of(key: &str, notes: Option<&ReleaseNotes>) -> Changes {
    Changes {
        key: key.to_string(),
        summary: notes.map(ReleaseNotes::summary),
        missing: None,
        first_commit_at: notes.and_then(|n| n.first_commit_at),
    }
}

/// 30 s, 1 min, 2 min, … at most an hour.
fn backoff(attempts: u32) -> Duration {
    let seconds = 30i64 << attempts.saturating_sub(1).min(7);
    Duration::seconds(seconds.min(3600))
}
