//! `[services.<name>.source]`: where a service's code lives, so release
//! notes come from its commits (GitHub or GitLab), and how they group.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::validate::Problems;
use crate::domain::notes::{Category, Rules};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// `github` or `gitlab`.
    pub kind: String,
    /// `owner/repo` (GitHub), a project path or id (GitLab).
    pub repository: String,
    /// The tag of a version, with `{version}`: default `v{version}`.
    pub tag: Option<String>,
    /// Only commits touching this folder count (monorepos).
    pub path: Option<String>,
    /// The environment variable holding the API token.
    pub token_env: Option<String>,
    /// GitHub Enterprise or self-managed GitLab.
    pub api_url: Option<String>,
    /// Group by pull-request labels (`[[…categories]]`); by Conventional
    /// Commit type when there are none.
    #[serde(default)]
    pub categories: Vec<RawCategory>,
    #[serde(default)]
    pub exclude_labels: Vec<String>,
    #[serde(default)]
    pub exclude_authors: Vec<String>,
    /// Issue key prefix → link base (`PAY = "https://jira…/browse/"`).
    #[serde(default)]
    pub issue_links: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    pub title: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScmKind {
    GitHub,
    GitLab,
}

impl ScmKind {
    pub fn name(self) -> &'static str {
        match self {
            ScmKind::GitHub => "GitHub",
            ScmKind::GitLab => "GitLab",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: ScmKind,
    pub repository: String,
    pub tag: String,
    pub path: Option<String>,
    pub token_env: Option<String>,
    /// Without a trailing slash.
    pub api_url: String,
    pub rules: Rules,
}

impl Source {
    /// The tag of `version`.
    pub fn tag_of(&self, version: &str) -> String {
        self.tag.replace("{version}", version)
    }

    /// Where notes of a range are kept: the same range of the same
    /// repository (and folder) is fetched once.
    pub fn cache_key(&self, base: &str, head: &str) -> String {
        let path = self.path.as_deref().unwrap_or("");
        format!(
            "{}:{}:{path}:{}..{}",
            self.kind.name(),
            self.repository,
            self.tag_of(base),
            self.tag_of(head)
        )
    }
}

pub(super) fn source(
    raw: &RawSource,
    path: &[&str],
    problems: &mut Problems<'_>,
) -> Option<Source> {
    let at = |key: &'static str| [path, &[key]].concat();
    let kind = match raw.kind.as_str() {
        "github" => ScmKind::GitHub,
        "gitlab" => ScmKind::GitLab,
        other => {
            problems.add(
                &at("kind"),
                format!("`{other}` is not a source kind; use github or gitlab"),
            );
            return None;
        }
    };
    let repository = raw.repository.trim().to_string();
    let shaped = match kind {
        ScmKind::GitHub => {
            let parts: Vec<&str> = repository.split('/').collect();
            parts.len() == 2 && parts.iter().all(|p| !p.is_empty())
        }
        ScmKind::GitLab => !repository.is_empty() && !repository.contains(' '),
    };
    if !shaped {
        problems.add(
            &at("repository"),
            format!("`{repository}` is not a repository; GitHub's look like owner/repo, GitLab's like group/project or a project id"),
        );
    }
    let tag = raw.tag.clone().unwrap_or_else(|| "v{version}".to_string());
    if !tag.contains("{version}") {
        problems.add(
            &at("tag"),
            format!("`{tag}` has no {{version}}, so every version would have the same tag"),
        );
    }
    let api_url = raw.api_url.clone().unwrap_or_else(|| {
        match kind {
            ScmKind::GitHub => "https://api.github.com",
            ScmKind::GitLab => "https://gitlab.com/api/v4",
        }
        .to_string()
    });
    if reqwest::Url::parse(&api_url).is_err() {
        problems.add(&at("api_url"), format!("`{api_url}` is not a URL"));
    }
    let rules = Rules {
        categories: raw
            .categories
            .iter()
            .map(|c| Category {
                title: c.title.clone(),
                labels: c.labels.clone(),
            })
            .collect(),
        exclude_labels: raw.exclude_labels.iter().cloned().collect(),
        exclude_authors: raw.exclude_authors.iter().cloned().collect(),
        issue_links: raw.issue_links.clone(),
    };
    shaped.then(|| Source {
        kind,
        repository,
        tag,
        path: raw.path.clone().filter(|p| !p.trim().is_empty()),
        token_env: raw.token_env.clone(),
        api_url: api_url.trim_end_matches('/').to_string(),
        rules,
    })
}
