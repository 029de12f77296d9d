//! GitLab pipeline triggers.
//! Docs: POST /api/v4/projects/:id/trigger/pipeline with `token`, `ref` and
//! `variables[KEY]=value`; answers 201 with the pipeline (`id`, `web_url`, `status`).

use super::payload;
use super::response::{failure, unreachable, Accepted, SendError};
use crate::config::{CiKind, CiTarget};
use crate::domain::outbox::CiJob;

const SYSTEM: &str = "GitLab";

/// `group/project` must travel as one path segment.
fn project_segment(project: &str) -> String {
    project.replace('%', "%25").replace('/', "%2F")
}

pub async fn trigger(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Accepted, SendError> {
    let CiKind::Gitlab {
        url,
        project,
        git_ref,
        token,
    } = &target.kind
    else {
        unreachable!("gitlab::trigger called for another kind")
    };
    let mut form = vec![
        ("token".to_string(), token.expose().to_string()),
        ("ref".to_string(), git_ref.clone()),
    ];
    form.extend(
        payload::string_pairs(job, target)
            .into_iter()
            .map(|(k, v)| (format!("variables[{k}]"), v)),
    );
    let response = client
        .post(format!(
            "{url}/api/v4/projects/{}/trigger/pipeline",
            project_segment(project)
        ))
        .header("Idempotency-Key", &job.key)
        .form(&form)
        .timeout(target.request_timeout)
        .send()
        .await
        .map_err(|e| unreachable(SYSTEM, &e, target.request_timeout))?;
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(failure(SYSTEM, status, &headers, &text));
    }
    let run_url = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("web_url")
                .and_then(|u| u.as_str())
                .map(str::to_string)
        });
    Ok(Accepted {
        run_url,
        follow: None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn nested_projects_are_one_segment() {
        assert_eq!(super::project_segment("acme/api"), "acme%2Fapi");
        assert_eq!(super::project_segment("42"), "42");
    }
}
