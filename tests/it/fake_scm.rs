//! A fake GitHub and GitLab on 127.0.0.1:0, speaking the REST payloads
//! their documentation gives: GitHub's `compare/{base}...{head}` paged with
//! `per_page`/`page` and a `Link` header, `commits/{sha}/pulls`,
//! `git/ref/tags/{tag}`, `commits?sha=&path=`; GitLab's
//! `repository/compare?from=&to=`, `commits/{sha}/merge_requests`,
//! `repository/tags/{tag}`, `repository/commits?ref_name=&path=`. Tokens are
//! checked as each checks them (`Authorization: Bearer`, `PRIVATE-TOKEN`),
//! with their error bodies.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

pub const TOKEN: &str = "scm-test-token-7f3a";

#[derive(Debug, Clone)]
pub struct FakeCommit {
    pub sha: String,
    pub message: String,
    pub author: String,
    pub at: String,
    pub files: Vec<String>,
    /// (number, title, labels, author)
    pub pull: Option<(u64, String, Vec<String>, String)>,
}

/// One repository: its commits oldest first, and tags by commit index.
#[derive(Debug, Clone, Default)]
pub struct Repo {
    pub commits: Vec<FakeCommit>,
    pub tags: BTreeMap<String, usize>,
}

impl Repo {
    /// Appends commits and tags the last one.
    pub fn push(&mut self, tag: &str, messages: &[&str]) {
        for message in messages {
            let n = self.commits.len();
            self.commits.push(FakeCommit {
                sha: format!("{n:040x}"),
                message: message.to_string(),
                author: if message.starts_with("chore(deps)") {
                    "dependabot[bot]"
                } else {
                    "alice"
                }
                .into(),
                at: format!(
                    "2026-11-{:02}T{:02}:{:02}:00Z",
                    1 + n / 1440 % 20,
                    n / 60 % 24,
                    n % 60
                ),
                files: vec!["services/api/src/lib.rs".into()],
                pull: None,
            });
        }
        self.tags.insert(tag.to_string(), self.commits.len() - 1);
    }
}

#[derive(Clone, Default)]
struct Shared {
    repos: Arc<Mutex<BTreeMap<String, Repo>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

pub struct FakeScm {
    pub url: String,
    shared: Shared,
}

impl FakeScm {
    pub async fn start() -> FakeScm {
        let shared = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = shared.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = state.clone();
            async move { answer(&state, &uri, &headers) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeScm { url, shared }
    }

    pub fn repo(&self, name: &str, repo: Repo) {
        self.shared
            .repos
            .lock()
            .unwrap()
            .insert(name.to_string(), repo);
    }

    pub fn edit(&self, name: &str, change: impl FnOnce(&mut Repo)) {
        change(self.shared.repos.lock().unwrap().get_mut(name).unwrap());
    }

    /// The paths (with queries) asked for so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect()
}

fn json_error(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        ),
    )
        .into_response()
}

fn answer(state: &Shared, uri: &Uri, headers: &HeaderMap) -> Response {
    state.requests.lock().unwrap().push(uri.to_string());
    let repos = state.repos.lock().unwrap();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let segments: Vec<String> = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["repos", owner, name, rest @ ..] => {
            let auth = headers.get("authorization").and_then(|h| h.to_str().ok());
            if auth.is_some_and(|a| a != format!("Bearer {TOKEN}")) {
                return json_error(401, "Bad credentials");
            }
            let Some(repo) = repos.get(&format!("{owner}/{name}")) else {
                return json_error(404, "Not Found");
            };
            github(repo, &format!("{owner}/{name}"), rest, &query(uri), host)
        }
        ["projects", id, "repository", rest @ ..] => {
            let token = headers.get("private-token").and_then(|h| h.to_str().ok());
            if token.is_some_and(|t| t != TOKEN) {
                return json_error(401, "401 Unauthorized");
            }
            let Some(repo) = repos.get(*id) else {
                return json_error(404, "404 Project Not Found");
            };
            gitlab(repo, id, rest, &query(uri))
        }
        _ => json_error(404, "Not Found"),
    }
}

fn github_commit(c: &FakeCommit) -> Value {
    json!({
        "sha": c.sha,
        "commit": { "message": c.message, "author": { "name": c.author, "date": c.at } },
        "author": { "login": c.author },
    })
}

fn github(
    repo: &Repo,
    full: &str,
    rest: &[&str],
    q: &BTreeMap<String, String>,
    host: &str,
) -> Response {
    match rest {
        [] => axum::Json(json!({ "full_name": full })).into_response(),
        ["compare", range] => {
            let Some((base, head)) = range.split_once("...") else {
                return json_error(404, "Not Found");
            };
            let (Some(&b), Some(&h)) = (repo.tags.get(base), repo.tags.get(head)) else {
                return json_error(404, "Not Found");
            };
            let all: Vec<&FakeCommit> = repo.commits[b + 1..=h].iter().collect();
            let paged = q.contains_key("page") || q.contains_key("per_page");
            let per_page: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(30).min(100);
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
            let (shown, link) = if paged {
                let pages = all.len().div_ceil(per_page).max(1);
                let shown: Vec<Value> = all.iter().skip((page - 1) * per_page).take(per_page).map(|c| github_commit(c)).collect();
                let at = |p: usize| format!("<http://{host}/repos/{full}/compare/{range}?per_page={per_page}&page={p}>");
                let mut links = Vec::new();
                if page < pages {
                    links.push(format!("{}; rel=\"next\"", at(page + 1)));
                    links.push(format!("{}; rel=\"last\"", at(pages)));
                }
                (shown, links.join(", "))
            } else {
                (all.iter().take(250).map(|c| github_commit(c)).collect(), String::new())
            };
            let body = json!({
                "html_url": format!("https://github.com/{full}/compare/{range}"),
                "status": "ahead", "ahead_by": all.len(), "behind_by": 0,
                "total_commits": all.len(),
                "commits": shown,
                "files": [],
            });
            let mut response = axum::Json(body).into_response();
            if !link.is_empty() {
                response.headers_mut().insert("link", link.parse().unwrap());
            }
            response
        }
        ["commits", sha, "pulls"] => {
            let pulls: Vec<Value> = repo
                .commits
                .iter()
                .filter(|c| c.sha == *sha)
                .filter_map(|c| c.pull.as_ref())
                .map(|(number, title, labels, author)| json!({
                    "number": number, "title": title,
                    "html_url": format!("https://github.com/{full}/pull/{number}"),
                    "user": { "login": author },
                    "labels": labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
                    "state": "closed",
                }))
                .collect();
            axum::Json(pulls).into_response()
        }
        ["git", "ref", "tags", tag] => match repo.tags.get(*tag) {
            Some(&at) => axum::Json(json!({ "ref": format!("refs/tags/{tag}"), "object": { "sha": repo.commits[at].sha, "type": "commit" } })).into_response(),
            None => json_error(404, "Not Found"),
        },
        ["commits"] => {
            let head = q.get("sha").and_then(|t| repo.tags.get(t)).copied().unwrap_or(repo.commits.len() - 1);
            let path = q.get("path").cloned().unwrap_or_default();
            let listed: Vec<Value> = repo.commits[..=head]
                .iter()
                .rev()
                .filter(|c| c.files.iter().any(|f| f.starts_with(&path)))
                .take(100)
                .map(github_commit)
                .collect();
            axum::Json(listed).into_response()
        }
        _ => json_error(404, "Not Found"),
    }
}

fn gitlab_commit(c: &FakeCommit) -> Value {
    json!({
        "id": c.sha, "short_id": &c.sha[..8],
        "title": c.message.lines().next().unwrap_or_default(),
        "message": c.message, "author_name": c.author, "created_at": c.at,
    })
}

fn gitlab(repo: &Repo, id: &str, rest: &[&str], q: &BTreeMap<String, String>) -> Response {
    match rest {
        ["compare"] => {
            let from = q.get("from").and_then(|t| repo.tags.get(t));
            let to = q.get("to").and_then(|t| repo.tags.get(t));
            let (Some(&b), Some(&h)) = (from, to) else {
                return json_error(404, "404 Ref Not Found");
            };
            let commits: Vec<Value> = repo.commits[b + 1..=h].iter().map(gitlab_commit).collect();
            axum::Json(json!({
                "commit": commits.last(), "commits": commits, "diffs": [],
                "compare_timeout": false, "compare_same_ref": false,
                "web_url": format!("https://gitlab.com/{id}/-/compare/{}...{}", q["from"], q["to"]),
            }))
            .into_response()
        }
        ["commits", sha, "merge_requests"] => {
            let mrs: Vec<Value> = repo
                .commits
                .iter()
                .filter(|c| c.sha == *sha)
                .filter_map(|c| c.pull.as_ref())
                .map(|(number, title, labels, author)| {
                    json!({
                        "iid": number, "title": title,
                        "web_url": format!("https://gitlab.com/{id}/-/merge_requests/{number}"),
                        "author": { "username": author }, "labels": labels, "state": "merged",
                    })
                })
                .collect();
            axum::Json(mrs).into_response()
        }
        ["commits"] => {
            let head = q
                .get("ref_name")
                .and_then(|t| repo.tags.get(t))
                .copied()
                .unwrap_or(repo.commits.len() - 1);
            let path = q.get("path").cloned().unwrap_or_default();
            let per_page: usize = q
                .get("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(20)
                .min(100);
            let page: usize = q
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let listed: Vec<Value> = repo.commits[..=head]
                .iter()
                .rev()
                .filter(|c| c.files.iter().any(|f| f.starts_with(&path)))
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(gitlab_commit)
                .collect();
            axum::Json(listed).into_response()
        }
        ["tags", tag] => match repo.tags.get(*tag) {
            Some(_) => axum::Json(json!({ "name": tag })).into_response(),
            None => json_error(404, "404 Tag Not Found"),
        },
        _ => json_error(404, "404 Not Found"),
    }
}
