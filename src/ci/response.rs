//! Turning a CI system's HTTP answer into "accepted", "try again" or "give up",
//! with the system's own words in the message.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// The CI system took the job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Where people can watch the run, when the system says.
    pub run_url: Option<String>,
    /// Jenkins: the queue item to follow until it becomes a build.
    pub follow: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 5xx, 429, timeouts, unreachable: worth another try.
    #[error("{why}")]
    Retry {
        after: Option<Duration>,
        why: String,
        /// No answer came (a timeout, a dropped connection): the system may
        /// have taken the job all the same, so the next try looks first.
        unanswered: bool,
    },
    /// Other 4xx: another try would get the same answer.
    #[error("{0}")]
    Fatal(String),
}

/// `401 from GitHub: Bad credentials`
pub fn describe(system: &str, status: StatusCode, body: &str) -> String {
    let said = system_message(body);
    if said.is_empty() {
        format!("{} from {system}", status.as_u16())
    } else {
        format!("{} from {system}: {said}", status.as_u16())
    }
}

/// The human part of an error body: GitHub's and GitLab's `message`, `error`
/// or `error_description`, else a short plain-text body (HTML is skipped).
fn system_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        for key in ["message", "error_description", "error"] {
            match value.get(key) {
                Some(serde_json::Value::String(text)) => return clip(text),
                Some(other @ serde_json::Value::Object(_))
                | Some(other @ serde_json::Value::Array(_)) => return clip(&other.to_string()),
                _ => {}
            }
        }
        return String::new();
    }
    let trimmed = body.trim();
    if trimmed.starts_with('<') {
        return String::new();
    }
    clip(trimmed.lines().next().unwrap_or_default())
}

fn clip(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Classifies a non-success answer.
pub fn failure(system: &str, status: StatusCode, headers: &HeaderMap, body: &str) -> SendError {
    let why = describe(system, status, body);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return SendError::Retry {
            after,
            why,
            unanswered: false,
        };
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return SendError::Retry {
            after: None,
            why,
            unanswered: false,
        };
    }
    SendError::Fatal(why)
}

/// Sends a prepared request and reads the answer: the headers and body of a
/// success (or of a status `also_ok` accepts), else a classified error.
pub async fn send(
    system: &str,
    request: reqwest::RequestBuilder,
    timeout: Duration,
    also_ok: impl Fn(StatusCode) -> bool,
) -> Result<(HeaderMap, String), SendError> {
    let response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| unreachable(system, &e, timeout))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() || also_ok(status) {
        Ok((headers, body))
    } else {
        Err(failure(system, status, &headers, &body))
    }
}

/// A string field of a JSON answer, such as GitHub's `html_url`.
pub fn json_field(body: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get(key)?.as_str().map(str::to_string)
}

/// Classifies a request that got no answer.
pub fn unreachable(system: &str, error: &reqwest::Error, timeout: Duration) -> SendError {
    let why = if error.is_timeout() {
        format!("no answer from {system} within {} s", timeout.as_secs())
    } else {
        // reqwest's text names the URL, never a header or body, so no secret.
        format!("could not reach {system}: {error}")
    };
    // A refused connection never reached the system; anything else may have.
    SendError::Retry {
        after: None,
        why,
        unanswered: !error.is_connect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_github_401_reads_like_github_said_it() {
        let body =
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#;
        let error = failure("GitHub", StatusCode::UNAUTHORIZED, &HeaderMap::new(), body);
        assert_eq!(
            error,
            SendError::Fatal("401 from GitHub: Bad credentials".into())
        );
    }

    #[test]
    fn a_429_honours_retry_after_and_5xx_retries() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        match failure("GitLab", StatusCode::TOO_MANY_REQUESTS, &headers, "") {
            SendError::Retry { after, why, .. } => {
                assert_eq!(after, Some(Duration::from_secs(7)));
                assert_eq!(why, "429 from GitLab");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            failure(
                "Jenkins",
                StatusCode::BAD_GATEWAY,
                &HeaderMap::new(),
                "<html>"
            ),
            SendError::Retry { after: None, .. }
        ));
    }
}
