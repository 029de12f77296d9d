//! `Backend` on PostgreSQL: transactions with retries, and the reads.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tokio_postgres::Row;

use super::bridge::{db_error, params, Param};
use super::claims::Outbox;
use super::tx::{from_json, PgTx};
use super::PgStore;
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer, TimerKind};
use crate::domain::release::{Release, ReleaseStatus};
use crate::store::audit::AuditEntry;
use crate::store::feed::Feed;
use crate::store::port::{Backend, Targets, Tx};
use crate::store::tx::{TxError, TxFailure, TxResult};
use crate::store::{Health, LeaseCounts, Page, StoreError, StoreResult};

/// Conflicting transactions are tried again this often at most.
const MAX_ATTEMPTS: u32 = 30;

/// Releases read per round trip when walking all of them.
const PAGE: i64 = 1000;

fn retryable(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    matches!(
        error.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
    )
}

/// A row limit as PostgreSQL takes it (`usize::MAX` means all).
fn cap(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn corrupt(why: String) -> StoreError {
    StoreError::Corrupt(why)
}

fn bodies<T: DeserializeOwned>(what: &str, rows: &[Row]) -> StoreResult<Vec<T>> {
    rows.iter()
        .map(|row| from_json(what, row, "body").map_err(corrupt))
        .collect()
}

fn keyed<T: DeserializeOwned>(what: &str, rows: &[Row]) -> StoreResult<Vec<(u64, T)>> {
    rows.iter()
        .map(|row| {
            let body = from_json(what, row, "body").map_err(corrupt)?;
            Ok((row.get::<_, i64>("seq") as u64, body))
        })
        .collect()
}

/// Walks a table in key order, `PAGE` rows per round trip: `fetch(after)`
/// reads the page after a key, `key` gives a row's.
fn paged<'a, T: 'a>(
    mut fetch: impl FnMut(i64) -> StoreResult<Vec<T>> + 'a,
    key: impl Fn(&T) -> i64 + 'a,
) -> Box<dyn Iterator<Item = StoreResult<T>> + 'a> {
    let mut after = 0i64;
    let mut page = Vec::new().into_iter();
    let mut done = false;
    Box::new(std::iter::from_fn(move || loop {
        if let Some(item) = page.next() {
            return Some(Ok(item));
        }
        if done {
            return None;
        }
        match fetch(after) {
            Ok(items) => {
                done = (items.len() as i64) < PAGE;
                if let Some(last) = items.last() {
                    after = key(last);
                }
                page = items.into_iter();
            }
            Err(error) => {
                done = true;
                return Some(Err(error));
            }
        }
    }))
}

fn name(text: String) -> StoreResult<Name> {
    Name::parse(&text).map_err(|e| corrupt(format!("name: {e}")))
}

fn timer(row: &Row) -> StoreResult<Timer> {
    let kind = TimerKind::from_code(row.get::<_, i16>(1) as u8)
        .ok_or_else(|| corrupt("timer kind".into()))?;
    Ok(Timer {
        due: row.get(0),
        kind,
        release: ReleaseId::new(row.get::<_, i64>(2) as u64),
    })
}

impl PgStore {
    fn rows(&self, sql: &'static str, params: Vec<Param>) -> StoreResult<Vec<Row>> {
        self.bridge.conn()?.query(sql, params)
    }

    fn releases(&self, sql: &'static str, params: Vec<Param>) -> StoreResult<Vec<Release>> {
        bodies("release", &self.rows(sql, params)?)
    }

    fn execute(&self, sql: &'static str, params: Vec<Param>) -> StoreResult<u64> {
        self.bridge.conn()?.execute(sql, params)
    }

    /// One try of a transaction: `Ok(None)` when it conflicted and should
    /// run again.
    fn attempt(&self, change: &mut dyn FnMut(&Tx<'_>) -> TxResult<()>) -> StoreResult<Option<()>> {
        let conn = self.bridge.conn()?;
        // ROLLBACK first: a connection given back mid-transaction (a
        // statement that outlived its wait) never carries it into ours.
        conn.batch("ROLLBACK; BEGIN ISOLATION LEVEL SERIALIZABLE")?
            .map_err(db_error)?;
        let outcome = change(&PgTx {
            conn: &conn,
            feed: &self.channel,
        });
        let failure = match outcome {
            Ok(()) => match conn.batch("COMMIT")? {
                Ok(()) => return Ok(Some(())),
                Err(error) if retryable(&error) => return Ok(None),
                Err(error) => return Err(db_error(error)),
            },
            Err(TxError(failure)) => failure,
        };
        let _ = conn.batch("ROLLBACK");
        match failure {
            TxFailure::Refused(refusal) => Err(StoreError::Refused(refusal)),
            TxFailure::Duplicate => Err(StoreError::Duplicate),
            TxFailure::Corrupt(why) => Err(StoreError::Corrupt(why)),
            TxFailure::Backend(error) => match error.downcast::<tokio_postgres::Error>() {
                Ok(error) if retryable(&error) => Ok(None),
                Ok(error) => Err(db_error(*error)),
                Err(other) => match other.downcast::<StoreError>() {
                    Ok(store) => Err(*store),
                    Err(other) => Err(StoreError::Storage(other.to_string())),
                },
            },
        }
    }
}

impl Backend for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    /// Every commit is durable in PostgreSQL; `durable` changes nothing.
    fn run(
        &self,
        change: &mut dyn FnMut(&Tx<'_>) -> TxResult<()>,
        _durable: bool,
    ) -> StoreResult<()> {
        for attempt in 0..MAX_ATTEMPTS {
            if self.attempt(change)?.is_some() {
                return Ok(());
            }
            // Conflicting instances back off by different amounts.
            let jitter = rand::random::<u64>() % (1 + 2 * u64::from(attempt));
            std::thread::sleep(Duration::from_millis(jitter));
        }
        Err(StoreError::Storage(format!(
            "a transaction conflicted {MAX_ATTEMPTS} times in a row; nothing was changed"
        )))
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn release(&self, id: ReleaseId) -> StoreResult<Option<Release>> {
        Ok(self
            .releases(
                "SELECT body FROM releases WHERE id = $1",
                params![id.number() as i64],
            )?
            .pop())
    }

    fn count(&self, status: ReleaseStatus) -> StoreResult<u64> {
        let rows = self.rows(
            "SELECT count(*) FROM releases WHERE status = $1",
            params![status.code() as i16],
        )?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    fn with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Page> {
        let releases = self.releases(
            "SELECT body FROM releases WHERE status = $1 ORDER BY id LIMIT $2",
            params![status.code() as i16, cap(limit)],
        )?;
        Ok(Page {
            releases,
            total: self.count(status)?,
        })
    }

    fn newest_with_status(&self, status: ReleaseStatus, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE status = $1 ORDER BY id DESC LIMIT $2",
            params![status.code() as i16, cap(limit)],
        )
    }

    fn requested_by(&self, user: &UserRef, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE requester = $1 ORDER BY id DESC LIMIT $2",
            params![user.to_string(), cap(limit)],
        )
    }

    fn newest(&self, limit: usize) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases ORDER BY id DESC LIMIT $1",
            params![cap(limit)],
        )
    }

    fn release_count(&self) -> StoreResult<u64> {
        let rows = self.rows(
            "SELECT value - 1 FROM counters WHERE name = 'next_release_id'",
            params![],
        )?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    fn all_releases(&self) -> Box<dyn Iterator<Item = StoreResult<Release>> + '_> {
        paged(
            move |after| {
                self.releases(
                    "SELECT body FROM releases WHERE id > $1 ORDER BY id LIMIT $2",
                    params![after, PAGE],
                )
            },
            |release: &Release| release.id.number() as i64,
        )
    }

    fn scheduled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Release>> {
        self.releases(
            "SELECT body FROM releases WHERE scheduled_at >= $1 AND scheduled_at < $2
             ORDER BY scheduled_at, id",
            params![from, to],
        )
    }

    fn audit_for(&self, id: ReleaseId) -> StoreResult<Vec<AuditEntry>> {
        let rows = self.rows(
            "SELECT entry AS body FROM audit WHERE release = $1 ORDER BY seq",
            params![id.number() as i64],
        )?;
        bodies("audit entry", &rows)
    }

    fn audit_log(&self) -> Box<dyn Iterator<Item = StoreResult<AuditEntry>> + '_> {
        paged(
            move |after| {
                let rows = self.rows(
                    "SELECT entry AS body FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                    params![after, PAGE],
                )?;
                bodies("audit entry", &rows)
            },
            |entry: &AuditEntry| entry.seq as i64,
        )
    }

    fn pending_announcements(&self, limit: usize) -> StoreResult<Vec<(u64, Announcement)>> {
        let rows = self.rows(
            "SELECT seq, body FROM outbox_notify ORDER BY seq LIMIT $1",
            params![cap(limit)],
        )?;
        keyed("announcement", &rows)
    }

    fn claim_announcements(
        &self,
        platforms: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(u64, Announcement)>> {
        let rows = self.claim(Outbox::Notify, platforms)?;
        let mut entries = keyed("announcement", &rows)?;
        entries.truncate(limit);
        Ok(entries)
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

    fn delivery_seen(&self, delivery: &str) -> StoreResult<bool> {
        Ok(!self
            .rows(
                "SELECT 1 FROM seen WHERE delivery = $1",
                params![delivery.to_string()],
            )?
            .is_empty())
    }

    fn all_seen(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows = self.rows("SELECT delivery, at FROM seen ORDER BY delivery", params![])?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn first_delivery(&self, delivery: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        Ok(self.execute(
            "INSERT INTO seen (delivery, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![delivery.to_string(), now],
        )? == 1)
    }

    fn forget_deliveries(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(self.execute("DELETE FROM seen WHERE at < $1", params![before])? as usize)
    }

    fn listen(&self, feed: Feed) {
        let (config, connector) = self.listener.clone();
        self.bridge.spawn(super::listen::run(
            config,
            connector,
            self.channel.clone(),
            feed,
        ));
    }

    fn forget_changes(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(self.execute("DELETE FROM changes WHERE at < $1", params![before])? as usize)
    }

    fn granted_roles(&self, user: &UserRef) -> StoreResult<BTreeSet<String>> {
        let rows = self.rows(
            "SELECT role FROM roles WHERE user_ref = $1",
            params![user.to_string()],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn grants(&self) -> StoreResult<Vec<(UserRef, String)>> {
        let rows = self.rows(
            "SELECT user_ref, role FROM roles ORDER BY user_ref, role",
            params![],
        )?;
        rows.iter()
            .map(|row| {
                let user = UserRef::parse(&row.get::<_, String>(0))
                    .map_err(|e| corrupt(format!("role grant: {e}")))?;
                Ok((user, row.get(1)))
            })
            .collect()
    }

    fn freezes(&self, environment: Option<&Name>) -> StoreResult<Vec<Freeze>> {
        let rows = match environment {
            Some(environment) => self.rows(
                "SELECT body FROM freezes WHERE environment = $1 ORDER BY starts, id",
                params![environment.to_string()],
            )?,
            None => self.rows("SELECT body FROM freezes ORDER BY starts, id", params![])?,
        };
        bodies("freeze", &rows)
    }

    fn lock(&self, service: &Name, environment: &Name) -> StoreResult<Option<Lock>> {
        let rows = self.rows(
            "SELECT body FROM locks WHERE service = $1 AND environment = $2",
            params![service.to_string(), environment.to_string()],
        )?;
        Ok(bodies("lock", &rows)?.pop())
    }

    fn targets(&self) -> StoreResult<Targets> {
        let pairs = |sql: &'static str| -> StoreResult<Vec<(Name, Name, Row)>> {
            self.rows(sql, params![])?
                .into_iter()
                .map(|row| Ok((name(row.get(0))?, name(row.get(1))?, row)))
                .collect()
        };
        fn decode<T: DeserializeOwned>(
            what: &str,
            rows: Vec<(Name, Name, Row)>,
        ) -> StoreResult<Vec<(Name, Name, T)>> {
            rows.into_iter()
                .map(|(s, e, row)| Ok((s, e, from_json(what, &row, "body").map_err(corrupt)?)))
                .collect()
        }
        Ok(Targets {
            locks: decode(
                "lock",
                pairs("SELECT service, environment, body FROM locks ORDER BY 1, 2")?,
            )?,
            live: decode(
                "live version",
                pairs("SELECT service, environment, body FROM live ORDER BY 1, 2")?,
            )?,
            in_flight: pairs("SELECT service, environment, release FROM in_flight ORDER BY 1, 2")?
                .into_iter()
                .map(|(s, e, row)| (s, e, ReleaseId::new(row.get::<_, i64>(2) as u64)))
                .collect(),
        })
    }

    fn last_fired(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let rows = self.rows(
            "SELECT fired_at FROM scheduler WHERE key = $1",
            params![key.to_string()],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn all_fired(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows = self.rows(
            "SELECT key, fired_at FROM scheduler ORDER BY key",
            params![],
        )?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Timer>> {
        // Whole seconds, as the sled index keeps them.
        let end = now + chrono::Duration::seconds(1);
        let rows = self.rows(
            "SELECT due, kind, release FROM timers WHERE due < date_trunc('second', $1::timestamptz)
             ORDER BY due, kind, release LIMIT $2",
            params![end, cap(limit)],
        )?;
        rows.iter().map(timer).collect()
    }

    fn next_timer(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let rows = self.rows("SELECT min(due) FROM timers", params![])?;
        Ok(rows.first().and_then(|row| row.get(0)))
    }

    fn all_timers(&self) -> StoreResult<Vec<Timer>> {
        let rows = self.rows(
            "SELECT due, kind, release FROM timers ORDER BY due, kind, release",
            params![],
        )?;
        rows.iter().map(timer).collect()
    }

    fn timer_count(&self) -> StoreResult<usize> {
        let rows = self.rows("SELECT count(*) FROM timers", params![])?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as usize))
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

    /// A hash over every table's content (claims left out: they change
    /// whenever a worker looks).
    fn fingerprint(&self) -> StoreResult<u32> {
        let rows = self.rows(
            "SELECT md5(concat_ws('|',
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM releases t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM counters t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM audit t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM audit_head t),
                (SELECT string_agg((ROW(t.seq, t.lane, t.body))::text, ',' ORDER BY (ROW(t.seq, t.lane, t.body))::text) FROM outbox_notify t),
                (SELECT string_agg((ROW(t.seq, t.lane, t.body))::text, ',' ORDER BY (ROW(t.seq, t.lane, t.body))::text) FROM outbox_digest t),
                (SELECT string_agg((ROW(t.key, t.lane, t.body))::text, ',' ORDER BY (ROW(t.key, t.lane, t.body))::text) FROM outbox_ci t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM posted t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM threads t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM posting t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM seen t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM roles t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM freezes t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM locks t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM live t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM in_flight t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM scheduler t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM fired_slots t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM timers t)
             ))",
            params![],
        )?;
        let hex: String = rows
            .first()
            .map(|row| row.get(0))
            .ok_or_else(|| StoreError::Storage("no fingerprint".into()))?;
        u32::from_str_radix(&hex[..8], 16).map_err(|e| StoreError::Storage(e.to_string()))
    }

    fn shared(&self) -> bool {
        true
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

    fn health(&self) -> Health {
        let problem = self
            .rows("SELECT 1", params![])
            .err()
            .map(|e| format!("{}: {e}", self.target));
        let mut leases: Vec<String> = self
            .leases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, epoch)| format!("{name} (epoch {epoch})"))
            .collect();
        for (outbox, lanes) in self.lanes.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if *lanes > 0 {
                leases.push(format!("{lanes} {outbox} lanes"));
            }
        }
        Health {
            backend: "postgres",
            problem,
            leases,
        }
    }

    fn lease_counts(&self) -> LeaseCounts {
        self.counts()
    }
}
