//! GitHub: `compare/{base}...{head}` paged by `Link`, each commit's pulls,
//! and, for a folder, the commits that touch it.

use super::{Api, Fetched, Listing, ScmError};
use crate::domain::notes::{Commit, PullRequest, MAX_COMMITS};

/// A path segment or query value, percent-encoded.
pub(super) fn enc(text: &str) -> String {
    url_escape(text)
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) async fn compare(api: &Api, base: &str, head: &str) -> Result<Fetched, ScmError> {
    let repo = &api.source.repository;
    let root = &api.source.api_url;
    let mut url = format!(
        "{root}/repos/{repo}/compare/{}...{}?per_page=100&page=1",
        enc(base),
        enc(head)
    );
    let mut commits = Vec::new();
    let (mut total, mut compare_url);
    loop {
        let page = match api.get(&url).await? {
            Ok(page) => page,
            Err((404, _)) => return Err(not_found(api, base, head).await),
            Err((status, message)) => return Err(api.refused(status, message)),
        };
        total = page.body["total_commits"].as_u64().unwrap_or(0) as usize;
        compare_url = page.body["html_url"].as_str().map(str::to_string);
        commits.extend(
            page.body["commits"]
                .as_array()
                .into_iter()
                .flatten()
                .map(commit),
        );
        match page.next {
            Some(next) if commits.len() < MAX_COMMITS => url = next,
            _ => break,
        }
    }
    super::narrowed(api, head, commits, total, compare_url).await
}

fn commit(value: &serde_json::Value) -> Commit {
    let author = value["author"]["login"]
        .as_str()
        .or_else(|| value["commit"]["author"]["name"].as_str())
        .unwrap_or("unknown");
    Commit {
        sha: value["sha"].as_str().unwrap_or_default().to_string(),
        message: value["commit"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        author: author.to_string(),
        at: value["commit"]["author"]["date"]
            .as_str()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc)),
        pulls: Vec::new(),
    }
}

pub(super) async fn pulls(api: &Api, sha: &str) -> Result<Vec<PullRequest>, ScmError> {
    let url = format!(
        "{}/repos/{}/commits/{sha}/pulls",
        api.source.api_url, api.source.repository
    );
    let page = match api.get(&url).await? {
        Ok(page) => page,
        // A commit no pull request brought in.
        Err((404 | 422, _)) => return Ok(Vec::new()),
        Err((status, message)) => return Err(api.refused(status, message)),
    };
    Ok(page
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| PullRequest {
            number: p["number"].as_u64().unwrap_or_default(),
            title: p["title"].as_str().unwrap_or_default().to_string(),
            url: p["html_url"].as_str().unwrap_or_default().to_string(),
            author: p["user"]["login"].as_str().unwrap_or("unknown").to_string(),
            labels: p["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["name"].as_str().map(str::to_string))
                .collect(),
        })
        .collect())
}

/// A 404 from compare: the repository, or which tag, is missing.
async fn not_found(api: &Api, base: &str, head: &str) -> ScmError {
    let repository = api.source.repository.clone();
    let root = format!("{}/repos/{repository}", api.source.api_url);
    match api.get(&root).await {
        Ok(Ok(_)) => {}
        Ok(Err((404, _))) => {
            return ScmError::UnknownRepository {
                kind: api.kind(),
                repository,
            }
        }
        Ok(Err((status, message))) => return api.refused(status, message),
        Err(error) => return error,
    }
    for tag in [base, head] {
        if let Ok(Err((404, _))) = api.get(&format!("{root}/git/ref/tags/{}", enc(tag))).await {
            return ScmError::MissingTag {
                kind: api.kind(),
                repository,
                tag: tag.to_string(),
            };
        }
    }
    ScmError::Refused {
        kind: api.kind(),
        status: 404,
        message: "Not Found".into(),
    }
}

/// The commits of `range` that touch `path`: GitHub's commit list for the
/// folder, newest first, read back to the range's oldest commit.
pub(super) async fn touching(
    api: &Api,
    head: &str,
    path: &str,
    range: Vec<Commit>,
) -> Result<Vec<Commit>, ScmError> {
    let mut listing = Listing::new(&range);
    let mut url = format!(
        "{}/repos/{}/commits?sha={}&path={}&per_page=100",
        api.source.api_url,
        api.source.repository,
        enc(head),
        enc(path)
    );
    loop {
        let page = match api.get(&url).await? {
            Ok(page) => page,
            Err((status, message)) => return Err(api.refused(status, message)),
        };
        let listed = page
            .body
            .as_array()
            .into_iter()
            .flatten()
            .map(commit)
            .collect();
        let more = listing.take(listed);
        match page.next {
            Some(next) if more => url = next,
            _ => break,
        }
    }
    Ok(listing.finish(range))
}
