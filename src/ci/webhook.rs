//! A generic webhook: the job as JSON, signed GitHub-style so receivers that
//! verify `X-Hub-Signature-256` accept it, with a delivery id header.

use super::payload;
use super::response::{failure, unreachable, Accepted, SendError};
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
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(
            signature::HEADER,
            signature::sign(secret.expose().as_bytes(), &body),
        )
        .header("X-Releasebot-Delivery", &job.key)
        .header("X-Releasebot-Event", job.action.as_str())
        .header("Idempotency-Key", &job.key)
        .body(body)
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
        .and_then(|v| v.get("url").and_then(|u| u.as_str()).map(str::to_string));
    Ok(Accepted {
        run_url,
        follow: None,
    })
}
