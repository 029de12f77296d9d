//! The outboxes (announcements, digests, CI jobs), the posts they made, and the
//! claims and leases that share them between instances, on this backend.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;

impl OutboxStore for SledStore {
    fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Arc<Announcement>)>> {
        let mut out = Vec::new();
        for item in self.tree(OUTBOX_NOTIFY).iter().take(limit) {
            let (key, bytes) = item.map_err(storage)?;
            let key = keys::u64_from(&key);
            let announcement = match self.announcements.get(key, &bytes) {
                Some(known) => known,
                None => {
                    let read: Arc<Announcement> = Arc::new(decode("announcement", &bytes)?);
                    self.announcements.keep(key, bytes, read.clone());
                    read
                }
            };
            out.push((key, announcement));
        }
        Ok(out)
    }

    fn claim_announcements(
        &self,
        _platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Arc<Announcement>)>> {
        self.pending_announcements(limit)
    }

    fn posted(&self, id: ReleaseId, channel: &ChannelRef) -> StoreResult<Option<String>> {
        Ok(self
            .tree(POSTED)
            .get(keys::posted(id, channel.as_str()))
            .map_err(storage)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn all_posted(&self) -> StoreResult<Vec<(ReleaseId, ChannelRef, String)>> {
        let mut out = Vec::new();
        for item in self.tree(POSTED).iter() {
            let (key, value) = item.map_err(storage)?;
            let id = key
                .get(..8)
                .and_then(keys::release_from)
                .ok_or_else(|| StoreError::Corrupt("posted key".into()))?;
            let channel = ChannelRef::parse(&String::from_utf8_lossy(&key[8..]))
                .map_err(|e| StoreError::Corrupt(format!("posted key: {e}")))?;
            out.push((id, channel, String::from_utf8_lossy(&value).into_owned()));
        }
        Ok(out)
    }

    /// Plain writes under the store's one writer rather than a transaction:
    /// this runs once per channel per step. The caller flushes after a
    /// round of deliveries (or leaves it to the next commit's flush).
    fn delivered(
        &self,
        key: u64,
        id: ReleaseId,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<()> {
        let posted = keys::posted(id, channel.as_str());
        let _writing = self.write_lock();
        let known = self.tree(POSTED).get(&posted).map_err(storage)?;
        if known.as_deref() != Some(message.as_bytes()) {
            if !message.is_empty() {
                let thread = keys::thread(channel.as_str(), message);
                self.tree(THREADS)
                    .insert(thread, &keys::release(id))
                    .map_err(storage)?;
            }
            self.tree(POSTED)
                .insert(&posted, message.as_bytes())
                .map_err(storage)?;
        }
        if self
            .posting_marks
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.tree(POSTING).remove(posted).map_err(storage)?;
        }
        self.tree(OUTBOX_NOTIFY)
            .remove(key.to_be_bytes())
            .map_err(storage)?;
        self.announcements.forget(key);
        Ok(())
    }

    fn begin_post(
        &self,
        id: ReleaseId,
        channel: &ChannelRef,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let key = keys::posted(id, channel.as_str());
        let tree = self.tree(POSTING);
        let writing = self.write_lock();
        if let Some(earlier) = tree.get(&key).map_err(storage)? {
            // A mark from before marks carried their time (one byte) reads
            // as "long ago": the lookup then pages as far as it may.
            let millis = <[u8; 8]>::try_from(earlier.as_ref()).map_or(0, i64::from_be_bytes);
            return Ok(Some(
                DateTime::from_timestamp_millis(millis).unwrap_or(DateTime::UNIX_EPOCH),
            ));
        }
        // The platform's clock judges the lookup, so this is the real time.
        let now = Utc::now().timestamp_millis();
        self.posting_marks
            .store(true, std::sync::atomic::Ordering::Relaxed);
        tree.insert(key, &now.to_be_bytes()[..]).map_err(storage)?;
        drop(writing);
        self.flush()?;
        Ok(None)
    }

    fn release_for_thread(
        &self,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<Option<ReleaseId>> {
        Ok(self
            .tree(THREADS)
            .get(keys::thread(channel.as_str(), message))
            .map_err(storage)?
            .and_then(|bytes| keys::release_from(&bytes)))
    }

    fn pending_digests(&self, limit: usize) -> StoreResult<Vec<(u64, Digest)>> {
        self.outbox(OUTBOX_DIGEST, "digest", limit)
    }

    fn claim_digests(
        &self,
        _platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Digest)>> {
        self.pending_digests(limit)
    }

    fn digest_delivered(&self, key: u64) -> StoreResult<()> {
        let _writing = self.write_lock();
        self.tree(OUTBOX_DIGEST)
            .remove(key.to_be_bytes())
            .map_err(storage)?;
        Ok(())
    }

    fn jobs(&self) -> StoreResult<Vec<CiJob>> {
        self.values(OUTBOX_CI, "ci job")
    }

    fn claim_jobs(&self) -> StoreResult<Vec<CiJob>> {
        self.jobs()
    }

    fn outbox_depths(&self) -> StoreResult<(usize, usize)> {
        Ok((
            self.tree(OUTBOX_NOTIFY).len() + self.tree(OUTBOX_DIGEST).len(),
            self.tree(OUTBOX_CI).len(),
        ))
    }

    /// One process holds the data dir, so it holds every lease.
    fn hold_lease(&self, _name: &str) -> StoreResult<Option<u64>> {
        Ok(Some(1))
    }

    fn release_claims(&self) -> StoreResult<()> {
        Ok(())
    }

    fn lease_counts(&self) -> LeaseCounts {
        LeaseCounts::default()
    }
}

/// The announcements this store committed or read, decoded, by key, each
/// with its bytes: a read whose bytes differ (a key reused after an aborted
/// transaction) decodes again. At most `DECODED_MAX` kept; a delivered
/// entry's goes.
#[derive(Default)]
pub(super) struct Decoded(std::sync::Mutex<HashMap<u64, (::sled::IVec, Arc<Announcement>)>>);

const DECODED_MAX: usize = 4096;

impl Decoded {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (::sled::IVec, Arc<Announcement>)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: u64, bytes: &::sled::IVec) -> Option<Arc<Announcement>> {
        match self.lock().get(&key) {
            Some((kept, announcement)) if kept == bytes => Some(announcement.clone()),
            _ => None,
        }
    }

    pub(super) fn keep(&self, key: u64, bytes: ::sled::IVec, announcement: Arc<Announcement>) {
        let mut kept = self.lock();
        if kept.len() < DECODED_MAX {
            kept.insert(key, (bytes, announcement));
        }
    }

    fn forget(&self, key: u64) {
        self.lock().remove(&key);
    }
}
