//! GitHub Actions: `workflow_dispatch` (asking for run details, so the run can
//! be linked) or `repository_dispatch`.
//! Docs: POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches
//! answers 204, or 200 with `workflow_run_id`, `run_url`, `html_url` when the
//! body sets `return_run_details`; POST /repos/{owner}/{repo}/dispatches takes
//! `event_type` and `client_payload` (at most 10 top-level keys) and answers 204.

use serde_json::json;

use super::payload;
use super::response::{json_field, send, Accepted, SendError};
use crate::config::{CiKind, CiTarget};
use crate::domain::outbox::CiJob;

const SYSTEM: &str = "GitHub";

pub async fn trigger(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Accepted, SendError> {
    let (url, body, token) = match &target.kind {
        CiKind::GithubWorkflow {
            api_url,
            repo,
            workflow,
            git_ref,
            token,
        } => {
            let inputs: serde_json::Map<String, serde_json::Value> =
                payload::string_pairs(job, target)
                    .into_iter()
                    .map(|(k, v)| (k, json!(v)))
                    .collect();
            (
                format!("{api_url}/repos/{repo}/actions/workflows/{workflow}/dispatches"),
                json!({ "ref": git_ref, "inputs": inputs, "return_run_details": true }),
                token,
            )
        }
        CiKind::GithubDispatch {
            api_url,
            repo,
            event_type,
            token,
        } => (
            format!("{api_url}/repos/{repo}/dispatches"),
            json!({ "event_type": event_type, "client_payload": payload::json_object(job, target) }),
            token,
        ),
        _ => unreachable!("github::trigger called for another kind"),
    };
    let request = client
        .post(&url)
        .bearer_auth(token.expose())
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header("Idempotency-Key", &job.key)
        .json(&body);
    let (_, answer) = send(SYSTEM, request, target.request_timeout, |_| false).await?;
    Ok(Accepted {
        run_url: json_field(&answer, "html_url"),
        follow: None,
    })
}

/// The run an earlier, unanswered dispatch of `job` started, if any: the
/// workflow's latest runs (or the repository's `repository_dispatch` runs)
/// whose name (`run-name`) contains the idempotency key.
/// Docs: GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs and
/// GET /repos/{owner}/{repo}/actions/runs, both with `event` and `per_page`.
pub async fn find_run(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Option<Accepted>, String> {
    let (url, event, token) = match &target.kind {
        CiKind::GithubWorkflow {
            api_url,
            repo,
            workflow,
            token,
            ..
        } => (
            format!("{api_url}/repos/{repo}/actions/workflows/{workflow}/runs"),
            "workflow_dispatch",
            token,
        ),
        CiKind::GithubDispatch {
            api_url,
            repo,
            token,
            ..
        } => (
            format!("{api_url}/repos/{repo}/actions/runs"),
            "repository_dispatch",
            token,
        ),
        _ => return Ok(None),
    };
    let request = client
        .get(&url)
        .query(&[("event", event), ("per_page", "100")])
        .bearer_auth(token.expose())
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    let (_, answer) = send(SYSTEM, request, target.request_timeout, |_| false)
        .await
        .map_err(|e| e.to_string())?;
    let runs: serde_json::Value = serde_json::from_str(&answer)
        .map_err(|e| format!("GitHub's run list did not decode: {e}"))?;
    let found = runs
        .get("workflow_runs")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .find(|run| {
            run.get("name")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|name| carries_key(name, &job.key))
        });
    Ok(found.map(|run| Accepted {
        run_url: run
            .get("html_url")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        follow: None,
    }))
}

/// Whether a run name carries `key` as a whole word (`R-7-deploy-1` is not
/// found in a name holding `R-7-deploy-12`).
fn carries_key(name: &str, key: &str) -> bool {
    name.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | ':'))
        .any(|word| word == key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_run_name_carries_the_key_as_a_whole_word() {
        assert!(super::carries_key(
            "Deploy api 2.4.0 (R-7-deploy-1)",
            "R-7-deploy-1"
        ));
        assert!(super::carries_key("R-7-deploy-1", "R-7-deploy-1"));
        assert!(!super::carries_key(
            "Deploy (R-7-deploy-12)",
            "R-7-deploy-1"
        ));
        assert!(!super::carries_key("Deploy", "R-7-deploy-1"));
    }
}
