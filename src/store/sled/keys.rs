//! Byte layouts of the store's keys. Big-endian numbers keep sled's
//! lexicographic order equal to numeric order.

use chrono::{DateTime, Utc};

use crate::domain::ids::{Name, ReleaseId, UserRef};
use crate::domain::outbox::{Timer, TimerKind};
use crate::domain::release::ReleaseStatus;

pub fn release(id: ReleaseId) -> [u8; 8] {
    id.number().to_be_bytes()
}

pub fn release_from(bytes: &[u8]) -> Option<ReleaseId> {
    let tail: [u8; 8] = bytes.get(bytes.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(ReleaseId::new(u64::from_be_bytes(tail)))
}

/// `[status][id]`
pub fn by_status(status: ReleaseStatus, id: ReleaseId) -> Vec<u8> {
    let mut key = vec![status.code()];
    key.extend_from_slice(&release(id));
    key
}

/// `[seconds since epoch, sign-flipped so negatives sort first][id]`
pub fn by_time(at: DateTime<Utc>, id: ReleaseId) -> Vec<u8> {
    let flipped = (at.timestamp() as u64) ^ (1 << 63);
    let mut key = flipped.to_be_bytes().to_vec();
    key.extend_from_slice(&release(id));
    key
}

/// `service \0 environment \0 [id]`
pub fn by_target(service: &Name, environment: &Name, id: ReleaseId) -> Vec<u8> {
    let mut key = target_prefix(service, environment);
    key.extend_from_slice(&release(id));
    key
}

pub fn target_prefix(service: &Name, environment: &Name) -> Vec<u8> {
    format!("{service}\0{environment}\0").into_bytes()
}

/// `user \0 [id]`
pub fn by_requester(user: &UserRef, id: ReleaseId) -> Vec<u8> {
    let mut key = user_prefix(user);
    key.extend_from_slice(&release(id));
    key
}

/// `user \0`: the prefix of a user's requester-index and grant keys.
pub fn user_prefix(user: &UserRef) -> Vec<u8> {
    format!("{user}\0").into_bytes()
}

/// `user \0 role`: a role granted in chat.
pub fn grant(user: &UserRef, role: &str) -> Vec<u8> {
    let mut key = user_prefix(user);
    key.extend_from_slice(role.as_bytes());
    key
}

/// `[release id][audit seq]`
pub fn audit_by_release(id: ReleaseId, seq: u64) -> Vec<u8> {
    let mut key = release(id).to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Which chat message carries a release's announcement in a channel.
pub fn posted(id: ReleaseId, channel: &str) -> Vec<u8> {
    let mut key = release(id).to_vec();
    key.extend_from_slice(channel.as_bytes());
    key
}

/// `channel\0message`: the release a chat message announces.
pub fn thread(channel: &str, message: &str) -> Vec<u8> {
    let mut key = channel.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(message.as_bytes());
    key
}

pub fn count(status: ReleaseStatus) -> Vec<u8> {
    format!("count:{status}").into_bytes()
}

pub const SCHEMA_VERSION: &[u8] = b"schema_version";
pub const NEXT_RELEASE_ID: &[u8] = b"next_release_id";
pub const AUDIT_HEAD: &[u8] = b"audit_head";
pub const NEXT_FREEZE_ID: &[u8] = b"next_freeze_id";
/// Every role granted in chat, as one record a transaction can read.
pub const GRANTS: &[u8] = b"grants";

/// `key \0 [slot, as in by_time]`: a scheduler slot that fired.
pub fn slot(key: &str, slot: DateTime<Utc>) -> Vec<u8> {
    let mut bytes = key.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(&by_time(slot, ReleaseId::new(0))[..8]);
    bytes
}

/// The version live in a service+environment.
pub fn live(service: &Name, environment: &Name) -> Vec<u8> {
    format!("live\0{service}\0{environment}").into_bytes()
}

/// The release whose CI job is running in a service+environment.
pub fn in_flight(service: &Name, environment: &Name) -> Vec<u8> {
    format!("busy\0{service}\0{environment}").into_bytes()
}

/// `[due, as in by_time][kind][release]`: the timer index.
pub fn timer(timer: &Timer) -> Vec<u8> {
    let mut key = by_time(timer.due, timer.release);
    key.insert(8, timer.kind.code());
    key
}

pub fn timer_from(key: &[u8]) -> Option<Timer> {
    let due_bits = u64::from_be_bytes(key.get(..8)?.try_into().ok()?) ^ (1 << 63);
    let due = DateTime::from_timestamp(due_bits as i64, 0)?;
    let kind = TimerKind::from_code(*key.get(8)?)?;
    Some(Timer {
        due,
        kind,
        release: release_from(key)?,
    })
}

pub fn u64_from(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// `kind \0 key` in the `records` tree.
pub fn record(kind: &str, key: &str) -> Vec<u8> {
    let mut bytes = record_prefix(kind);
    bytes.extend_from_slice(key.as_bytes());
    bytes
}

/// `kind \0`: every record of a kind.
pub fn record_prefix(kind: &str) -> Vec<u8> {
    let mut bytes = kind.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// `next_record_id \0 kind` in `meta`.
pub fn record_counter(kind: &str) -> Vec<u8> {
    let mut bytes = b"next_record_id\0".to_vec();
    bytes.extend_from_slice(kind.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_keys_sort_in_time_order() {
        let id = ReleaseId::new(1);
        let before_epoch = Utc.with_ymd_and_hms(1969, 1, 1, 0, 0, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert!(by_time(before_epoch, id) < by_time(later, id));
        assert_eq!(
            release_from(&by_time(later, ReleaseId::new(9))),
            Some(ReleaseId::new(9))
        );
    }
}
