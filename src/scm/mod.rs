//! Reading a range of commits from GitHub or GitLab, for release notes:
//! the compare between two tags, paged, with each commit's pull (merge)
//! requests. Errors carry the SCM's own words, never the token.

mod github;
mod gitlab;
pub mod worker;

use std::time::Duration;

use crate::config::{ScmKind, Source};
use crate::domain::notes::{Commit, MAX_COMMITS};

/// Commits whose pull requests are looked up, at most: past it, commits
/// are listed from their messages alone.
pub const MAX_PULL_LOOKUPS: usize = 500;

/// Pull-request lookups in flight at once.
const PARALLEL: usize = 8;

const TIMEOUT: Duration = Duration::from_secs(20);

/// What a compare returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Oldest first, at most `MAX_COMMITS`.
    pub commits: Vec<Commit>,
    /// How many the range has.
    pub total: usize,
    pub compare_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScmError {
    #[error("{kind} has no repository `{repository}` (or the token cannot see it)")]
    UnknownRepository {
        kind: &'static str,
        repository: String,
    },
    #[error("{kind} has no tag `{tag}` in {repository}")]
    MissingTag {
        kind: &'static str,
        repository: String,
        tag: String,
    },
    #[error("{kind} refused the token: {message}")]
    BadToken { kind: &'static str, message: String },
    #[error("the token's environment variable {variable} is not set")]
    NoToken { variable: String },
    #[error("{kind} could not be reached: {why}")]
    Unavailable { kind: &'static str, why: String },
    #[error("{kind} answered {status}: {message}")]
    Refused {
        kind: &'static str,
        status: u16,
        message: String,
    },
}

/// The commits from `base`'s tag to `head`'s (versions).
pub async fn compare(
    http: &reqwest::Client,
    source: &Source,
    base: &str,
    head: &str,
) -> Result<Fetched, ScmError> {
    let token = match &source.token_env {
        Some(variable) => Some(std::env::var(variable).map_err(|_| ScmError::NoToken {
            variable: variable.clone(),
        })?),
        None => None,
    };
    let api = Api {
        http: http.clone(),
        source: source.clone(),
        token,
    };
    let (base, head) = (source.tag_of(base), source.tag_of(head));
    match source.kind {
        ScmKind::GitHub => github::compare(&api, &base, &head).await,
        ScmKind::GitLab => gitlab::compare(&api, &base, &head).await,
    }
}

/// One SCM's API, with the token if any; cheap to clone into tasks.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    source: Source,
    token: Option<String>,
}

/// A JSON answer and its `Link` header's next page.
struct Page {
    body: serde_json::Value,
    next: Option<String>,
}

impl Api {
    fn kind(&self) -> &'static str {
        self.source.kind.name()
    }

    async fn get(&self, url: &str) -> Result<Result<Page, (u16, String)>, ScmError> {
        let mut request = self.http.get(url).timeout(TIMEOUT);
        request = match self.source.kind {
            ScmKind::GitHub => {
                let request = request
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28")
                    .header("User-Agent", "releasebot");
                match &self.token {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                }
            }
            ScmKind::GitLab => match &self.token {
                Some(token) => request.header("PRIVATE-TOKEN", token),
                None => request,
            },
        };
        let response = request.send().await.map_err(|e| ScmError::Unavailable {
            kind: self.kind(),
            why: without_url(&e),
        })?;
        let status = response.status();
        let next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let text = response.text().await.map_err(|e| ScmError::Unavailable {
            kind: self.kind(),
            why: without_url(&e),
        })?;
        if status.is_server_error() {
            return Err(ScmError::Unavailable {
                kind: self.kind(),
                why: format!("{status}: {}", message_of(&text)),
            });
        }
        if !status.is_success() {
            return Ok(Err((status.as_u16(), message_of(&text))));
        }
        let body = serde_json::from_str(&text).map_err(|e| ScmError::Refused {
            kind: self.kind(),
            status: status.as_u16(),
            message: format!("not JSON: {e}"),
        })?;
        Ok(Ok(Page { body, next }))
    }

    /// A 401 or 403 is the token's; anything else not found or refused is
    /// for the caller to name.
    fn token_refused(&self, status: u16, message: &str) -> Option<ScmError> {
        matches!(status, 401 | 403).then(|| ScmError::BadToken {
            kind: self.kind(),
            message: message.to_string(),
        })
    }

    fn refused(&self, status: u16, message: String) -> ScmError {
        self.token_refused(status, &message)
            .unwrap_or(ScmError::Refused {
                kind: self.kind(),
                status,
                message,
            })
    }
}

/// The error without its URL (which may carry a query, never a token, but
/// reads better short).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "");
    }
    text.replace(" ()", "").trim().to_string()
}

/// The `message` of an SCM's JSON error, else the text itself, short.
fn message_of(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// Looks up each commit's pull requests (the first `MAX_PULL_LOOKUPS`),
/// a few at a time; `lookup` answers one commit's.
async fn with_pulls<F, Fut>(commits: &mut [Commit], lookup: F) -> Result<(), ScmError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<crate::domain::notes::PullRequest>, ScmError>>
        + Send
        + 'static,
{
    let limit = commits.len().min(MAX_PULL_LOOKUPS);
    for chunk in commits[..limit].chunks_mut(PARALLEL) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|c| tokio::spawn(lookup(c.sha.clone())))
            .collect();
        for (commit, task) in chunk.iter_mut().zip(tasks) {
            commit.pulls = task.await.map_err(|e| ScmError::Unavailable {
                kind: "the SCM",
                why: e.to_string(),
            })??;
        }
    }
    Ok(())
}

/// A folder's commit listing read against a compare's range, page by
/// page (newest first): which of the range's commits touch the folder.
struct Listing {
    wanted: std::collections::HashSet<String>,
    oldest: Option<chrono::DateTime<chrono::Utc>>,
    keep: std::collections::HashSet<String>,
}

impl Listing {
    fn new(range: &[Commit]) -> Listing {
        Listing {
            wanted: range.iter().map(|c| c.sha.clone()).collect(),
            oldest: range.iter().filter_map(|c| c.at).min(),
            keep: std::collections::HashSet::new(),
        }
    }

    /// Takes one page; whether to read the next (it has not yet passed
    /// the range's oldest commit, and was not empty).
    fn take(&mut self, listed: Vec<Commit>) -> bool {
        let oldest = self.oldest;
        let past = listed
            .iter()
            .any(|c| c.at.zip(oldest).is_some_and(|(at, oldest)| at < oldest));
        let more = !listed.is_empty() && !past;
        let wanted = &self.wanted;
        self.keep.extend(
            listed
                .into_iter()
                .map(|c| c.sha)
                .filter(|s| wanted.contains(s)),
        );
        more
    }

    fn finish(self, range: Vec<Commit>) -> Vec<Commit> {
        range
            .into_iter()
            .filter(|c| self.keep.contains(&c.sha))
            .collect()
    }
}

/// A compare's commits (oldest first, `total` in the range) made into
/// what `compare` returns, the same for every SCM: at most `MAX_COMMITS`,
/// only those touching the source's folder when it names one, each with
/// its pull or merge requests.
async fn narrowed(
    api: &Api,
    head: &str,
    commits: Vec<Commit>,
    mut total: usize,
    compare_url: Option<String>,
) -> Result<Fetched, ScmError> {
    let mut commits = capped(commits);
    if let Some(path) = api.source.path.clone() {
        commits = match api.source.kind {
            ScmKind::GitHub => github::touching(api, head, &path, commits).await?,
            ScmKind::GitLab => gitlab::touching(api, head, &path, commits).await?,
        };
        total = commits.len();
    }
    let lookup = api.clone();
    with_pulls(&mut commits, move |sha| {
        let api = lookup.clone();
        async move {
            match api.source.kind {
                ScmKind::GitHub => github::pulls(&api, &sha).await,
                ScmKind::GitLab => gitlab::merge_requests(&api, &sha).await,
            }
        }
    })
    .await?;
    Ok(Fetched {
        commits,
        total,
        compare_url,
    })
}

/// Keeps the first `MAX_COMMITS`.
fn capped(mut commits: Vec<Commit>) -> Vec<Commit> {
    commits.truncate(MAX_COMMITS);
    commits
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let header = r#"<https://api.github.com/repositories/1/compare/a...b?page=2&per_page=100>; rel="next", <https://api.github.com/repositories/1/compare/a...b?page=5&per_page=100>; rel="last""#;
        assert_eq!(
            super::next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1/compare/a...b?page=2&per_page=100")
        );
        assert_eq!(super::next_link(r#"<x>; rel="prev""#), None);
    }
}
