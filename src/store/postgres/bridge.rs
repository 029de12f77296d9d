//! The store's port is synchronous (a transaction is a closure that may run
//! again); tokio-postgres is async. The bridge runs the pool and its
//! connections on a small runtime of the store's own, and waits for each
//! statement on a channel, which works from any thread: a plain thread, a
//! `spawn_blocking` thread, or (briefly blocking it, as an fsync would) an
//! async worker thread of the caller's runtime.

use std::future::Future;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::store::{StoreError, StoreResult};

/// One statement parameter, owned so that it can travel to the runtime.
pub type Param = Box<dyn ToSql + Send + Sync>;

/// `params![a, b]`: owned statement parameters.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as $crate::store::postgres::bridge::Param),*]
    };
}
pub(crate) use params;

pub struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// How long a statement may take before the store counts as unavailable.
    timeout: Duration,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is refused on an async thread.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Bridge {
    pub fn new(runtime: tokio::runtime::Runtime, pool: Pool, timeout: Duration) -> Bridge {
        Bridge {
            runtime: Some(runtime),
            pool,
            timeout,
        }
    }

    /// Starts `work` on the store's runtime; it stops with the runtime.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(work);
        }
    }

    /// Runs `work` on the store's runtime and waits for it.
    pub fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tell, told) = mpsc::sync_channel(1);
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the bridge");
        runtime.spawn(async move {
            let _ = tell.send(work.await);
        });
        told.recv_timeout(self.timeout).map_err(|_| {
            StoreError::Unavailable(format!(
                "the database did not answer within {} s",
                self.timeout.as_secs()
            ))
        })
    }

    /// A pooled connection.
    pub fn conn(&self) -> StoreResult<Conn<'_>> {
        let pool = self.pool.clone();
        let client = self
            .wait(async move { pool.get().await })?
            .map_err(pool_error)?;
        Ok(Conn {
            bridge: self,
            client: Arc::new(client),
        })
    }
}

/// The parameters as the driver takes them.
fn borrowed(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// A pooled connection; statements go through the bridge.
pub struct Conn<'a> {
    bridge: &'a Bridge,
    client: Arc<Object>,
}

impl Conn<'_> {
    pub fn query(&self, sql: &'static str, params: Vec<Param>) -> StoreResult<Vec<Row>> {
        self.try_query(sql, params)?.map_err(db_error)
    }

    pub fn execute(&self, sql: &'static str, params: Vec<Param>) -> StoreResult<u64> {
        self.try_execute(sql, params)?.map_err(db_error)
    }

    /// Like `query`, keeping the driver's error for the transaction code
    /// (which retries serialization failures).
    pub fn try_query(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> StoreResult<Result<Vec<Row>, tokio_postgres::Error>> {
        let client = self.client.clone();
        self.bridge.wait(async move {
            let refs = borrowed(&params);
            let statement = client.prepare_cached(sql).await?;
            client.query(&statement, &refs).await
        })
    }

    pub fn try_execute(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> StoreResult<Result<u64, tokio_postgres::Error>> {
        let client = self.client.clone();
        self.bridge.wait(async move {
            let refs = borrowed(&params);
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, &refs).await
        })
    }

    /// Statements without parameters (`BEGIN`, a migration).
    pub fn batch(&self, sql: &str) -> StoreResult<Result<(), tokio_postgres::Error>> {
        let client = self.client.clone();
        let sql = sql.to_string();
        self.bridge
            .wait(async move { client.batch_execute(&sql).await })
    }
}

/// A driver error as the store reports it: a connection problem is
/// `Unavailable` (nothing changed; try again), anything else a failure.
pub fn db_error(error: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    let refused = [
        SqlState::INVALID_PASSWORD,
        SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
        SqlState::INVALID_CATALOG_NAME,
        SqlState::INSUFFICIENT_PRIVILEGE,
    ];
    if let Some(db) = error.as_db_error().filter(|db| refused.contains(db.code())) {
        // `no pg_hba.conf entry for host …, no encryption`: only TLS is let in.
        let hint = if db.message().ends_with("no encryption") {
            "; the server takes only TLS connections: set sslmode=require (or verify-full) in the URL"
        } else {
            ""
        };
        return StoreError::Rejected(format!("{}{hint}", db.message()));
    }
    let text = error.to_string();
    if text.starts_with("error performing TLS handshake") {
        // A certificate that does not check out will not on a retry
        // either. The driver's text leaves out why: take it from the cause.
        let mut why = text;
        let mut cause = std::error::Error::source(&error);
        while let Some(inner) = cause {
            why.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        return StoreError::Rejected(why.replace('\n', " "));
    }
    if error.is_closed() || error.code().is_none() {
        StoreError::Unavailable(error.to_string())
    } else {
        let detail = error
            .as_db_error()
            .map(|db| db.message().to_string())
            .unwrap_or_else(|| error.to_string());
        StoreError::Storage(format!("PostgreSQL: {detail}"))
    }
}

fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => db_error(error),
        other => StoreError::Unavailable(other.to_string()),
    }
}
