//! Outbox claims and named leases. A lane (entries that must go out in
//! order) is claimed as a whole through its first entry, locked with
//! `FOR UPDATE SKIP LOCKED`: an instance never waits for another's claim,
//! and two instances never hold one lane. Claims last `lease_ttl` and are
//! renewed by every claiming round of their holder; an instance that dies
//! stops renewing, and its lanes are taken over once their claims run out.
//! Claims and leases use the database's clock, so instances on hosts whose
//! clocks differ still agree on when a claim ran out.

use std::sync::atomic::Ordering;

use tokio_postgres::Row;

use super::bridge::params;
use super::PgStore;
use crate::store::StoreResult;

/// Claims whole lanes of one outbox; `$1` holder, `$2` ttl in seconds,
/// `$3` how many lanes, `$4` the platforms this instance can deliver to.
macro_rules! claim_sql {
    ($table:literal, $platform:literal) => {
        concat!(
            "WITH heads AS (
                SELECT o.lane, (o.claimed_by IS NOT NULL AND o.claimed_by <> $1) AS taken
                FROM ",
            $table,
            " o
                WHERE o.seq = (SELECT min(i.seq) FROM ",
            $table,
            " i WHERE i.lane = o.lane)
                  AND ",
            $platform,
            "
                  AND (o.claimed_by IS NULL OR o.claimed_by = $1 OR o.claimed_until < now())
                ORDER BY o.seq
                LIMIT $3
                FOR UPDATE OF o SKIP LOCKED
            ), claimed AS (
                UPDATE ",
            $table,
            " e
                SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
                FROM heads WHERE e.lane = heads.lane
                RETURNING e.seq, e.lane, e.body, heads.taken
            )
            SELECT seq, lane, body, taken FROM claimed ORDER BY seq"
        )
    };
}

const CLAIM_NOTIFY: &str = claim_sql!("outbox_notify", "o.platform = ANY($4)");
const CLAIM_DIGEST: &str = claim_sql!("outbox_digest", "o.platform = ANY($4)");
const CLAIM_CI: &str = claim_sql!("outbox_ci", "cardinality($4::text[]) >= 0");

/// Lanes per claiming round at most.
const LANES_PER_ROUND: i64 = 256;

pub enum Outbox {
    Notify,
    Digest,
    Ci,
}

impl PgStore {
    /// Claims (or renews) lanes of an outbox for this instance and returns
    /// their entries in outbox order.
    pub(super) fn claim(&self, outbox: Outbox, platforms: &[String]) -> StoreResult<Vec<Row>> {
        let (sql, name) = match outbox {
            Outbox::Notify => (CLAIM_NOTIFY, "announcements"),
            Outbox::Digest => (CLAIM_DIGEST, "digests"),
            Outbox::Ci => (CLAIM_CI, "ci"),
        };
        let conn = self.bridge.conn()?;
        let rows = conn.query(
            sql,
            params![
                self.options.instance.clone(),
                self.ttl_secs(),
                LANES_PER_ROUND,
                platforms.to_vec()
            ],
        )?;
        let mut lanes = std::collections::BTreeSet::new();
        let mut taken = 0;
        for row in &rows {
            lanes.insert(row.get::<_, String>("lane"));
            if row.get::<_, bool>("taken") {
                taken += 1;
            }
        }
        self.claims.fetch_add(rows.len() as u64, Ordering::Relaxed);
        if taken > 0 {
            tracing::warn!(
                outbox = name,
                entries = taken,
                "took over entries whose claim ran out"
            );
            self.takeovers.fetch_add(taken, Ordering::Relaxed);
        }
        self.lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, lanes.len());
        Ok(rows)
    }

    /// Renews this instance's claim on one lane before a delivery in it;
    /// false when the claim was lost (it ran out and another instance took
    /// the lane), so the delivery must not go out from here.
    pub(super) fn still_claimed(&self, table: Outbox, lane: &str) -> StoreResult<bool> {
        let sql = match table {
            Outbox::Notify => {
                "UPDATE outbox_notify SET claimed_until = now() + make_interval(secs => $3)
                 WHERE lane = $1 AND claimed_by = $2"
            }
            Outbox::Digest => {
                "UPDATE outbox_digest SET claimed_until = now() + make_interval(secs => $3)
                 WHERE lane = $1 AND claimed_by = $2"
            }
            Outbox::Ci => {
                "UPDATE outbox_ci SET claimed_until = now() + make_interval(secs => $3)
                 WHERE lane = $1 AND claimed_by = $2"
            }
        };
        let conn = self.bridge.conn()?;
        let renewed = conn.execute(
            sql,
            params![
                lane.to_string(),
                self.options.instance.clone(),
                self.ttl_secs()
            ],
        )?;
        Ok(renewed > 0)
    }

    /// Takes or renews a named lease; its epoch while this instance holds
    /// it. The epoch rises each time the lease changes hands.
    pub(super) fn lease(&self, name: &str) -> StoreResult<Option<u64>> {
        let conn = self.bridge.conn()?;
        let rows = conn.query(
            "INSERT INTO leases AS l (name, holder, epoch, until)
             VALUES ($1, $2, 1, now() + make_interval(secs => $3))
             ON CONFLICT (name) DO UPDATE SET
                 holder = EXCLUDED.holder,
                 epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END,
                 until = EXCLUDED.until
             WHERE l.holder = EXCLUDED.holder OR l.until < now()
             RETURNING epoch",
            params![
                name.to_string(),
                self.options.instance.clone(),
                self.ttl_secs()
            ],
        )?;
        let epoch = rows.first().map(|row| row.get::<_, i64>(0) as u64);
        let mut held = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        match epoch {
            Some(epoch) => {
                let before = held.insert(name.to_string(), epoch);
                if before != Some(epoch) {
                    if epoch > 1 {
                        self.takeovers.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!(lease = name, epoch, "holding the lease");
                }
            }
            None => {
                if held.remove(name).is_some() {
                    tracing::warn!(lease = name, "lost the lease to another instance");
                }
            }
        }
        Ok(epoch)
    }

    /// How long until the earliest live claim or lease of another instance
    /// runs out, by the database's clock (the one claims are judged by).
    pub(super) fn earliest_foreign_expiry(&self) -> StoreResult<Option<std::time::Duration>> {
        let conn = self.bridge.conn()?;
        let rows = conn.query(
            "SELECT extract(epoch FROM min(until) - now())::float8 FROM (
                 SELECT min(claimed_until) AS until FROM outbox_notify
                     WHERE claimed_by <> $1 AND claimed_until > now()
                 UNION ALL SELECT min(claimed_until) FROM outbox_digest
                     WHERE claimed_by <> $1 AND claimed_until > now()
                 UNION ALL SELECT min(claimed_until) FROM outbox_ci
                     WHERE claimed_by <> $1 AND claimed_until > now()
                 UNION ALL SELECT min(until) FROM leases
                     WHERE holder <> $1 AND until > now()
             ) AS expiries",
            params![self.options.instance.clone()],
        )?;
        let seconds: Option<f64> = rows.first().and_then(|row| row.get(0));
        Ok(seconds.map(|s| std::time::Duration::from_secs_f64(s.max(0.0))))
    }

    /// Gives back every claim and lease of this instance.
    pub(super) fn release_all(&self) -> StoreResult<()> {
        let conn = self.bridge.conn()?;
        let me = self.options.instance.clone();
        conn.execute(
            "WITH n AS (UPDATE outbox_notify SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1),
                  d AS (UPDATE outbox_digest SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1),
                  c AS (UPDATE outbox_ci SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1)
             UPDATE leases SET until = now() - interval '1 second' WHERE holder = $1",
            params![me],
        )?;
        self.leases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }
}
