//! Release notes from the code: the commits between two tags, grouped by
//! Conventional Commit type (breaking changes first) or by pull-request
//! labels, with authors, pull-request links and issue keys made links.
//! Built from what an SCM returned; fetching is `crate::scm`'s.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod group;

pub use group::build;

/// The most commits a compare reads; the notes say when there were more.
pub const MAX_COMMITS: usize = 10_000;

/// Where a release's notes from the code stand, as the release keeps it
/// (the notes themselves are kept once per range, under `key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// The range's cache key (`GitHub:acme/api::v2.3.0..v2.4.0`); empty
    /// when there is no range.
    pub key: String,
    /// `23 changes: 5 features, 12 fixes, 1 breaking`, once fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Why the changes are missing, while they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_commit_at: Option<DateTime<Utc>>,
}

impl Changes {
    /// The announcement's line for them.
    pub fn line(&self) -> String {
        match (&self.summary, &self.missing) {
            (Some(summary), _) => summary.clone(),
            (None, Some(why)) => format!("missing: {why}"),
            (None, None) => "being read from the code…".to_string(),
        }
    }
}

/// One commit as the SCM returned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    pub message: String,
    /// The author's login where known, else their name.
    pub author: String,
    pub at: Option<DateTime<Utc>>,
    /// The pull (merge) requests that brought it in.
    #[serde(default)]
    pub pulls: Vec<PullRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub url: String,
    pub author: String,
    #[serde(default)]
    pub labels: Vec<String>,
}

/// How changes are grouped (`[services.*.source]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// By pull-request label (GitHub's `.github/release.yml` shape); by
    /// Conventional Commit type when empty.
    pub categories: Vec<Category>,
    pub exclude_labels: BTreeSet<String>,
    /// Authors left out (bots: `dependabot[bot]`).
    pub exclude_authors: BTreeSet<String>,
    /// Issue key prefix → link base: `PAY` → `https://jira.example.com/browse/`.
    pub issue_links: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub title: String,
    /// Labels that put a change here; `*` takes what no other took.
    pub labels: Vec<String>,
}

/// One change in the notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default)]
    pub breaking: bool,
    pub sha: String,
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<(u64, String)>,
    /// (key, link)
    #[serde(default)]
    pub issues: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub title: String,
    /// How the summary line counts it (`features`, `fixes`).
    pub noun: String,
    pub entries: Vec<Entry>,
}

/// The notes of one range, as kept in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseNotes {
    /// `v2.3.0..v2.4.0`
    pub range: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_url: Option<String>,
    /// Commits in the range, as the SCM counts them.
    pub total: usize,
    /// Commits read (at most `MAX_COMMITS`).
    pub read: usize,
    pub groups: Vec<Group>,
    /// The oldest commit's time: where change lead time starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_commit_at: Option<DateTime<Utc>>,
}

impl ReleaseNotes {
    pub fn changes(&self) -> usize {
        self.groups.iter().map(|g| g.entries.len()).sum()
    }

    pub fn breaking(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| &g.entries)
            .filter(|e| e.breaking)
            .count()
    }

    /// `23 changes: 5 features, 12 fixes, 1 breaking`
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.noun != "breaking")
            .map(|g| format!("{} {}", g.entries.len(), g.noun))
            .collect();
        if self.breaking() > 0 {
            parts.push(format!("{} breaking", self.breaking()));
        }
        let changes = self.changes();
        let noun = if changes == 1 { "change" } else { "changes" };
        match parts.is_empty() {
            true => format!("{changes} {noun}"),
            false => format!("{changes} {noun}: {}", parts.join(", ")),
        }
    }

    /// The full list, in Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("**{}** ({})", self.range, self.summary());
        if let Some(url) = &self.compare_url {
            out.push_str(&format!(" · [compare]({url})"));
        }
        out.push('\n');
        if self.read < self.total {
            out.push_str(&format!(
                "_Only the first {} of {} commits were read (the cap is {MAX_COMMITS})._\n",
                self.read, self.total
            ));
        }
        for group in &self.groups {
            out.push_str(&format!("\n### {}\n", group.title));
            for entry in &group.entries {
                out.push_str(&format!("- {}\n", line(entry)));
            }
        }
        out
    }
}

fn line(entry: &Entry) -> String {
    let mut text = match &entry.scope {
        Some(scope) => format!("**{scope}:** {}", entry.text),
        None => entry.text.clone(),
    };
    for (key, link) in &entry.issues {
        text = text.replace(key, &format!("[{key}]({link})"));
    }
    let short = &entry.sha[..entry.sha.len().min(7)];
    let by = match &entry.pull {
        Some((number, url)) => format!(" ([#{number}]({url}) by @{})", entry.author),
        None => format!(" ({short} by @{})", entry.author),
    };
    format!("{text}{by}")
}

#[cfg(test)]
mod tests;
