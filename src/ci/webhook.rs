//! A generic webhook: the job as JSON, signed GitHub-style so receivers that
//! verify `X-Hub-Signature-256` accept it, with a delivery id header.

use super::payload;
use super::response::{json_field, send, Accepted, SendError};
use super::signature;
use crate::config::{CiKind, CiTarget};
use crate::domain::outbox::CiJob;

const SYSTEM: &str = "the webhook";

pub async fn trigger(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Accepted, SendError> {
    let CiKind::Webhook { url, secret } = &target.kind else {
        unreachable!("webhook::trigger called for another kind")
    };
    let body =
        serde_json::to_vec(&payload::json_object(job, target)).expect("a JSON object serializes");
    let request = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(
            signature::HEADER,
            signature::sign(secret.expose().as_bytes(), &body),
        )
        .header("X-Releasebot-Delivery", &job.key)
        .header("X-Releasebot-Event", job.action.as_str())
        .header("Idempotency-Key", &job.key)
        .body(body);
    let (_, answer) = send(SYSTEM, request, target.request_timeout, |_| false).await?;
    Ok(Accepted {
        run_url: json_field(&answer, "url"),
        follow: None,
    })
}
