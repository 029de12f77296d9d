//! `[dashboard]` and `[http] insecure_cookies`: where sign-in links point,
//! the wall screen's read-only token, and whether cookies may go over
//! plain http (localhost).

use serde::Deserialize;

use super::validate::Problems;
use super::Secret;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDashboard {
    /// The pages' public address (`https://releases.example.com`), for
    /// sign-in links; default `http://<[http] listen>`.
    pub url: Option<String>,
    /// The environment variable holding a wall screen's read-only token.
    pub token_env: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Without a trailing slash; `None` until known (then `[http] listen`).
    pub url: Option<String>,
    pub wall_token: Option<Secret>,
    /// Cookies without `Secure` and the `__Host-` prefix (plain http on
    /// localhost).
    pub insecure_cookies: bool,
}

pub(super) fn dashboard(
    raw: &RawDashboard,
    insecure_cookies: bool,
    problems: &mut Problems<'_>,
) -> Dashboard {
    let url = raw
        .url
        .as_ref()
        .map(|u| u.trim_end_matches('/').to_string());
    if let Some(url) = &url {
        match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            _ => problems.add(
                &["dashboard", "url"],
                format!("`{url}` is not an http(s) URL"),
            ),
        }
    }
    let wall_token = raw
        .token_env
        .as_ref()
        .and_then(|var| match std::env::var(var) {
            Ok(token) if token.len() >= 16 => Some(Secret::new(token)),
            Ok(_) => {
                problems.add(
                    &["dashboard", "token_env"],
                    format!("{var} is shorter than 16 characters: too easy to guess"),
                );
                None
            }
            Err(_) => {
                problems.add(
                    &["dashboard", "token_env"],
                    format!("environment variable {var} is not set"),
                );
                None
            }
        });
    Dashboard {
        url,
        wall_token,
        insecure_cookies,
    }
}
