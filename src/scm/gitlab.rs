//! GitLab: `repository/compare?from=&to=` (one unpaged answer), each
//! commit's merge requests, and, for a folder, the commits that touch it.

use super::github::enc;
use super::{Api, Fetched, Listing, ScmError};
use crate::domain::notes::{Commit, PullRequest};

fn project(api: &Api) -> String {
    format!(
        "{}/projects/{}",
        api.source.api_url,
        enc(&api.source.repository)
    )
}

pub(super) async fn compare(api: &Api, base: &str, head: &str) -> Result<Fetched, ScmError> {
    let url = format!(
        "{}/repository/compare?from={}&to={}",
        project(api),
        enc(base),
        enc(head)
    );
    let page = match api.get(&url).await? {
        Ok(page) => page,
        Err((404, message)) if message.contains("Project") => {
            return Err(ScmError::UnknownRepository {
                kind: api.kind(),
                repository: api.source.repository.clone(),
            })
        }
        Err((404, _)) => return Err(missing_tag(api, base, head).await),
        Err((status, message)) => return Err(api.refused(status, message)),
    };
    let all: Vec<Commit> = page.body["commits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(commit)
        .collect();
    let total = all.len();
    let compare_url = page.body["web_url"].as_str().map(str::to_string);
    super::narrowed(api, head, all, total, compare_url).await
}

fn commit(value: &serde_json::Value) -> Commit {
    Commit {
        sha: value["id"].as_str().unwrap_or_default().to_string(),
        message: value["message"]
            .as_str()
            .or_else(|| value["title"].as_str())
            .unwrap_or_default()
            .to_string(),
        author: value["author_name"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
        at: value["created_at"]
            .as_str()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc)),
        pulls: Vec::new(),
    }
}

pub(super) async fn merge_requests(api: &Api, sha: &str) -> Result<Vec<PullRequest>, ScmError> {
    let url = format!("{}/repository/commits/{sha}/merge_requests", project(api));
    let page = match api.get(&url).await? {
        Ok(page) => page,
        Err((404, _)) => return Ok(Vec::new()),
        Err((status, message)) => return Err(api.refused(status, message)),
    };
    Ok(page
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| PullRequest {
            number: m["iid"].as_u64().unwrap_or_default(),
            title: m["title"].as_str().unwrap_or_default().to_string(),
            url: m["web_url"].as_str().unwrap_or_default().to_string(),
            author: m["author"]["username"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            labels: m["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect(),
        })
        .collect())
}

/// Which tag a 404 from compare is about.
async fn missing_tag(api: &Api, base: &str, head: &str) -> ScmError {
    for tag in [base, head] {
        let url = format!("{}/repository/tags/{}", project(api), enc(tag));
        if let Ok(Err((404, _))) = api.get(&url).await {
            return ScmError::MissingTag {
                kind: api.kind(),
                repository: api.source.repository.clone(),
                tag: tag.to_string(),
            };
        }
    }
    ScmError::Refused {
        kind: api.kind(),
        status: 404,
        message: "Ref Not Found".into(),
    }
}

/// The commits of the range that touch `path` (GitLab's commit list for
/// the folder, paged until it passes the range's oldest commit).
pub(super) async fn touching(
    api: &Api,
    head: &str,
    path: &str,
    range: Vec<Commit>,
) -> Result<Vec<Commit>, ScmError> {
    let mut listing = Listing::new(&range);
    for page_number in 1.. {
        let url = format!(
            "{}/repository/commits?ref_name={}&path={}&per_page=100&page={page_number}",
            project(api),
            enc(head),
            enc(path)
        );
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
        if !listing.take(listed) {
            break;
        }
    }
    Ok(listing.finish(range))
}
