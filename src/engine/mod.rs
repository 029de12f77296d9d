//! Where the domain meets the store: each command from an actor becomes one
//! transaction (state change, audit entry, outbox entries) and a reply. The
//! engine never talks to chat or CI itself; the outbox workers do.

mod actions;
mod admin;
mod audiences;
mod board;
mod calendar;
mod code_notes;
mod dashboard;
mod guards;
mod incident_guards;
mod incident_resolve;
mod incident_words;
mod incidents;
mod jobs;
mod notes_range;
pub mod offload;
mod ops;
mod people;
mod promote;
mod reminders;
mod stats;
mod views;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::command::{self, Command};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::lifecycle::Actor;
use crate::domain::outbox::Announcement;
use crate::domain::policy::{Directory, EnvPolicy};
use crate::domain::release::{Release, ReleaseStatus};
use crate::domain::text::Text;
use crate::domain::Refusal;
use crate::store::prelude::*;
use crate::store::{AuditDraft, Store, StoreError, Tx, TxResult};
use crate::view::{Done, View};

pub use crate::domain::stats::{compute as compute_stats, ServiceStats};
pub use code_notes::Wanted;
pub use dashboard::{LinkProblem, Rotation, SessionLookup, Visitor, SESSION_DAYS};
pub use jobs::{Callback, CallbackError, CallbackResult, JobReport};
pub use offload::off_async_threads;

/// Where a command came from, so replies and threads can find their way back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub channel: ChannelRef,
}

/// What to tell the person who sent the command: a typed view, which each
/// surface renders (chat through `Reply::text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub view: View,
}

impl Reply {
    /// A change that is not about one release (a grant, a freeze).
    fn new(text: impl Into<Text>) -> Self {
        Reply::view(View::Done(Done {
            release: None,
            said: text.into(),
        }))
    }

    /// A change to `release` (as it is after the change).
    fn changed(release: &Release, text: impl Into<Text>) -> Self {
        Reply::view(View::Done(Done {
            release: Some(Box::new(release.clone())),
            said: text.into(),
        }))
    }

    pub(crate) fn view(view: View) -> Self {
        Reply { view }
    }

    /// The reply as chat shows it.
    pub fn text(&self) -> Text {
        self.view.text()
    }
}

/// A command's failure: either the user's to fix (a refusal, or a command
/// that does not parse; its words are the reply), or ours (logged,
/// answered generically).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Unparsed(command::ParseError),
    #[error("internal error: {0}")]
    Internal(String),
    /// The store cannot be reached (the database is down): nothing changed,
    /// and the same command may work in a moment.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The inbound delivery was handled already (a redelivery); nothing ran
    /// and nobody is answered.
    #[error("a redelivery, dropped")]
    Duplicate,
}

impl EngineError {
    /// The text to show in chat.
    pub fn reply(&self) -> Text {
        match self {
            EngineError::Refused(refusal) => refusal.text(),
            EngineError::Unparsed(error) => Text::plain(error.to_string()),
            EngineError::Duplicate => Text::new(),
            EngineError::Unavailable(_) => Text::plain(
                "The store is unavailable; nothing was changed. Try again in a minute.",
            ),
            EngineError::Internal(_) => Text::plain(
                "Something went wrong on my side and nothing was changed; the details are in the bot's log.",
            ),
        }
    }

    /// The reply with people named by their local ids (tests, the CLI).
    pub fn reply_text(&self) -> String {
        self.reply().to_string()
    }
}

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Refused(refusal) => EngineError::Refused(refusal),
            StoreError::Duplicate => EngineError::Duplicate,
            StoreError::Unavailable(why) => EngineError::Unavailable(why),
            other => EngineError::Internal(other.to_string()),
        }
    }
}

impl From<Refusal> for EngineError {
    fn from(refusal: Refusal) -> Self {
        EngineError::Refused(refusal)
    }
}

impl From<command::ParseError> for EngineError {
    fn from(error: command::ParseError) -> Self {
        EngineError::Unparsed(error)
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

#[derive(Clone)]
pub struct Engine {
    store: Store,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    /// False for group commit: the caller flushes the store before it
    /// answers (see `deferring_flush`).
    flush_each: bool,
    /// Who is in which chat group (person → groups), as adapters learn it.
    groups: Arc<RwLock<BTreeMap<UserRef, BTreeSet<UserRef>>>>,
    /// People's names as their platforms show them, as adapters learn them.
    names: Arc<RwLock<HashMap<UserRef, String>>>,
    /// The inbound chat delivery this command came in, marked handled in the
    /// same transaction as the command's effect (see `for_delivery`).
    delivery: Option<Arc<str>>,
}

/// What a change to a release did: its result, and the words for the audit
/// log and the announcement's thread.
struct Change<T> {
    value: T,
    detail: String,
    thread_line: Text,
}

/// What a release change may use inside its transaction.
struct ChangeContext<'a, 'tx> {
    tx: &'a Tx<'tx>,
    actor: Actor<'a>,
    policy: &'a EnvPolicy,
    directory: &'a Directory,
    now: chrono::DateTime<chrono::Utc>,
}

/// One line of the step a command took, for the announcement's thread.
struct Step<'a> {
    actor: &'a UserRef,
    action: &'a str,
    detail: String,
    thread_line: Text,
}

impl Engine {
    pub fn new(store: Store, config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Engine {
            store,
            config,
            clock,
            flush_each: true,
            groups: Arc::default(),
            names: Arc::default(),
            delivery: None,
        }
    }

    /// An engine for one inbound chat delivery (`slack:event:Ev…`): the
    /// command's transaction also marks the delivery handled, so a crash
    /// before the commit leaves neither (a redelivery runs the command) and
    /// a redelivery after it is refused as `EngineError::Duplicate`.
    pub fn for_delivery(&self, delivery: &str) -> Engine {
        Engine {
            delivery: Some(delivery.into()),
            ..self.clone()
        }
    }

    /// Whether an inbound delivery was handled already. If the store cannot
    /// say, it is taken as new: the command's transaction still refuses a
    /// true duplicate.
    pub fn delivery_seen(&self, delivery: &str) -> bool {
        self.store.delivery_seen(delivery).unwrap_or_else(|error| {
            tracing::error!(%error, "reading inbound delivery marks failed");
            false
        })
    }

    /// The release whose announcement (or its thread) is `message` in
    /// `channel`; `None` when there is none or the index cannot be read.
    pub fn release_for_thread(&self, channel: &ChannelRef, message: &str) -> Option<ReleaseId> {
        self.store
            .release_for_thread(channel, message)
            .unwrap_or_else(|error| {
                tracing::error!(%error, "reading the thread index failed");
                None
            })
    }

    /// Marks a delivery handled outside a command (it changed nothing, or it
    /// opened a modal); false when it already was.
    pub fn first_delivery(&self, delivery: &str) -> bool {
        let now = self.clock.now();
        self.store
            .first_delivery(delivery, now)
            .unwrap_or_else(|error| {
                tracing::error!(%error, "recording an inbound delivery failed");
                true
            })
    }

    /// An engine whose commands do not fsync one by one: the caller must call
    /// `store().flush()` before it tells anyone a command succeeded.
    pub fn deferring_flush(&self) -> Engine {
        Engine {
            flush_each: false,
            ..self.clone()
        }
    }

    /// Runs a change as one transaction, durable now or at the caller's flush.
    fn commit<T>(&self, change: impl Fn(&Tx<'_>) -> TxResult<T>) -> Result<T, StoreError> {
        let now = self.clock.now();
        let change = |tx: &Tx<'_>| {
            if let Some(delivery) = &self.delivery {
                tx.mark_delivery(delivery, now)?;
            }
            change(tx)
        };
        if self.flush_each {
            self.store.transaction(change)
        } else {
            self.store.transaction_unflushed(change)
        }
    }

    /// Makes every change so far durable (the group-commit mode's flush).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.store.flush()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Parses and runs one line of the command language.
    pub fn handle_line(&self, actor: &UserRef, line: &str, origin: &Origin) -> EngineResult<Reply> {
        let command = crate::commands::parse(line)?;
        self.handle(actor, command, origin)
    }

    pub fn handle(
        &self,
        actor: &UserRef,
        command: Command,
        _origin: &Origin,
    ) -> EngineResult<Reply> {
        let result = crate::commands::apply(self, actor, command);
        match &result {
            Err(EngineError::Internal(error)) => tracing::error!(%actor, %error, "command failed"),
            Err(EngineError::Unavailable(why)) => {
                tracing::error!(%actor, %why, "command refused: the store is unavailable")
            }
            _ => {}
        }
        // A query or a refusal committed nothing: remember the delivery now.
        if let (Some(delivery), false) = (
            &self.delivery,
            matches!(result, Err(EngineError::Duplicate)),
        ) {
            self.first_delivery(delivery);
        }
        result
    }

    /// The user's roles: from the config file, plus any granted in chat.
    pub(crate) fn roles_of(&self, user: &UserRef) -> BTreeSet<String> {
        let mut roles = {
            let groups = self.groups.read().unwrap_or_else(|e| e.into_inner());
            self.config
                .directory
                .roles_in_groups(user, groups.get(user).into_iter().flatten())
        };
        match self.store.granted_roles(user) {
            Ok(granted) => roles.extend(granted),
            Err(error) => {
                tracing::error!(%error, "reading granted roles failed; using the config's")
            }
        }
        roles
    }

    /// Everyone's roles, config and chat grants together, for quorum checks.
    fn directory(&self) -> Directory {
        let directory = match self.store.grants() {
            Ok(grants) => self.config.directory.with_grants(grants),
            Err(error) => {
                tracing::error!(%error, "reading granted roles failed; using the config's");
                self.config.directory.clone()
            }
        };
        directory.with_groups(self.groups_snapshot())
    }

    /// Everyone's roles as the transaction sees them (config, chat grants,
    /// chat groups).
    fn directory_in(&self, tx: &Tx<'_>) -> TxResult<Directory> {
        Ok(self
            .config
            .directory
            .with_grants(tx.grants()?)
            .with_groups(self.groups_snapshot()))
    }

    fn policy(&self, environment: &Name) -> Result<&EnvPolicy, Refusal> {
        self.config
            .environment(environment)
            .map(|e| &e.policy)
            .ok_or_else(|| Refusal::EnvironmentGone {
                environment: environment.clone(),
                known: self.config.environment_names(),
            })
    }

    fn load(tx: &Tx<'_>, id: ReleaseId) -> TxResult<Release> {
        Ok(tx.release(id)?.ok_or_else(|| no_such_release(id))?)
    }

    /// Runs one change to an existing release as a transaction: loads it,
    /// applies `change` with the actor's roles and the environment's policy,
    /// and records the step (release, audit entry, announcements).
    fn change_release<T>(
        &self,
        user: &UserRef,
        id: ReleaseId,
        action: &str,
        change: impl Fn(&mut Release, &ChangeContext<'_, '_>) -> TxResult<Change<T>>,
    ) -> EngineResult<(Release, T)> {
        let now = self.clock.now();
        let changed = self.commit(|tx| {
            // Roles as of this transaction: a revoke that commits first counts.
            let directory = self.directory_in(tx)?;
            let roles = directory.roles_of(user);
            let before = Self::load(tx, id)?;
            let policy = self.policy(&before.environment)?;
            let mut release = before.clone();
            let context = ChangeContext {
                tx,
                actor: actor(user, &roles),
                policy,
                directory: &directory,
                now,
            };
            let Change {
                value,
                detail,
                thread_line,
            } = change(&mut release, &context)?;
            let step = Step {
                actor: user,
                action,
                detail,
                thread_line,
            };
            self.record(tx, &directory, Some(&before), &release, step)?;
            // As stored (the store raised the revision).
            release.revision = release.revision_over(Some(&before));
            Ok((release, value))
        })?;
        Ok(changed)
    }

    /// Persists a step: the release with its indexes, the audit entry and one
    /// announcement per channel, all inside the caller's transaction, with
    /// the directory the caller read in it.
    fn record(
        &self,
        tx: &Tx<'_>,
        directory: &Directory,
        before: Option<&Release>,
        after: &Release,
        step: Step<'_>,
    ) -> TxResult<()> {
        tx.put_release(after, before)?;
        self.update_timers(tx, before, after)?;
        tx.audit(AuditDraft {
            at: after.updated_at,
            actor: step.actor.clone(),
            action: step.action.to_string(),
            release: Some(after.id),
            before: before.map(|b| b.status),
            after: Some(after.status),
            detail: step.detail,
        })?;
        self.announce_line(tx, directory, after, step.thread_line)?;
        if after.status == ReleaseStatus::Deployed
            && before.is_some_and(|b| b.status != ReleaseStatus::Deployed)
        {
            self.tell_audiences_live(tx, after)?;
        }
        Ok(())
    }

    /// Queues the release's current announcement, with `line` for its
    /// thread, for every channel that follows it.
    pub(super) fn announce_line(
        &self,
        tx: &Tx<'_>,
        directory: &Directory,
        release: &Release,
        line: Text,
    ) -> TxResult<()> {
        let policy = self.policy(&release.environment)?;
        let quorum = policy.quorum(&release.approvals, directory, release.updated_at);
        let mut message = crate::domain::message::announcement(release, policy, &quorum);
        if let Some(id) = release.incident {
            // The incident's state, edited in place as it moves.
            if let Some(incident) = tx.incident(id)? {
                message.fields.push(crate::domain::message::Field {
                    label: "Incident".into(),
                    value: incident.state_line(),
                });
            }
        }
        for channel in self
            .config
            .channels_for(&release.service, &release.environment)
        {
            tx.announce(Announcement {
                channel,
                message: message.clone(),
                thread_line: Some(line.clone()),
            })?;
        }
        Ok(())
    }

    /// The CI kind a release's deploys go to (`simulate`, `github`, …).
    pub(super) fn ci_kind(&self, release: &Release) -> &'static str {
        self.config
            .ci_for(&release.service, &release.environment)
            .map_or("CI", |t| t.kind_name())
    }
}

fn actor<'a>(user: &'a UserRef, roles: &'a BTreeSet<String>) -> Actor<'a> {
    Actor { user, roles }
}

pub(super) fn no_such_release(id: ReleaseId) -> Refusal {
    Refusal::NoSuchRelease(id)
}

#[cfg(test)]
mod audience_tests;
#[cfg(test)]
mod bad_input_tests;
#[cfg(test)]
mod calendar_tests;
#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod incident_tests;
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod promotion_tests;
#[cfg(test)]
mod race_tests;
#[cfg(test)]
mod stats_tests;
#[cfg(test)]
mod tests;
