//! HMAC-SHA256 signatures. GitHub style (`sha256=` + hex HMAC of the raw
//! body) signs outgoing webhooks and checks incoming CI callbacks; the
//! helpers over several parts also serve Slack's `v0:{timestamp}:{body}`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const HEADER: &str = "X-Hub-Signature-256";

pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(secret, &[body]))
}

/// Hex HMAC-SHA256 of the parts written one after another.
pub fn hmac_hex(secret: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(mac_of(secret, parts).finalize().into_bytes())
}

/// Checks a hex HMAC-SHA256 of the parts, in constant time.
pub fn verify_hex(secret: &[u8], parts: &[&[u8]], given_hex: &str) -> bool {
    let Ok(expected) = hex::decode(given_hex) else {
        return false;
    };
    mac_of(secret, parts).verify_slice(&expected).is_ok()
}

fn mac_of(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// Checks a `sha256=<hex>` header value in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_part) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    verify_hex(secret, &[body], hex_part)
}

/// Whether a signed request's timestamp `sent` (Unix seconds) lies within
/// `window` seconds of `now`, either way. Checked arithmetic: a timestamp
/// near `i64::MIN` or `i64::MAX` is outside, never wrapped inside.
pub fn within_window(now: i64, sent: i64, window: i64) -> bool {
    now.checked_sub(sent)
        .and_then(i64::checked_abs)
        .is_some_and(|age| age <= window)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example ("Validating webhook deliveries").
    #[test]
    fn matches_githubs_documented_example() {
        let signature = sign(b"It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            signature,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(verify(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            &signature
        ));
    }

    #[test]
    fn rejects_other_secrets_bodies_and_shapes() {
        let signature = sign(b"secret", b"body");
        assert!(!verify(b"other", b"body", &signature));
        assert!(!verify(b"secret", b"body!", &signature));
        assert!(!verify(
            b"secret",
            b"body",
            signature.trim_start_matches("sha256=")
        ));
        assert!(!verify(b"secret", b"body", "sha256=zz"));
    }

    #[test]
    fn the_replay_window_is_checked_without_wrapping_at_the_edges() {
        let now = 1_764_151_200;
        assert!(within_window(now, now, 300));
        assert!(within_window(now, now - 300, 300));
        assert!(within_window(now, now + 300, 300));
        assert!(!within_window(now, now - 301, 300));
        assert!(!within_window(now, now + 301, 300));
        // now - 2^63 and friends: wrapping arithmetic would land inside the window.
        assert!(!within_window(now, now.wrapping_sub(i64::MIN), 300));
        assert!(!within_window(now, i64::MIN, 300));
        assert!(!within_window(now, i64::MIN + now, 300));
        assert!(!within_window(now, i64::MAX, 300));
        assert!(!within_window(i64::MIN, i64::MAX, 300));
    }
}
