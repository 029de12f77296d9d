//! The announcement calls (create, edit, list messages; open a thread),
//! sent with our own HTTP client on serenity's routes so that a failure keeps
//! what serenity's error drops: a 429's `retry_after` (body) and
//! `X-RateLimit-Reset-After` (header), which the outbox then waits out,
//! straight to Discord or through a REST proxy alike.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serenity::all::{LightMethod, Request, Route};

use super::DiscordBot;
use crate::notify::DeliveryError;

/// Discord's JSON error code for "Unknown Channel".
const UNKNOWN_CHANNEL: i64 = 10003;

/// A failed call: what it means for the outbox, and Discord's error code.
#[derive(Debug)]
pub(super) struct Failure {
    pub code: Option<i64>,
    pub error: DeliveryError,
}

impl Failure {
    pub fn is_unknown_channel(&self) -> bool {
        self.code == Some(UNKNOWN_CHANNEL)
    }
}

impl From<Failure> for DeliveryError {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

fn transient(why: impl std::fmt::Display) -> Failure {
    Failure {
        code: None,
        error: DeliveryError::Transient(why.to_string()),
    }
}

/// How long a 429 asks us to wait: the body's `retry_after` (seconds, with
/// a fraction), else `X-RateLimit-Reset-After`, else `Retry-After`; a
/// second only when Discord says nothing at all.
pub(super) fn rate_limit_wait(headers: &HeaderMap, body: &serde_json::Value) -> Duration {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    [
        body.get("retry_after").and_then(serde_json::Value::as_f64),
        header("x-ratelimit-reset-after"),
        header("retry-after"),
    ]
    .into_iter()
    .flatten()
    .find(|seconds| seconds.is_finite() && *seconds >= 0.0)
    // Longer than an hour is a broken header, not a plan.
    .map_or(Duration::from_secs(1), |seconds| {
        Duration::from_secs_f64(seconds.min(3600.0))
    })
}

impl DiscordBot {
    /// One REST call on a serenity route; decodes a success into `T`.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&impl Serialize>,
        params: Option<Vec<(&'static str, String)>>,
    ) -> Result<T, Failure> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| transient(format!("encoding the request failed: {e}")))?;
        let request = Request::new(route, method)
            .body(body)
            .params(params)
            .build(
                &self.rest,
                self.http.token(),
                self.config.proxy_url.as_deref(),
            )
            .map_err(transient)?;
        let response = request
            .send()
            .await
            .map_err(|e| transient(format!("Discord did not answer: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| {
            transient(format!(
                "reading Discord's answer failed: {}",
                e.without_url()
            ))
        })?;
        if (200..300).contains(&status) {
            // 204 carries no body; `()`-like targets read `null`.
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(text)
                .map_err(|e| transient(format!("Discord's answer did not decode: {e}")));
        }
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = json.get("code").and_then(serde_json::Value::as_i64);
        let error = match status {
            429 => DeliveryError::RetryAfter(rate_limit_wait(&headers, &json)),
            500..=599 => DeliveryError::Transient(format!("Discord answered HTTP {status}")),
            _ => DeliveryError::Permanent(format!(
                "Discord answered HTTP {status}: {} (code {})",
                json.get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("no message"),
                code.unwrap_or(0)
            )),
        };
        Err(Failure { code, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_429_waits_what_discord_says() {
        let body =
            json!({"message": "You are being rate limited.", "retry_after": 2.75, "global": false});
        assert_eq!(
            rate_limit_wait(&headers(&[("x-ratelimit-reset-after", "9.5")]), &body),
            Duration::from_millis(2750)
        );
        assert_eq!(
            rate_limit_wait(
                &headers(&[("x-ratelimit-reset-after", "4.125"), ("retry-after", "5")]),
                &json!({})
            ),
            Duration::from_millis(4125)
        );
        assert_eq!(
            rate_limit_wait(&headers(&[("retry-after", "7")]), &json!(null)),
            Duration::from_secs(7)
        );
        assert_eq!(
            rate_limit_wait(&HeaderMap::new(), &json!({})),
            Duration::from_secs(1)
        );
        assert_eq!(
            rate_limit_wait(
                &headers(&[("retry-after", "-3")]),
                &json!({"retry_after": "x"})
            ),
            Duration::from_secs(1)
        );
        assert_eq!(
            rate_limit_wait(&HeaderMap::new(), &json!({"retry_after": 1e300})),
            Duration::from_secs(3600)
        );
    }
}
