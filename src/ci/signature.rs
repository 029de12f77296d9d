//! GitHub-style HMAC signatures: `sha256=` + hex HMAC-SHA256 of the raw body.
//! Used to sign outgoing webhooks and to check incoming CI callbacks.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const HEADER: &str = "X-Hub-Signature-256";

pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a `sha256=<hex>` header value in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_part) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_part) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
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
}
