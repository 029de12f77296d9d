//! Migrations embedded in the binary, applied at start under an advisory
//! lock (two instances starting at once apply each migration once). A
//! database migrated by a newer release is refused, naming both versions.

use super::bridge::{db_error, params};
use super::PgStore;
use crate::store::{StoreError, StoreResult};

/// Every migration, in order; the last one's number is the schema version.
const MIGRATIONS: &[(u64, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_posting_began.sql")),
    (3, include_str!("migrations/0003_changes.sql")),
    (4, include_str!("migrations/0004_records.sql")),
];

/// The schema version this build reads and writes.
pub fn latest() -> u64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

impl PgStore {
    pub(super) fn migrate(&self) -> StoreResult<()> {
        let conn = self.bridge.conn()?;
        // The schema name was checked to be a plain identifier. Instances
        // starting together take turns: the lock is keyed by the schema.
        let (lock_key, create) = match &self.options.schema {
            Some(schema) => (
                schema.as_str(),
                format!("CREATE SCHEMA IF NOT EXISTS {schema};"),
            ),
            None => ("public", String::new()),
        };
        conn.batch(&format!(
            "BEGIN;
             SELECT pg_advisory_xact_lock(hashtext('releasebot-migrate:{lock_key}'));
             {create}
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    bigint PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );"
        ))?
        .map_err(db_error)?;
        let applied = (|| {
            let rows = conn.query(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                params![],
            )?;
            let found = rows.first().map_or(0, |row| row.get::<_, i64>(0)) as u64;
            if found > latest() {
                return Err(StoreError::Schema {
                    dir: String::new(),
                    found,
                    ours: latest(),
                });
            }
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
                conn.batch(sql)?.map_err(db_error)?;
                conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    params![*version as i64],
                )?;
                tracing::info!(version, "applied a database migration");
            }
            Ok(())
        })();
        match applied {
            Ok(()) => conn.batch("COMMIT")?.map_err(db_error),
            Err(error) => {
                let _ = conn.batch("ROLLBACK");
                Err(error)
            }
        }
    }
}
