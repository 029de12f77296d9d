//! What every CI kind is sent for a job: the same facts, named per target.

use serde_json::{json, Map, Value};

use crate::config::CiTarget;
use crate::domain::outbox::CiJob;
use crate::domain::release::DeployAction;

/// The job's fields as (our name, value), in `JOB_FIELDS` order.
fn values(job: &CiJob) -> Vec<(&'static str, Value)> {
    let rollback_to = match job.action {
        DeployAction::Rollback => json!(job.version.as_str()),
        DeployAction::Deploy => Value::Null,
    };
    let approvers: Vec<&str> = job.approvers.iter().map(|a| a.as_str()).collect();
    vec![
        ("release", json!(job.release.to_string())),
        ("idempotency_key", json!(job.key)),
        ("service", json!(job.service.as_str())),
        ("version", json!(job.release_version.as_str())),
        ("environment", json!(job.environment.as_str())),
        ("action", json!(job.action.as_str())),
        ("rollback_to", rollback_to),
        ("requested_by", json!(job.requested_by.as_str())),
        ("started_by", json!(job.started_by.as_str())),
        ("approvers", json!(approvers)),
    ]
}

fn renamed(target: &CiTarget, field: &str) -> Option<String> {
    target.field_names.get(field).cloned().flatten()
}

/// As a JSON object (webhook body, repository_dispatch client_payload).
pub fn json_object(job: &CiJob, target: &CiTarget) -> Map<String, Value> {
    values(job)
        .into_iter()
        .filter_map(|(field, value)| renamed(target, field).map(|name| (name, value)))
        .collect()
}

/// As string pairs (workflow inputs, GitLab variables, Jenkins parameters):
/// approvers comma-separated, an empty `rollback_to` left out.
pub fn string_pairs(job: &CiJob, target: &CiTarget) -> Vec<(String, String)> {
    values(job)
        .into_iter()
        .filter_map(|(field, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(s) => s,
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            renamed(target, field).map(|name| (name, text))
        })
        .collect()
}
