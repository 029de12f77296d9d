//! Copy and admin, on this backend.

use super::*;
use crate::store::prelude::*;

impl AdminStore for PgStore {
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
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM timers t),
                (SELECT string_agg((t)::text, ',' ORDER BY (t)::text) FROM records t)
             ))",
            params![],
        )?;
        let hex: String = rows
            .first()
            .map(|row| row.get(0))
            .ok_or_else(|| StoreError::Storage("no fingerprint".into()))?;
        u32::from_str_radix(&hex[..8], 16).map_err(|e| StoreError::Storage(e.to_string()))
    }
}
