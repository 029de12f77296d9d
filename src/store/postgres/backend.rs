//! `Backend` on PostgreSQL: transactions with retries, and the reads.

mod admin;
mod calendar;
mod outbox;
mod records;
mod releases;
mod scheduler;

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
use crate::store::port::{Backend, Durable, Targets, Tx};
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
        // Then the writers' lock, before the first read takes the snapshot:
        // transactions of every instance run one at a time, rather than
        // all but one failing on the audit head and the counters and trying
        // again (eight clients at once ran out of tries). Plain reads are
        // not blocked by it.
        conn.batch(
            "ROLLBACK; BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE audit_head IN EXCLUSIVE MODE",
        )?
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

impl Durable for PgStore {
    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn shared(&self) -> bool {
        true
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

    fn listen(&self, feed: Feed) {
        let (config, connector) = self.listener.clone();
        self.bridge.spawn(super::listen::run(
            config,
            connector,
            self.channel.clone(),
            feed,
        ));
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
}
