//! The outboxes (announcements, digests, CI jobs), the posts they made, and the
//! claims and leases that share them between instances, on this backend.

use std::sync::Arc;

use super::*;
use crate::store::prelude::*;

impl OutboxStore for PgStore {
    fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Arc<Announcement>)>> {
        let rows = self.rows(
            "SELECT seq, body FROM outbox_notify ORDER BY seq LIMIT $1",
            params![cap(limit)],
        )?;
        shared(keyed("announcement", &rows)?)
    }

    fn claim_announcements(
        &self,
        platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Arc<Announcement>)>> {
        let rows = self.claim(Outbox::Notify, platforms)?;
        let mut entries = keyed("announcement", &rows)?;
        entries.truncate(limit);
        shared(entries)
    }

    fn posted(&self, id: ReleaseId, channel: &ChannelRef) -> StoreResult<Option<String>> {
        let rows = self.rows(
            "SELECT message FROM posted WHERE release = $1 AND channel = $2",
            params![id.number() as i64, channel.to_string()],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn all_posted(&self) -> StoreResult<Vec<(ReleaseId, ChannelRef, String)>> {
        let rows = self.rows(
            "SELECT release, channel, message FROM posted ORDER BY release, channel",
            params![],
        )?;
        rows.iter()
            .map(|row| {
                let channel = ChannelRef::parse(&row.get::<_, String>(1))
                    .map_err(|e| corrupt(format!("posted channel: {e}")))?;
                Ok((
                    ReleaseId::new(row.get::<_, i64>(0) as u64),
                    channel,
                    row.get(2),
                ))
            })
            .collect()
    }

    /// One statement, so atomic: the message, the thread index, the end
    /// of the posting mark and the entry go together.
    fn delivered(
        &self,
        key: u64,
        id: ReleaseId,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<()> {
        self.execute(
            "WITH p AS (
                 INSERT INTO posted (release, channel, message) VALUES ($1, $2, $3)
                 ON CONFLICT (release, channel) DO UPDATE SET message = EXCLUDED.message
             ), t AS (
                 INSERT INTO threads (channel, message, release)
                 SELECT $2, $3, $1 WHERE $3 <> ''
                 ON CONFLICT (channel, message) DO UPDATE SET release = EXCLUDED.release
             ), g AS (
                 DELETE FROM posting WHERE release = $1 AND channel = $2
             )
             DELETE FROM outbox_notify WHERE seq = $4",
            params![
                id.number() as i64,
                channel.to_string(),
                message.to_string(),
                key as i64
            ],
        )?;
        Ok(())
    }

    fn begin_post(
        &self,
        id: ReleaseId,
        channel: &ChannelRef,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let lane = format!("{id}@{channel}");
        if !self.still_claimed(Outbox::Notify, &lane)? {
            return Err(StoreError::ClaimLost);
        }
        // Only this lane's holder gets here, so the read and the insert do
        // not race.
        let (release, channel) = (id.number() as i64, channel.to_string());
        let earlier = self.rows(
            "SELECT began FROM posting WHERE release = $1 AND channel = $2",
            params![release, channel.clone()],
        )?;
        if let Some(row) = earlier.first() {
            return Ok(Some(row.get(0)));
        }
        self.execute(
            "INSERT INTO posting (release, channel) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![release, channel],
        )?;
        Ok(None)
    }

    fn release_for_thread(
        &self,
        channel: &ChannelRef,
        message: &str,
    ) -> StoreResult<Option<ReleaseId>> {
        let rows = self.rows(
            "SELECT release FROM threads WHERE channel = $1 AND message = $2",
            params![channel.to_string(), message.to_string()],
        )?;
        Ok(rows
            .first()
            .map(|row| ReleaseId::new(row.get::<_, i64>(0) as u64)))
    }

    fn pending_digests(&self, limit: usize) -> StoreResult<Vec<(u64, Digest)>> {
        let rows = self.rows(
            "SELECT seq, body FROM outbox_digest ORDER BY seq LIMIT $1",
            params![cap(limit)],
        )?;
        keyed("digest", &rows)
    }

    fn claim_digests(&self, platforms: &[String], limit: usize) -> StoreResult<Vec<(u64, Digest)>> {
        let rows = self.claim(Outbox::Digest, platforms)?;
        let mut entries = keyed("digest", &rows)?;
        entries.truncate(limit);
        Ok(entries)
    }

    fn digest_delivered(&self, key: u64) -> StoreResult<()> {
        self.execute(
            "DELETE FROM outbox_digest WHERE seq = $1",
            params![key as i64],
        )?;
        Ok(())
    }

    fn jobs(&self) -> StoreResult<Vec<CiJob>> {
        bodies(
            "ci job",
            &self.rows("SELECT body FROM outbox_ci ORDER BY seq", params![])?,
        )
    }

    fn claim_jobs(&self) -> StoreResult<Vec<CiJob>> {
        bodies("ci job", &self.claim(Outbox::Ci, &[])?)
    }

    fn outbox_depths(&self) -> StoreResult<(usize, usize)> {
        let rows = self.rows(
            "SELECT (SELECT count(*) FROM outbox_notify) + (SELECT count(*) FROM outbox_digest),
                    (SELECT count(*) FROM outbox_ci)",
            params![],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Storage("no outbox depths".into()))?;
        Ok((row.get::<_, i64>(0) as usize, row.get::<_, i64>(1) as usize))
    }

    fn hold_lease(&self, name: &str) -> StoreResult<Option<u64>> {
        self.lease(name)
    }

    fn next_takeover(&self) -> StoreResult<Option<std::time::Duration>> {
        self.earliest_foreign_expiry()
    }

    fn release_claims(&self) -> StoreResult<()> {
        self.release_all()
    }

    fn lease_counts(&self) -> LeaseCounts {
        self.counts()
    }
}

fn shared(entries: Vec<(u64, Announcement)>) -> StoreResult<Vec<(u64, Arc<Announcement>)>> {
    Ok(entries
        .into_iter()
        .map(|(key, announcement)| (key, Arc::new(announcement)))
        .collect())
}
