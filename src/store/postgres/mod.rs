//! The store on PostgreSQL (tokio-postgres with a deadpool pool), shared by
//! any number of `releasebot run` instances: serializable transactions
//! (retried on conflict), outbox lanes claimed with `FOR UPDATE SKIP LOCKED`
//! under a lease that runs out when its instance dies, and named leases with
//! an epoch for the one active scheduler. No driver type leaves this module.

mod backend;
pub(crate) mod bridge;
mod claims;
mod listen;
mod migrate;
pub mod tls;
mod tx;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use super::{LeaseCounts, StoreError, StoreResult};
use bridge::Bridge;

/// How to reach the database. The URL (with its password) comes from the
/// environment; everything printed about it goes through `describe`.
#[derive(Clone)]
pub struct PgOptions {
    pub url: String,
    /// A schema of its own (created when missing); `None` for the
    /// connection's default (`public`).
    pub schema: Option<String>,
    pub pool_size: usize,
    /// How long a claim or lease lasts unless renewed; an instance that
    /// dies loses its claims after this long.
    pub lease_ttl: Duration,
    /// This instance's name in claims and leases.
    pub instance: String,
    /// How long one statement may take before the store counts as unavailable.
    pub statement_timeout: Duration,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("database", &describe(&self.url))
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("lease_ttl", &self.lease_ttl)
            .field("instance", &self.instance)
            .finish()
    }
}

impl PgOptions {
    /// Options with the defaults: a pool of 8, leases of 10 s, statements
    /// of at most 30 s, and an instance name from the host and process.
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            schema: None,
            pool_size: 8,
            lease_ttl: Duration::from_secs(10),
            instance: default_instance(),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl PgOptions {
    /// The same options on another URL.
    pub fn with_url(self, url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            ..self
        }
    }
}

/// `host:pid:random`: unique per process, readable in `leases`.
pub fn default_instance() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_string());
    format!(
        "{host}:{}:{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

/// The driver's config and the TLS connector a URL asks for (`sslmode`,
/// `sslrootcert` read as libpq reads them, see `tls`).
fn driver_config(url: &str) -> Result<(tokio_postgres::Config, tls::Tls), String> {
    let (rest, tls) = tls::split(url)?;
    let mut config = rest.parse::<tokio_postgres::Config>().map_err(|_| {
        "is not a PostgreSQL URL (postgres://user:password@host:5432/database)".to_string()
    })?;
    config.ssl_mode(tls.driver_mode());
    Ok((config, tls))
}

/// How a URL's connections are protected: `TLS verify-full (roots from …)`.
pub fn describe_tls(url: &str) -> String {
    tls::split(url).map_or_else(|why| why, |(_, tls)| tls.describe())
}

/// The database a URL points at, without user or password:
/// `PostgreSQL at 127.0.0.1:5432, database test`.
pub fn describe(url: &str) -> String {
    let Ok((config, _)) = driver_config(url) else {
        return "PostgreSQL at an unreadable URL".to_string();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            tokio_postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    let hosts = if hosts.is_empty() {
        "localhost:5432".to_string()
    } else {
        hosts.join(",")
    };
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("(default)");
    format!("PostgreSQL at {hosts}, database {database}")
}

/// Checks a URL without connecting (for `check-config`): its form, its
/// TLS keys, and that a named root certificate file reads.
pub fn check_url(url: &str) -> Result<(), String> {
    let (_, tls) = driver_config(url)?;
    tls.connector().map(|_| ())
}

/// A schema name we are willing to put in a statement.
pub fn check_schema_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a schema name releasebot uses: lower-case letters, digits and `_`, starting with a letter, at most 63"
        ))
    }
}

pub struct PgStore {
    bridge: Bridge,
    options: PgOptions,
    /// `PostgreSQL at host:port, database db`, for errors and /healthz.
    target: String,
    claims: AtomicU64,
    takeovers: AtomicU64,
    /// Leases this instance holds, by name, with their epoch.
    leases: Mutex<BTreeMap<String, u64>>,
    /// How many outbox lanes this instance claimed in its latest rounds.
    lanes: Mutex<BTreeMap<&'static str, usize>>,
    /// Where changes are sent, and how the feed's listener connects.
    channel: listen::Channel,
    listener: (
        tokio_postgres::Config,
        tokio_postgres_rustls::MakeRustlsConnect,
    ),
}

impl PgStore {
    pub fn connect(options: &PgOptions) -> StoreResult<PgStore> {
        let target = describe(&options.url);
        let (mut config, tls) = driver_config(&options.url)
            .map_err(|why| StoreError::Rejected(format!("the database URL {why}")))?;
        let connector = tls.connector().map_err(StoreError::Rejected)?;
        let mut session = format!(
            "-c statement_timeout={} -c idle_in_transaction_session_timeout={}",
            options.statement_timeout.as_millis(),
            options.statement_timeout.as_millis() * 2
        );
        if let Some(schema) = &options.schema {
            check_schema_name(schema).map_err(StoreError::Rejected)?;
            session.push_str(&format!(" -c search_path={schema}"));
        }
        config
            .options(&session)
            .application_name("releasebot")
            .connect_timeout(Duration::from_secs(5))
            .keepalives_idle(Duration::from_secs(10));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("releasebot-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Storage(format!("starting the database runtime: {e}")))?;
        let listener = (config.clone(), connector.clone());
        let manager = Manager::from_config(
            config,
            connector,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(options.statement_timeout))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::Storage(format!("building the connection pool: {e}")))?;
        let store = PgStore {
            bridge: Bridge::new(
                runtime,
                pool,
                options.statement_timeout + Duration::from_secs(5),
            ),
            options: options.clone(),
            target: target.clone(),
            claims: AtomicU64::new(0),
            takeovers: AtomicU64::new(0),
            leases: Mutex::default(),
            lanes: Mutex::default(),
            channel: listen::Channel::new(options.schema.as_deref(), &options.instance),
            listener,
        };
        store.migrate().map_err(|error| match error {
            StoreError::Unavailable(why) => StoreError::Unavailable(format!("{target}: {why}")),
            StoreError::Rejected(why) => StoreError::Rejected(format!("{target}: {why}")),
            StoreError::Schema { found, ours, .. } => StoreError::Schema {
                dir: target.clone(),
                found,
                ours,
            },
            other => other,
        })?;
        Ok(store)
    }

    fn counts(&self) -> LeaseCounts {
        LeaseCounts {
            claims: self.claims.load(Ordering::Relaxed),
            takeovers: self.takeovers.load(Ordering::Relaxed),
        }
    }

    fn ttl_secs(&self) -> f64 {
        self.options.lease_ttl.as_secs_f64()
    }
}

/// The `application_name` of a schema's feed listener (tests cut it).
pub fn listener_name(schema: &str) -> String {
    listen::application_name(&listen::Channel::new(Some(schema), "").name)
}

/// Runs one statement on its own connection, from any thread (tests drop
/// their schemas with it).
pub fn execute_once(url: &str, sql: &str) -> StoreResult<()> {
    let (url, sql) = (url.to_string(), sql.to_string());
    let worker = std::thread::spawn(move || -> StoreResult<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Storage(e.to_string()))?;
        let (config, tls) = driver_config(&url).map_err(StoreError::Rejected)?;
        let connector = tls.connector().map_err(StoreError::Rejected)?;
        runtime.block_on(async move {
            let (client, connection) = config.connect(connector).await.map_err(bridge::db_error)?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(bridge::db_error)
        })
    });
    worker.join().unwrap_or_else(|_| {
        Err(StoreError::Storage(
            "the statement's thread panicked".into(),
        ))
    })
}
