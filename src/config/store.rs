//! `[store]`: which backend keeps the bot's state. `sled` (the default)
//! needs nothing; `postgres` takes its URL, password included, only from
//! the environment variable `url_env` names, never from the file.

use std::time::Duration;

use super::validate::{within, Problems};
use crate::store::{PgOptions, SledOptions, StoreError};

/// Which store `run` and the other commands open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSettings {
    /// The embedded sled store in the data dir.
    Sled(SledOptions),
    Postgres(PostgresSettings),
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings::Sled(SledOptions::default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    /// The environment variable holding the URL (`DATABASE_URL`).
    pub url_env: String,
    pub pool: usize,
    /// A schema of its own (created when missing); the default is `public`.
    pub schema: Option<String>,
    /// How long claims and the scheduler lease last unless renewed: an
    /// instance that dies hands its work over after this long.
    pub lease_ttl: Duration,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            url_env: "DATABASE_URL".to_string(),
            pool: 8,
            schema: None,
            lease_ttl: Duration::from_secs(10),
        }
    }
}

impl PostgresSettings {
    /// The connection options, reading the URL from the environment.
    pub fn options(&self) -> Result<PgOptions, StoreError> {
        let url = std::env::var(&self.url_env).map_err(|_| {
            StoreError::Rejected(format!(
                "[store] backend = \"postgres\" reads the database URL from ${}, which is not set",
                self.url_env
            ))
        })?;
        crate::store::postgres::check_url(&url)
            .map_err(|why| StoreError::Rejected(format!("${} {why}", self.url_env)))?;
        Ok(PgOptions {
            schema: self.schema.clone(),
            pool_size: self.pool,
            lease_ttl: self.lease_ttl,
            ..PgOptions::new(url)
        })
    }
}

/// An environment variable name we accept for `url_env`.
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `[store]`: the backend, and for PostgreSQL where its URL comes from.
pub(super) fn store_settings(
    raw: &super::raw::RawStore,
    problems: &mut Problems<'_>,
) -> StoreSettings {
    let postgres_keys = raw.url_env.is_some()
        || raw.pool.is_some()
        || raw.schema.is_some()
        || raw.lease_ttl_secs.is_some();
    match raw.backend.as_deref() {
        None | Some("sled") => {
            if postgres_keys {
                problems.add(
                    &["store", "backend"],
                    "url_env, pool, schema and lease_ttl_secs are for backend = \"postgres\"; set it, or remove them",
                );
            }
            StoreSettings::Sled(sled_options(raw, problems))
        }
        Some("postgres") => {
            if raw.cache_mb.is_some() {
                problems.add(
                    &["store", "cache_mb"],
                    "is sled's page cache; PostgreSQL keeps its own (shared_buffers), so remove it",
                );
            }
            StoreSettings::Postgres(postgres_settings(raw, problems))
        }
        Some(other) => {
            problems.add(
                &["store", "backend"],
                format!("`{other}` is not a store backend; use \"sled\" (embedded, the default) or \"postgres\""),
            );
            StoreSettings::default()
        }
    }
}

/// `[store] key`'s number, when it is set and within `range`.
fn bounded(
    value: Option<u64>,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
    key: &str,
    problems: &mut Problems<'_>,
) -> Option<u64> {
    value.and_then(|n| within(n, range, unit, &["store", key], problems))
}

fn sled_options(raw: &super::raw::RawStore, problems: &mut Problems<'_>) -> SledOptions {
    let mut options = SledOptions::default();
    if let Some(mb) = bounded(
        raw.cache_mb,
        1..=65_536,
        "MiB (default 8)",
        "cache_mb",
        problems,
    ) {
        options.cache_bytes = mb * 1024 * 1024;
    }
    options
}

fn postgres_settings(raw: &super::raw::RawStore, problems: &mut Problems<'_>) -> PostgresSettings {
    let mut settings = PostgresSettings::default();
    if let Some(name) = &raw.url_env {
        if valid_env_name(name) {
            settings.url_env = name.clone();
        } else if name.contains("://") || name.contains('@') {
            // Never echo it: it may carry a password.
            problems.add(
                &["store", "url_env"],
                "looks like a database URL; put the URL in an environment variable and name that variable here (like DATABASE_URL)",
            );
        } else {
            problems.add(
                &["store", "url_env"],
                format!("`{name}` is not an environment variable name (upper-case letters, digits and `_`, like DATABASE_URL); the URL itself goes in that variable, not here"),
            );
        }
    }
    if let Some(pool) = bounded(
        raw.pool,
        1..=64,
        "connections (default 8)",
        "pool",
        problems,
    ) {
        settings.pool = pool as usize;
    }
    let ttl = bounded(
        raw.lease_ttl_secs,
        3..=60,
        "seconds (default 10)",
        "lease_ttl_secs",
        problems,
    );
    if let Some(secs) = ttl {
        settings.lease_ttl = std::time::Duration::from_secs(secs);
    }
    if let Some(schema) = &raw.schema {
        match crate::store::postgres::check_schema_name(schema) {
            Ok(()) => settings.schema = Some(schema.clone()),
            Err(why) => problems.add(&["store", "schema"], why),
        }
    }
    settings
}
