//! A fake CI server on 127.0.0.1:0 that checks requests the way GitHub,
//! GitLab, Jenkins and a GitHub-style webhook receiver do, answers as they
//! document, and can be told to misbehave first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const GITHUB_TOKEN: &str = "ghp_test_token";
pub const GITLAB_TOKEN: &str = "glptt-test-trigger";
pub const JENKINS_USER: &str = "ci-bot";
pub const JENKINS_TOKEN: &str = "11aa22bb33cc";
pub const HOOK_SECRET: &str = "It's a Secret to Everybody";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).expect("a form body")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// What to do with the next request instead of the normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16, &'static str),
    RetryAfter(u64),
    /// Answers late, having taken the job (a GitHub dispatch starts its run).
    Hang(Duration),
    /// Answers late, having taken nothing.
    Stall(Duration),
}

#[derive(Clone, Default)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// GitHub workflow runs started by dispatches, with the `run-name`
    /// `config/ci/callbacks.md` asks for: `Deploy <service> <version> (<key>)`.
    runs: Arc<Mutex<Vec<Value>>>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    /// Faults for GET requests (run and build lookups).
    get_faults: Arc<Mutex<VecDeque<Fault>>>,
    base: Arc<Mutex<String>>,
}

pub struct FakeCi {
    pub url: String,
    shared: Shared,
}

impl FakeCi {
    pub async fn start() -> FakeCi {
        let shared = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        *shared.base.lock().unwrap() = url.clone();
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeCi { url, shared }
    }

    /// Makes the links it answers with (Jenkins' `Location`, build URLs)
    /// point at `base` instead of itself.
    pub fn set_base(&self, base: &str) {
        *self.shared.base.lock().unwrap() = base.to_string();
    }

    /// Makes the next GET (a run or build lookup) misbehave.
    pub fn fail_next_get(&self, fault: Fault) {
        self.shared.get_faults.lock().unwrap().push_back(fault);
    }

    pub fn fail_next(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Requests that trigger a job (not Jenkins queue polls).
    pub fn triggers(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == Method::POST)
            .collect()
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    shared.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let fault = if method == Method::POST {
        shared.faults.lock().unwrap().pop_front()
    } else {
        shared.get_faults.lock().unwrap().pop_front()
    };
    // A dispatch that hangs or succeeds has started its run, answered or not.
    let dispatch =
        method == Method::POST && path.ends_with("/dispatches") && path.contains("/workflows/");
    if dispatch && matches!(fault, None | Some(Fault::Hang(_))) {
        if let Ok(payload) = serde_json::from_slice::<Value>(&body) {
            let inputs = &payload["inputs"];
            let mut runs = shared.runs.lock().unwrap();
            let id = 5000 + runs.len();
            runs.push(json!({
                "id": id,
                "name": format!("Deploy {} {} ({})", inputs["service"].as_str().unwrap_or(""), inputs["version"].as_str().unwrap_or(""), inputs["idempotency_key"].as_str().unwrap_or("")),
                "event": "workflow_dispatch",
                "html_url": format!("https://github.com/acme/api/actions/runs/{id}"),
            }));
        }
    }
    // So does a Jenkins build: its parameters are the form it was sent.
    let build = method == Method::POST && path.ends_with("/buildWithParameters");
    if build && matches!(fault, None | Some(Fault::Hang(_))) {
        let base = shared.base.lock().unwrap().clone();
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let parameters: Vec<Value> = form
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let mut runs = shared.runs.lock().unwrap();
        let number = 12 + runs.len();
        runs.push(json!({
            "url": format!("{base}/job/deploy-api/{number}/"),
            "actions": [{"_class": "hudson.model.CauseAction"}, {"parameters": parameters}],
        }));
    }
    match fault {
        Some(Fault::Status(code, text)) => {
            return (StatusCode::from_u16(code).unwrap(), text).into_response()
        }
        Some(Fault::RetryAfter(seconds)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", seconds.to_string())],
                "slow down",
            )
                .into_response()
        }
        Some(Fault::Hang(how_long)) => {
            tokio::time::sleep(how_long).await;
        }
        Some(Fault::Stall(how_long)) => {
            tokio::time::sleep(how_long).await;
            return (StatusCode::SERVICE_UNAVAILABLE, "stalled").into_response();
        }
        None => {}
    }
    let base = shared.base.lock().unwrap().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        // GitHub: workflow_dispatch
        ["repos", owner, repo, "actions", "workflows", _, "dispatches"]
            if method == Method::POST =>
        {
            if header("authorization") != format!("Bearer {GITHUB_TOKEN}") {
                return answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
                );
            }
            let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
                return answer(
                    StatusCode::BAD_REQUEST,
                    json!({"message": "Problems parsing JSON"}),
                );
            };
            let inputs = payload["inputs"].as_object().map_or(0, |i| i.len());
            let strings = payload["inputs"]
                .as_object()
                .is_some_and(|i| i.values().all(Value::is_string));
            if header("accept") != "application/vnd.github+json"
                || !payload["ref"].is_string()
                || inputs > 25
                || !strings
            {
                return answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": "Invalid request"}),
                );
            }
            if payload["return_run_details"] == json!(true) {
                let run = format!("https://github.com/{owner}/{repo}/actions/runs/4242");
                answer(
                    StatusCode::OK,
                    json!({"workflow_run_id": 4242, "run_url": format!("https://api.github.com/repos/{owner}/{repo}/actions/runs/4242"), "html_url": run}),
                )
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
        // GitHub: a workflow's runs, newest first
        ["repos", _, _, "actions", "workflows", _, "runs"] if method == Method::GET => {
            if header("authorization") != format!("Bearer {GITHUB_TOKEN}") {
                return answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"message": "Bad credentials"}),
                );
            }
            let mut runs = shared.runs.lock().unwrap().clone();
            runs.reverse();
            answer(
                StatusCode::OK,
                json!({"total_count": runs.len(), "workflow_runs": runs}),
            )
        }
        // GitHub: repository_dispatch
        ["repos", _, _, "dispatches"] if method == Method::POST => {
            if header("authorization") != format!("Bearer {GITHUB_TOKEN}") {
                return answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"message": "Bad credentials"}),
                );
            }
            let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
            let keys = payload["client_payload"].as_object().map_or(0, |p| p.len());
            if !payload["event_type"].is_string() || keys > 10 {
                return answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": "Invalid request"}),
                );
            }
            StatusCode::NO_CONTENT.into_response()
        }
        // GitLab: pipeline trigger
        ["api", "v4", "projects", _, "trigger", "pipeline"] if method == Method::POST => {
            let form: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let value = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
            if value("token") != Some(GITLAB_TOKEN) {
                return answer(StatusCode::NOT_FOUND, json!({"message": "404 Not Found"}));
            }
            if value("ref").is_none() {
                return answer(StatusCode::BAD_REQUEST, json!({"error": "ref is missing"}));
            }
            answer(
                StatusCode::CREATED,
                json!({"id": 77, "web_url": "https://gitlab.example.com/acme/api/-/pipelines/77", "status": "created"}),
            )
        }
        // Jenkins: buildWithParameters, then the queue item
        ["job", .., "buildWithParameters"] if method == Method::POST => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{JENKINS_USER}:{JENKINS_TOKEN}"))
            );
            if header("authorization") != expected {
                return (
                    StatusCode::UNAUTHORIZED,
                    "Invalid password/token for user: ci-bot",
                )
                    .into_response();
            }
            (
                StatusCode::CREATED,
                [("location", format!("{base}/queue/item/9/"))],
            )
                .into_response()
        }
        ["queue", "api", "json"] => answer(StatusCode::OK, json!({"items": []})),
        ["job", "deploy-api", "api", "json"] => {
            let mut builds = shared.runs.lock().unwrap().clone();
            builds.reverse();
            answer(StatusCode::OK, json!({"builds": builds}))
        }
        ["queue", "item", "9", "api", "json"] => answer(
            StatusCode::OK,
            json!({"executable": {"number": 12, "url": format!("{base}/job/deploy-api/12/")}}),
        ),
        // A webhook receiver that verifies GitHub-style signatures.
        ["hook"] if method == Method::POST => {
            let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
            mac.update(&body);
            let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            if header("x-hub-signature-256") != expected
                || header("content-type") != "application/json"
            {
                return (StatusCode::UNAUTHORIZED, "signature mismatch").into_response();
            }
            answer(
                StatusCode::ACCEPTED,
                json!({"url": "https://deploy.example.com/runs/5"}),
            )
        }
        _ => (StatusCode::NOT_FOUND, "no such route").into_response(),
    }
}
