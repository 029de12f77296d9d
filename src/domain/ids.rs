//! Validated identifiers: release ids, versions, names, users and channels.
//!
//! Each is built through a fallible `parse`, so past the adapter nothing
//! re-checks them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value could not become an identifier; the text is shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidId(pub String);

/// A release number, shown as `R-42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReleaseId(u64);

impl ReleaseId {
    pub fn new(number: u64) -> Self {
        ReleaseId(number)
    }

    pub fn number(self) -> u64 {
        self.0
    }

    /// Accepts `R-42`, `r-42`, `#42` and `42`.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let digits = text
            .strip_prefix("R-")
            .or_else(|| text.strip_prefix("r-"))
            .or_else(|| text.strip_prefix('#'))
            .unwrap_or(text);
        match digits.parse::<u64>() {
            Ok(number) if number > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(ReleaseId(number))
            }
            _ => Err(InvalidId(format!(
                "`{text}` is not a release id; release ids look like R-42"
            ))),
        }
    }
}

impl fmt::Display for ReleaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R-{}", self.0)
    }
}

impl TryFrom<String> for ReleaseId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ReleaseId::parse(&value)
    }
}

impl From<ReleaseId> for String {
    fn from(id: ReleaseId) -> String {
        id.to_string()
    }
}

/// A version to ship: `2.4.0`, `v2.4.0`, `2026.11.3`, `1.2.3-rc.1+build.7`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version(String);

impl Version {
    const MAX_LEN: usize = 64;

    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let problem = || {
            InvalidId(format!(
                "`{text}` is not a version: expected numbers separated by dots, like 2.4.0 \
                 (a leading v and a suffix such as -rc.1 are fine)"
            ))
        };
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(problem());
        }
        let unprefixed = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        let (core, suffix) = match unprefixed.find(['-', '+']) {
            Some(at) => unprefixed.split_at(at),
            None => (unprefixed, ""),
        };
        let core_ok = {
            let parts: Vec<&str> = core.split('.').collect();
            (1..=4).contains(&parts.len())
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        let suffix_ok = suffix.is_empty()
            || suffix[1..]
                .split(['.', '-', '+'])
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if core_ok && suffix_ok {
            Ok(Version(text.to_string()))
        } else {
            Err(problem())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Version {
    /// The numbers in it, in order (`v2.4.0-rc.1` → 2, 4, 0, 1): enough to
    /// tell which of two versions of one service is the later.
    pub fn numbers(&self) -> Vec<u64> {
        self.0
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|part| part.parse().ok())
            .collect()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Version {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Version::parse(&value)
    }
}

impl From<Version> for String {
    fn from(version: Version) -> String {
        version.0
    }
}

/// A service or environment name: lowercase letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    const MAX_LEN: usize = 64;

    /// Names are case-insensitive: `API` and `api` are the same service.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let lower = text.to_ascii_lowercase();
        let valid = !lower.is_empty()
            && lower.len() <= Self::MAX_LEN
            && lower.as_bytes()[0].is_ascii_alphanumeric()
            && lower
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if valid {
            Ok(Name(lower))
        } else {
            Err(InvalidId(format!(
                "`{text}` is not a valid name: use letters, digits, - and _ (at most 64)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Name {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Name::parse(&value)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

/// A person on a platform: `shell:alice`, `slack:U024BE7LH`, `discord:80351110224678912`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserRef(String);

impl UserRef {
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        match split_platform(text) {
            Some((platform, id)) if !id.chars().any(char::is_whitespace) && id.len() <= 128 => {
                Ok(UserRef(format!("{platform}:{id}")))
            }
            _ => Err(InvalidId(format!(
                "`{text}` is not a user: expected platform:id, like shell:alice or slack:U024BE7LH"
            ))),
        }
    }

    /// The platform part: `shell`, `slack`, `discord`.
    pub fn platform(&self) -> &str {
        self.0.split_once(':').map_or("", |(p, _)| p)
    }

    /// The id on its platform: `alice`, `U024BE7LH`.
    pub fn local(&self) -> &str {
        self.0.split_once(':').map_or(&self.0, |(_, id)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A group rather than a person: a Slack user group by handle
    /// (`slack:@release-team`) or a Discord guild role (`discord:role:123`).
    pub fn is_group(&self) -> bool {
        let local = self.local();
        local.starts_with('@') || local.starts_with("role:")
    }
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UserRef {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        UserRef::parse(&value)
    }
}

impl From<UserRef> for String {
    fn from(user: UserRef) -> String {
        user.0
    }
}

/// A channel on a platform: `shell:#releases`, `slack:C0RELEASES`, `discord:1234`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChannelRef(String);

impl ChannelRef {
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        match split_platform(text) {
            Some((platform, id)) if !id.chars().any(char::is_whitespace) && id.len() <= 128 => {
                Ok(ChannelRef(format!("{platform}:{id}")))
            }
            _ => Err(InvalidId(format!(
                "`{text}` is not a channel: expected platform:id, like shell:#releases or slack:C0RELEASES"
            ))),
        }
    }

    pub fn platform(&self) -> &str {
        self.0.split_once(':').map_or("", |(p, _)| p)
    }

    pub fn local(&self) -> &str {
        self.0.split_once(':').map_or(&self.0, |(_, id)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ChannelRef {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ChannelRef::parse(&value)
    }
}

impl From<ChannelRef> for String {
    fn from(channel: ChannelRef) -> String {
        channel.0
    }
}

fn split_platform(text: &str) -> Option<(&str, &str)> {
    let (platform, id) = text.split_once(':')?;
    let platform_ok =
        !platform.is_empty() && platform.bytes().all(|b| b.is_ascii_lowercase()) && !id.is_empty();
    platform_ok.then_some((platform, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_ids_accept_the_usual_spellings() {
        for text in ["R-42", "r-42", "#42", "42"] {
            assert_eq!(ReleaseId::parse(text).unwrap(), ReleaseId::new(42));
        }
        assert_eq!(ReleaseId::new(7).to_string(), "R-7");
    }

    #[test]
    fn release_ids_reject_zero_signs_and_words() {
        for text in ["R-0", "R--1", "R-+1", "api", "", "R-"] {
            assert!(ReleaseId::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn versions_accept_semver_and_calendar_styles() {
        for text in [
            "2.4.0",
            "v2.4.0",
            "2026.11.3",
            "1.2.3-rc.1",
            "1.2.3+build.7",
            "10",
            "1.2.3.4",
        ] {
            assert!(Version::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn versions_reject_malformed_text() {
        for text in [
            "2..4",
            "abc",
            "1.2.3.4.5",
            "1.2.3-",
            "1.2-rc..1",
            "",
            ".1",
            "1.2.x",
        ] {
            assert!(Version::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn names_are_lowercased_and_checked() {
        assert_eq!(Name::parse("API").unwrap().as_str(), "api");
        assert!(Name::parse("-api").is_err());
        assert!(Name::parse("my api").is_err());
    }

    #[test]
    fn users_and_channels_need_a_platform() {
        let user = UserRef::parse("shell:alice").unwrap();
        assert_eq!((user.platform(), user.local()), ("shell", "alice"));
        assert!(UserRef::parse("alice").is_err());
        assert!(UserRef::parse("shell:").is_err());
        assert_eq!(
            ChannelRef::parse("shell:#releases").unwrap().local(),
            "#releases"
        );
    }
}
