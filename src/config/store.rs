//! `[store]`: which backend keeps the bot's state. `sled` (the default)
//! needs nothing; `postgres` takes its URL, password included, only from
//! the environment variable `url_env` names, never from the file.

use std::time::Duration;

use crate::store::{PgOptions, StoreError};

/// Which store `run` and the other commands open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreSettings {
    /// The embedded sled store in the data dir.
    #[default]
    Sled,
    Postgres(PostgresSettings),
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
