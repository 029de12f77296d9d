//! One PostgreSQL transaction behind `TxPort`. Statements fail the closure
//! with the driver's error boxed, so that `PgStore::run` can retry
//! serialization failures.

use crate::store::prelude::*;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_postgres::Row;

use super::bridge::{params, Conn, Param};
use crate::domain::calendar::{Freeze, Lock};
use crate::domain::ids::{ChannelRef, Name, ReleaseId, UserRef};
use crate::domain::outbox::{Announcement, CiJob, Digest, Timer};
use crate::domain::release::{LiveVersion, Release};
use crate::store::audit::{AuditDraft, AuditEntry};
use crate::store::feed::Change;
use crate::store::tx::{TxError, TxResult};

pub struct PgTx<'a, 'c> {
    pub conn: &'a Conn<'c>,
    /// Where this store's changes are sent (`NOTIFY`), and who sends them.
    pub feed: &'a super::listen::Channel,
}

pub fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("store records always serialize")
}

pub fn from_json<T: DeserializeOwned>(what: &str, row: &Row, column: &str) -> Result<T, String> {
    let value: serde_json::Value = row.get(column);
    serde_json::from_value(value).map_err(|e| format!("{what}: {e}"))
}

impl PgTx<'_, '_> {
    fn query(&self, sql: &'static str, params: Vec<Param>) -> TxResult<Vec<Row>> {
        match self.conn.try_query(sql, params) {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(error)) => Err(TxError::backend(error)),
            Err(store) => Err(TxError::backend(store)),
        }
    }

    fn execute(&self, sql: &'static str, params: Vec<Param>) -> TxResult<u64> {
        match self.conn.try_execute(sql, params) {
            Ok(Ok(count)) => Ok(count),
            Ok(Err(error)) => Err(TxError::backend(error)),
            Err(store) => Err(TxError::backend(store)),
        }
    }

    fn one<T: DeserializeOwned>(
        &self,
        what: &str,
        sql: &'static str,
        params: Vec<Param>,
    ) -> TxResult<Option<T>> {
        match self.query(sql, params)?.first() {
            Some(row) => from_json(what, row, "body")
                .map(Some)
                .map_err(|e| TxError::corrupt("record", e)),
            None => Ok(None),
        }
    }

    fn all<T: DeserializeOwned>(
        &self,
        what: &str,
        sql: &'static str,
        params: Vec<Param>,
    ) -> TxResult<Vec<T>> {
        self.query(sql, params)?
            .iter()
            .map(|row| from_json(what, row, "body").map_err(|e| TxError::corrupt("record", e)))
            .collect()
    }

    fn counter(&self, name: &'static str) -> TxResult<u64> {
        let rows = self.query(
            "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value - 1",
            params![name],
        )?;
        rows.first()
            .map(|row| row.get::<_, i64>(0) as u64)
            .ok_or_else(|| TxError::corrupt("counter", name))
    }

    fn reserve(&self, name: &'static str, id: u64) -> TxResult<()> {
        self.execute(
            "UPDATE counters SET value = greatest(value, $2) WHERE name = $1",
            params![name, (id + 1) as i64],
        )?;
        Ok(())
    }
}

fn user(text: String) -> TxResult<UserRef> {
    UserRef::parse(&text).map_err(|e| TxError::corrupt("role grant", e))
}

impl TxReleases for PgTx<'_, '_> {
    fn releases_of(&self, service: &Name, environment: &Name) -> TxResult<Vec<Release>> {
        self.all(
            "release",
            "SELECT body FROM releases WHERE service = $1 AND environment = $2 ORDER BY id",
            params![service.to_string(), environment.to_string()],
        )
    }

    fn release(&self, id: ReleaseId) -> TxResult<Option<Release>> {
        self.one(
            "release",
            "SELECT body FROM releases WHERE id = $1",
            params![id.number() as i64],
        )
    }

    fn allocate_release_id(&self) -> TxResult<ReleaseId> {
        self.counter("next_release_id").map(ReleaseId::new)
    }

    fn reserve_release_id(&self, id: ReleaseId) -> TxResult<()> {
        self.reserve("next_release_id", id.number())
    }

    fn put_release(&self, stored: &Release, _before: Option<&Release>) -> TxResult<()> {
        self.execute(
            "INSERT INTO releases (id, status, scheduled_at, service, environment, requester, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
                 scheduled_at = EXCLUDED.scheduled_at, service = EXCLUDED.service,
                 environment = EXCLUDED.environment, body = EXCLUDED.body",
            params![
                stored.id.number() as i64,
                stored.status.code() as i16,
                stored.scheduled_at,
                stored.service.to_string(),
                stored.environment.to_string(),
                stored.requester.to_string(),
                json(&stored),
            ],
        )?;
        Ok(())
    }

    fn audit(&self, draft: AuditDraft) -> TxResult<AuditEntry> {
        // The head row's lock serialises appends from every instance.
        let rows = self.query("SELECT seq, hash FROM audit_head FOR UPDATE", params![])?;
        let row = rows
            .first()
            .ok_or_else(|| TxError::corrupt("audit head", "missing"))?;
        let seq = row.get::<_, i64>(0) as u64;
        let entry = AuditEntry::chain(seq + 1, row.get(1), draft);
        self.append_audit(&entry)?;
        Ok(entry)
    }

    fn append_audit(&self, entry: &AuditEntry) -> TxResult<()> {
        self.execute(
            "INSERT INTO audit (seq, release, entry) VALUES ($1, $2, $3)",
            params![
                entry.seq as i64,
                entry.release.map(|r| r.number() as i64),
                json(entry)
            ],
        )?;
        self.execute(
            "UPDATE audit_head SET seq = $1, hash = $2",
            params![entry.seq as i64, entry.hash.clone()],
        )?;
        Ok(())
    }

    fn live(&self, service: &Name, environment: &Name) -> TxResult<Option<LiveVersion>> {
        self.one(
            "live version",
            "SELECT body FROM live WHERE service = $1 AND environment = $2",
            params![service.to_string(), environment.to_string()],
        )
    }

    fn set_live(&self, service: &Name, environment: &Name, live: &LiveVersion) -> TxResult<()> {
        self.execute(
            "INSERT INTO live (service, environment, body) VALUES ($1, $2, $3)
             ON CONFLICT (service, environment) DO UPDATE SET body = EXCLUDED.body",
            params![service.to_string(), environment.to_string(), json(live)],
        )?;
        Ok(())
    }

    fn in_flight(&self, service: &Name, environment: &Name) -> TxResult<Option<ReleaseId>> {
        let rows = self.query(
            "SELECT release FROM in_flight WHERE service = $1 AND environment = $2",
            params![service.to_string(), environment.to_string()],
        )?;
        Ok(rows
            .first()
            .map(|row| ReleaseId::new(row.get::<_, i64>(0) as u64)))
    }

    fn set_in_flight(
        &self,
        service: &Name,
        environment: &Name,
        release: Option<ReleaseId>,
    ) -> TxResult<()> {
        match release {
            Some(id) => self.execute(
                "INSERT INTO in_flight (service, environment, release) VALUES ($1, $2, $3)
                 ON CONFLICT (service, environment) DO UPDATE SET release = EXCLUDED.release",
                params![
                    service.to_string(),
                    environment.to_string(),
                    id.number() as i64
                ],
            )?,
            None => self.execute(
                "DELETE FROM in_flight WHERE service = $1 AND environment = $2",
                params![service.to_string(), environment.to_string()],
            )?,
        };
        Ok(())
    }
}

impl TxCalendar for PgTx<'_, '_> {
    fn allocate_freeze_id(&self) -> TxResult<u64> {
        self.counter("next_freeze_id")
    }

    fn reserve_freeze_id(&self, id: u64) -> TxResult<()> {
        self.reserve("next_freeze_id", id)
    }

    fn put_freeze(&self, freeze: &Freeze) -> TxResult<()> {
        self.execute(
            "INSERT INTO freezes (id, environment, starts, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET environment = EXCLUDED.environment,
                 starts = EXCLUDED.starts, body = EXCLUDED.body",
            params![
                freeze.id as i64,
                freeze.environment.to_string(),
                freeze.start,
                json(freeze)
            ],
        )?;
        Ok(())
    }

    fn freeze(&self, id: u64) -> TxResult<Option<Freeze>> {
        self.one(
            "freeze",
            "SELECT body FROM freezes WHERE id = $1",
            params![id as i64],
        )
    }

    fn remove_freeze(&self, id: u64) -> TxResult<()> {
        self.execute("DELETE FROM freezes WHERE id = $1", params![id as i64])?;
        Ok(())
    }

    fn lock(&self, service: &Name, environment: &Name) -> TxResult<Option<Lock>> {
        self.one(
            "lock",
            "SELECT body FROM locks WHERE service = $1 AND environment = $2",
            params![service.to_string(), environment.to_string()],
        )
    }

    fn freezes(&self, environment: &Name) -> TxResult<Vec<Freeze>> {
        self.all(
            "freeze",
            "SELECT body FROM freezes WHERE environment = $1 ORDER BY starts, id",
            params![environment.to_string()],
        )
    }

    fn scheduled_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TxResult<Vec<Release>> {
        self.all(
            "release",
            "SELECT body FROM releases WHERE scheduled_at >= $1 AND scheduled_at < $2
             ORDER BY scheduled_at, id",
            params![from, to],
        )
    }

    fn set_lock(&self, service: &Name, environment: &Name, lock: Option<&Lock>) -> TxResult<()> {
        match lock {
            Some(lock) => self.execute(
                "INSERT INTO locks (service, environment, body) VALUES ($1, $2, $3)
                 ON CONFLICT (service, environment) DO UPDATE SET body = EXCLUDED.body",
                params![service.to_string(), environment.to_string(), json(lock)],
            )?,
            None => self.execute(
                "DELETE FROM locks WHERE service = $1 AND environment = $2",
                params![service.to_string(), environment.to_string()],
            )?,
        };
        Ok(())
    }
}

impl TxOutboxes for PgTx<'_, '_> {
    fn post_digest(&self, digest: &Digest) -> TxResult<()> {
        self.execute(
            "INSERT INTO outbox_digest (lane, platform, body) VALUES ($1, $2, $3)",
            params![
                digest.lane(),
                digest.channel.platform().to_string(),
                json(digest)
            ],
        )?;
        Ok(())
    }

    fn announce(&self, announcement: Announcement) -> TxResult<()> {
        self.execute(
            "INSERT INTO outbox_notify (lane, platform, body) VALUES ($1, $2, $3)",
            params![
                announcement.lane(),
                announcement.channel.platform().to_string(),
                json(&announcement)
            ],
        )?;
        Ok(())
    }

    fn job(&self, key: &str) -> TxResult<Option<CiJob>> {
        self.one(
            "ci job",
            "SELECT body FROM outbox_ci WHERE key = $1",
            params![key.to_string()],
        )
    }

    fn put_job(&self, job: &CiJob) -> TxResult<()> {
        self.execute(
            "INSERT INTO outbox_ci (key, lane, body) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body",
            params![job.key.clone(), job.lane(), json(job)],
        )?;
        Ok(())
    }

    fn remove_job(&self, key: &str) -> TxResult<()> {
        self.execute(
            "DELETE FROM outbox_ci WHERE key = $1",
            params![key.to_string()],
        )?;
        Ok(())
    }

    fn put_posted(&self, id: ReleaseId, channel: &ChannelRef, message: &str) -> TxResult<()> {
        self.execute(
            "INSERT INTO posted (release, channel, message) VALUES ($1, $2, $3)
             ON CONFLICT (release, channel) DO UPDATE SET message = EXCLUDED.message",
            params![id.number() as i64, channel.to_string(), message.to_string()],
        )?;
        if !message.is_empty() {
            self.execute(
                "INSERT INTO threads (channel, message, release) VALUES ($1, $2, $3)
                 ON CONFLICT (channel, message) DO UPDATE SET release = EXCLUDED.release",
                params![channel.to_string(), message.to_string(), id.number() as i64],
            )?;
        }
        Ok(())
    }

    /// Records the change and sends it at commit, in one statement.
    fn publish(&self, change: &Change) -> TxResult<Option<u64>> {
        let body = serde_json::to_string(change).expect("a change always serializes");
        let rows = self.query(
            "WITH c AS (INSERT INTO changes (origin, body) VALUES ($1, $2) RETURNING seq)
             SELECT seq, pg_notify($3, seq::text || ' ' || $2 || ' ' || $1) FROM c",
            params![self.feed.origin.clone(), body, self.feed.name.clone()],
        )?;
        Ok(rows.first().map(|row| row.get::<_, i64>(0) as u64))
    }
}

impl TxScheduler for PgTx<'_, '_> {
    fn replace_timers(&self, old: &[Timer], new: &[Timer]) -> TxResult<()> {
        for timer in old.iter().filter(|t| !new.contains(t)) {
            self.take_timer(timer)?;
        }
        for timer in new {
            self.execute(
                "INSERT INTO timers (due, kind, release) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                params![
                    timer.due,
                    timer.kind.code() as i16,
                    timer.release.number() as i64
                ],
            )?;
        }
        Ok(())
    }

    fn take_timer(&self, timer: &Timer) -> TxResult<bool> {
        Ok(self.execute(
            "DELETE FROM timers WHERE due = $1 AND kind = $2 AND release = $3",
            params![
                timer.due,
                timer.kind.code() as i16,
                timer.release.number() as i64
            ],
        )? == 1)
    }

    fn last_fired(&self, key: &str) -> TxResult<Option<DateTime<Utc>>> {
        let rows = self.query(
            "SELECT fired_at FROM scheduler WHERE key = $1",
            params![key.to_string()],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn set_last_fired(&self, key: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.execute(
            "INSERT INTO scheduler (key, fired_at) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET fired_at = EXCLUDED.fired_at",
            params![key.to_string(), at],
        )?;
        Ok(())
    }

    fn record_slot(&self, key: &str, slot: DateTime<Utc>) -> TxResult<bool> {
        Ok(self.execute(
            "INSERT INTO fired_slots (key, slot) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![key.to_string(), slot],
        )? == 1)
    }
}

impl TxAdmin for PgTx<'_, '_> {
    fn mark_delivery(&self, delivery: &str, now: DateTime<Utc>) -> TxResult<()> {
        let inserted = self.execute(
            "INSERT INTO seen (delivery, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![delivery.to_string(), now],
        )?;
        if inserted == 0 {
            return Err(TxError::duplicate());
        }
        Ok(())
    }

    fn granted_roles(&self, user: &UserRef) -> TxResult<BTreeSet<String>> {
        let rows = self.query(
            "SELECT role FROM roles WHERE user_ref = $1",
            params![user.to_string()],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn grants(&self) -> TxResult<Vec<(UserRef, String)>> {
        let rows = self.query(
            "SELECT user_ref, role FROM roles ORDER BY user_ref, role",
            params![],
        )?;
        rows.iter()
            .map(|row| Ok((user(row.get(0))?, row.get(1))))
            .collect()
    }

    fn grant(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        Ok(self.execute(
            "INSERT INTO roles (user_ref, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![user.to_string(), role.to_string()],
        )? == 1)
    }

    fn revoke(&self, user: &UserRef, role: &str) -> TxResult<bool> {
        Ok(self.execute(
            "DELETE FROM roles WHERE user_ref = $1 AND role = $2",
            params![user.to_string(), role.to_string()],
        )? == 1)
    }

    fn put_seen(&self, delivery: &str, at: DateTime<Utc>) -> TxResult<()> {
        self.execute(
            "INSERT INTO seen (delivery, at) VALUES ($1, $2)
             ON CONFLICT (delivery) DO UPDATE SET at = EXCLUDED.at",
            params![delivery.to_string(), at],
        )?;
        Ok(())
    }
}

fn record_counter(kind: &str) -> String {
    format!("next_record_id:{kind}")
}

impl TxRecords for PgTx<'_, '_> {
    fn record(&self, kind: &str, key: &str) -> TxResult<Option<Vec<u8>>> {
        let rows = self.query(
            "SELECT body FROM records WHERE kind = $1 AND key = $2",
            params![kind.to_string(), key.to_string()],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn put_record(&self, kind: &str, key: &str, body: Option<&[u8]>) -> TxResult<()> {
        match body {
            Some(body) => self.execute(
                "INSERT INTO records (kind, key, body) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, key) DO UPDATE SET body = EXCLUDED.body",
                params![kind.to_string(), key.to_string(), body.to_vec()],
            )?,
            None => self.execute(
                "DELETE FROM records WHERE kind = $1 AND key = $2",
                params![kind.to_string(), key.to_string()],
            )?,
        };
        Ok(())
    }

    fn allocate_record_id(&self, kind: &str) -> TxResult<u64> {
        let rows = self.query(
            "INSERT INTO counters (name, value) VALUES ($1, 2)
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
             RETURNING value - 1",
            params![record_counter(kind)],
        )?;
        rows.first()
            .map(|row| row.get::<_, i64>(0) as u64)
            .ok_or_else(|| TxError::corrupt("counter", kind))
    }

    fn reserve_record_id(&self, kind: &str, id: u64) -> TxResult<()> {
        self.execute(
            "INSERT INTO counters (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = greatest(counters.value, EXCLUDED.value)",
            params![record_counter(kind), (id + 1) as i64],
        )?;
        Ok(())
    }

    fn next_record_id(&self, kind: &str) -> TxResult<u64> {
        let rows = self.query(
            "SELECT value FROM counters WHERE name = $1",
            params![record_counter(kind)],
        )?;
        Ok(rows.first().map_or(1, |row| row.get::<_, i64>(0) as u64))
    }
}
