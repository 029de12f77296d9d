//! Slack request signing (HTTP mode): `X-Slack-Signature` is `v0=` + hex
//! HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` with the app's
//! signing secret; requests older or newer than 5 minutes are replays.
//! <https://api.slack.com/authentication/verifying-requests-from-slack>

use chrono::{DateTime, Utc};

use crate::ci::signature::{hmac_hex, verify_hex};

pub const SIGNATURE_HEADER: &str = "x-slack-signature";
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// Slack's replay window.
const MAX_AGE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("no X-Slack-Signature or X-Slack-Request-Timestamp header")]
    Missing,
    #[error("the timestamp is more than 5 minutes from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let parts: [&[u8]; 4] = [b"v0:", timestamp.as_bytes(), b":", body];
    format!("v0={}", hmac_hex(secret.as_bytes(), &parts))
}

/// Checks a request before anything reads its body.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SigningError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SigningError::Missing);
    };
    let Some(given) = signature.trim().strip_prefix("v0=") else {
        return Err(SigningError::Mismatch);
    };
    let parts: [&[u8]; 4] = [b"v0:", timestamp.as_bytes(), b":", body];
    if secret.is_empty() || !verify_hex(secret.as_bytes(), &parts, given) {
        return Err(SigningError::Mismatch);
    }
    let sent = timestamp
        .trim()
        .parse::<i64>()
        .map_err(|_| SigningError::Stale)?;
    if !crate::ci::signature::within_window(now.timestamp(), sent, MAX_AGE_SECS) {
        return Err(SigningError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    /// Slack's documented example ("Verifying requests from Slack").
    #[test]
    fn matches_slacks_documented_example() {
        assert_eq!(sign(SECRET, TIMESTAMP, BODY.as_bytes()), SIGNATURE);
        let now = at(1531420618 + 60);
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                now
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_missing_stale_and_wrong_signatures() {
        let now = at(1531420618);
        let body = BODY.as_bytes();
        assert_eq!(
            verify(SECRET, None, Some(SIGNATURE), body, now),
            Err(SigningError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some(TIMESTAMP), None, body, now),
            Err(SigningError::Missing)
        );
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                body,
                at(1531420618 + 301)
            ),
            Err(SigningError::Stale)
        );
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                b"text=deploy",
                now
            ),
            Err(SigningError::Mismatch)
        );
        assert_eq!(
            verify(
                "another secret",
                Some(TIMESTAMP),
                Some(SIGNATURE),
                body,
                now
            ),
            Err(SigningError::Mismatch)
        );
        let bare = SIGNATURE.trim_start_matches("v0=");
        assert_eq!(
            verify(SECRET, Some(TIMESTAMP), Some(bare), body, now),
            Err(SigningError::Mismatch)
        );
        assert_eq!(
            verify("", Some(TIMESTAMP), Some(SIGNATURE), body, now),
            Err(SigningError::Mismatch)
        );
    }
}
