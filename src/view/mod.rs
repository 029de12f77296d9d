//! What the engine answers: typed views, built once from the store, that
//! every surface renders its own way. Chat (the shell, Slack, Discord)
//! renders them through their text form (`View::text`); a web page renders
//! the same values as HTML. No renderer parses a sentence.
//!
//! Read commands answer with a view of what they read (a release, a list
//! page, a calendar range, stats, an audit trail); a change answers with
//! the release after it and the words for what happened.

pub mod board;
mod calendar;
mod incidents;
mod lists;
mod release;
mod stats;

pub use stats::sparkline;

use chrono_tz::Tz;

use crate::domain::calendar::{Freeze, WeeklySpan};
use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::policy::QuorumState;
use crate::domain::release::Release;
use crate::domain::stats::ServiceStats;
use crate::domain::text::Text;
use crate::store::AuditEntry;

/// One answer.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// `status`: a release with its approvals, checklist and deployments.
    Release(Box<ReleaseView>),
    /// `checklist`: a release's checklist.
    Checklist(Box<Release>),
    /// `notes`: the release notes of one release.
    Notes(Box<NotesView>),
    /// `notes A..B <service>`: the changes between two versions.
    Changes(Box<ChangesView>),
    /// `notes <id> <audience>`: one audience's words for a release.
    Audience(Box<AudienceView>),
    /// `list`: one page of releases.
    List(ListView),
    /// `history`: a release's audit trail.
    History(HistoryView),
    /// `freezes`: freezes now and ahead.
    Freezes(FreezesView),
    /// `calendar`: a range of days with windows, freezes and bookings.
    Calendar(CalendarView),
    /// `stats`: figures per service over a period.
    Stats(StatsView),
    /// `roles`: who holds which role.
    Roles(RolesView),
    /// `incident`: the open incidents, or one.
    Incidents(IncidentsView),
    /// `help`: what the caller may do.
    Help(HelpView),
    /// A change: the release after it (when it changed one) and the words
    /// for what happened.
    Done(Done),
    /// Words only: a refusal, a command that does not parse, an error.
    Said(Text),
}

impl View {
    /// The view's text, as every chat surface shows it.
    pub fn text(&self) -> Text {
        match self {
            View::Release(view) => release::status(view),
            View::Checklist(release) => release::checklist(release),
            View::Notes(view) => Text::plain(release::notes(view)),
            View::Audience(view) => Text::plain(view.text.clone()),
            View::Changes(view) => Text::plain(release::changes(view)),
            View::List(view) => lists::list(view),
            View::History(view) => lists::history(view),
            View::Freezes(view) => calendar::freezes(view),
            View::Calendar(view) => calendar::calendar(view),
            View::Stats(view) => Text::plain(stats::stats(view)),
            View::Roles(view) => lists::roles(view),
            View::Incidents(view) => incidents::incidents(view),
            View::Help(view) => lists::help(view),
            View::Done(done) => done.said.clone(),
            View::Said(text) => text.clone(),
        }
    }

    /// The release this view is about, where it is about one.
    pub fn release(&self) -> Option<&Release> {
        match self {
            View::Release(view) => Some(&view.release),
            View::Checklist(release) => Some(release),
            View::Notes(view) => Some(&view.release),
            View::Audience(view) => Some(&view.release),
            View::Done(done) => done.release.as_deref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseView {
    pub release: Release,
    /// Its environment's timezone, for its times.
    pub timezone: Tz,
    pub quorum: QuorumState,
    /// Per approval, in order: whether it has expired.
    pub expired: Vec<bool>,
    /// For each environment with a soak rule: how far its service there is
    /// behind the environment it requires.
    pub drift: Vec<Drift>,
}

/// One environment's distance behind the one it requires, for a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub environment: Name,
    pub required: Name,
    /// What runs there now.
    pub live: Option<crate::domain::ids::Version>,
    /// The versions gone live in `required` since `live` did; `None` when
    /// `live` never went live there.
    pub ahead: Option<Vec<crate::domain::ids::Version>>,
    /// The changes between them, where notes from the code are kept.
    pub changes: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotesView {
    pub release: Release,
    pub timezone: Tz,
    /// The environment's quorum rule, in words.
    pub quorum_rule: String,
    /// Per approval, in order: whether it has expired.
    pub expired: Vec<bool>,
    /// The CI that deploys it (`GitHub Actions`).
    pub ci: String,
    /// Its notes from the code, when read.
    pub changes: Option<crate::domain::notes::ReleaseNotes>,
}

/// The changes between two versions of a service, or why not yet.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesView {
    /// `api: what production (2.3.0) lacks of staging (2.4.0)`
    pub title: String,
    pub notes: Option<crate::domain::notes::ReleaseNotes>,
    /// Why there are no notes to show (yet).
    pub pending: Option<String>,
}

/// One audience's words for a release, from its template.
#[derive(Debug, Clone, PartialEq)]
pub struct AudienceView {
    pub release: Release,
    pub audience: Name,
    pub text: String,
}

/// Which releases a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Pending,
    Status(crate::domain::release::ReleaseStatus),
    Open,
    Mine,
    Latest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListView {
    pub kind: ListKind,
    /// The page, each with its environment's timezone.
    pub rows: Vec<(Release, Tz)>,
    /// How many match in all.
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentsView {
    pub incidents: Vec<crate::domain::incident::Incident>,
    /// Per incident: when its next update is due (none once resolved).
    pub due: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    pub tz: Tz,
    /// Every open incident (`incident`), rather than one asked for.
    pub listing: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    pub release: ReleaseId,
    pub entries: Vec<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FreezesView {
    /// Freezes not yet over, each with its environment's timezone and
    /// whether it holds now.
    pub freezes: Vec<(Freeze, Tz, bool)>,
    /// Weekly freezes from the config, by environment.
    pub weekly: Vec<WeeklyFreeze>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyFreeze {
    pub environment: Name,
    pub span: WeeklySpan,
    pub timezone: Tz,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarView {
    /// `today, 2026-12-07`, `week of 2026-12-07`, `December 2026`.
    pub title: String,
    pub timezone: Tz,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
    /// Every configured environment, in config order, busy or not.
    pub environments: Vec<CalendarLane>,
}

/// One environment's part of a calendar range.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarLane {
    pub environment: Name,
    /// Its weekly deploy windows (none: any time) in its own timezone.
    pub windows: Vec<WeeklySpan>,
    pub window_timezone: Tz,
    pub freezes: Vec<Freeze>,
    /// Releases booked into the range, in time order.
    pub releases: Vec<Release>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatsView {
    pub days: i64,
    /// What was counted: `production`, `api in staging`.
    pub scope: String,
    pub per_service: std::collections::BTreeMap<String, ServiceStats>,
    pub overall: ServiceStats,
    /// The same figures week by week, oldest first (at least four weeks).
    pub trend: Vec<ServiceStats>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RolesView {
    /// Each person with their roles; `true` where granted in chat.
    pub people: Vec<(UserRef, Vec<(String, bool)>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HelpView {
    /// Everything the caller may use.
    All {
        user: UserRef,
        roles: Vec<String>,
        usages: Vec<&'static str>,
    },
    /// One command.
    Topic {
        usage: &'static str,
        name: &'static str,
        summary: &'static str,
        allowed: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub release: Option<Box<Release>>,
    pub said: Text,
}

#[cfg(test)]
mod tests;
