//! The append-only audit log: each entry carries the hash of the one before,
//! so that editing or dropping an entry breaks the chain at that point.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::ids::{ReleaseId, UserRef};
use crate::domain::release::ReleaseStatus;

/// The hash the first entry points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the engine records; the store numbers and chains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: DateTime<Utc>,
    pub actor: UserRef,
    pub action: String,
    pub release: Option<ReleaseId>,
    pub before: Option<ReleaseStatus>,
    pub after: Option<ReleaseStatus>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: UserRef,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<ReleaseStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<ReleaseStatus>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    pub fn chain(seq: u64, prev_hash: String, draft: AuditDraft) -> AuditEntry {
        let mut entry = AuditEntry::unhashed(seq, prev_hash, draft);
        entry.hash = entry.computed_hash();
        entry
    }

    /// `chain`, with the entry's JSON as well, from one serialization: the
    /// bytes the hash covers are the entry's with `hash` empty, and `hash`
    /// is the last field.
    pub fn chain_encoded(seq: u64, prev_hash: String, draft: AuditDraft) -> (AuditEntry, Vec<u8>) {
        let mut entry = AuditEntry::unhashed(seq, prev_hash, draft);
        let mut bytes = serde_json::to_vec(&entry).expect("audit entries always serialize");
        entry.hash = hex::encode(Sha256::digest(&bytes));
        let tail = br#""hash":""}"#;
        debug_assert!(bytes.ends_with(tail), "hash is the last field");
        bytes.truncate(bytes.len() - 2);
        bytes.extend_from_slice(entry.hash.as_bytes());
        bytes.extend_from_slice(br#""}"#);
        (entry, bytes)
    }

    fn unhashed(seq: u64, prev_hash: String, draft: AuditDraft) -> AuditEntry {
        AuditEntry {
            seq,
            at: draft.at,
            actor: draft.actor,
            action: draft.action,
            release: draft.release,
            before: draft.before,
            after: draft.after,
            detail: draft.detail,
            prev_hash,
            hash: String::new(),
        }
    }

    /// SHA-256 over the entry serialized with an empty `hash`, written
    /// straight into the hasher.
    pub fn computed_hash(&self) -> String {
        let unhashed = Unhashed {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            release: self.release,
            before: self.before,
            after: self.after,
            detail: &self.detail,
            prev_hash: &self.prev_hash,
            hash: "",
        };
        let mut hasher = Hashing(Sha256::new());
        serde_json::to_writer(&mut hasher, &unhashed).expect("audit entries always serialize");
        hex::encode(hasher.0.finalize())
    }

    /// `2026-11-26 13:05 UTC  shell:bob  approve  R-1  requested → approved  looks good`
    pub fn to_line(&self) -> String {
        let transition = match (self.before, self.after) {
            (Some(b), Some(a)) if a != b => format!("{b} → {a}"),
            (None, Some(a)) => format!("→ {a}"),
            (Some(b), _) => b.to_string(),
            _ => String::new(),
        };
        let release = self.release.map(|r| r.to_string()).unwrap_or_default();
        let line = format!(
            "#{} {} UTC  {}  {}  {}  {}  {}",
            self.seq,
            self.at.format("%Y-%m-%d %H:%M:%S"),
            self.actor,
            self.action,
            release,
            transition,
            self.detail
        );
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// An entry as its hash covers it: the same fields, in the same order and
/// with the same omissions as `AuditEntry`'s JSON, borrowed.
#[derive(Serialize)]
struct Unhashed<'a> {
    seq: u64,
    at: &'a DateTime<Utc>,
    actor: &'a UserRef,
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<ReleaseId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<ReleaseStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<ReleaseStatus>,
    detail: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
}

/// Serialized bytes go to the hasher, not to a buffer.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where a chain stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: u64,
    pub why: String,
}

/// Walks entries in order and returns the first one that does not hold.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, BrokenLink> {
    let mut prev_hash = GENESIS.to_string();
    let mut count = 0;
    for (expected_seq, entry) in (1u64..).zip(entries) {
        if entry.seq != expected_seq {
            return Err(BrokenLink {
                seq: entry.seq,
                why: format!("expected entry #{expected_seq} here (an entry is missing)"),
            });
        }
        if entry.prev_hash != prev_hash {
            return Err(BrokenLink {
                seq: entry.seq,
                why: "it does not point to the previous entry's hash".to_string(),
            });
        }
        if entry.computed_hash() != entry.hash {
            return Err(BrokenLink {
                seq: entry.seq,
                why: "its content does not match its hash (it was edited)".to_string(),
            });
        }
        prev_hash = entry.hash.clone();
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(action: &str) -> AuditDraft {
        AuditDraft {
            at: Utc::now(),
            actor: UserRef::parse("shell:bob").unwrap(),
            action: action.to_string(),
            release: Some(ReleaseId::new(1)),
            before: Some(ReleaseStatus::Requested),
            after: Some(ReleaseStatus::Approved),
            detail: String::new(),
        }
    }

    /// The hash as stores written before kept it: the whole entry, cloned
    /// with an empty hash, serialized to bytes.
    fn hash_as_before(entry: &AuditEntry) -> String {
        let mut unhashed = entry.clone();
        unhashed.hash.clear();
        hex::encode(Sha256::digest(serde_json::to_vec(&unhashed).unwrap()))
    }

    #[test]
    fn an_entry_encoded_while_chained_is_its_json_with_the_same_hash() {
        let mut bare = draft("grant");
        (bare.release, bare.before, bare.after) = (None, None, None);
        bare.detail = "quote \" and \\ and ünïcode".to_string();
        for draft in [draft("approve"), bare] {
            let chained = AuditEntry::chain(9, GENESIS.to_string(), draft.clone());
            let (entry, bytes) = AuditEntry::chain_encoded(9, GENESIS.to_string(), draft);
            assert_eq!(entry, chained);
            assert_eq!(bytes, serde_json::to_vec(&chained).unwrap());
        }
    }

    #[test]
    fn the_hash_covers_the_same_bytes_as_before() {
        let full = AuditEntry::chain(7, GENESIS.to_string(), draft("approve"));
        let mut bare = draft("grant");
        (bare.release, bare.before, bare.after) = (None, None, None);
        bare.detail = "role \"admin\" → ünïcode".to_string();
        let bare = AuditEntry::chain(8, full.hash.clone(), bare);
        for entry in [full, bare] {
            assert_eq!(entry.hash, hash_as_before(&entry));
        }
    }

    fn chain_of(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry::chain(seq, prev.clone(), draft("approve"));
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain_of(3)), Ok(3));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut entries = chain_of(3);
        entries[1].actor = UserRef::parse("shell:mallory").unwrap();
        assert_eq!(verify(&entries).unwrap_err().seq, 2);
    }

    #[test]
    fn a_dropped_entry_is_named() {
        let mut entries = chain_of(3);
        entries.remove(1);
        assert_eq!(verify(&entries).unwrap_err().seq, 3);
    }
}
