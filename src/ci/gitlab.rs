//! GitLab pipeline triggers.
//! Docs: POST /api/v4/projects/:id/trigger/pipeline with `token`, `ref` and
//! `variables[KEY]=value`; answers 201 with the pipeline (`id`, `web_url`, `status`).

use super::payload;
use super::response::{json_field, send, Accepted, SendError};
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
    let request = client
        .post(format!(
            "{url}/api/v4/projects/{}/trigger/pipeline",
            project_segment(project)
        ))
        .header("Idempotency-Key", &job.key)
        .form(&form);
    let (_, answer) = send(SYSTEM, request, target.request_timeout, |_| false).await?;
    Ok(Accepted {
        run_url: json_field(&answer, "web_url"),
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
