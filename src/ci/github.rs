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
