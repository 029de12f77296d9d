//! The change feed across instances: one connection per instance listens
//! on the store's channel and passes other instances' changes to the
//! in-process feed. A notification sent while the listener is disconnected
//! is lost, so after every (re)connect it reads what it missed from the
//! `changes` table by sequence, and tells subscribers to resync.
//!
//! Sequence numbers are handed out when a transaction inserts its change,
//! not when it commits, so a lower number can commit after a higher one.
//! The catch-up therefore reads from a margin below the highest number
//! seen, and a small memory of numbers seen drops the repeats.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use tokio_postgres::AsyncMessage;

use crate::store::feed::{Change, Feed};

/// Where one store's changes are sent, and this instance's name in them.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The `NOTIFY` channel: one per schema, since a database's channels
    /// are shared by all its schemas.
    pub name: String,
    pub origin: String,
}

impl Channel {
    pub fn new(schema: Option<&str>, origin: &str) -> Channel {
        let mut name = format!("releasebot_{}", schema.unwrap_or("public"));
        // Channel names are identifiers: at most 63 bytes (schemas are ASCII).
        name.truncate(63);
        Channel {
            name,
            origin: origin.to_string(),
        }
    }
}

/// The listener's `application_name` (in `pg_stat_activity`), at most 63 bytes.
pub fn application_name(channel: &str) -> String {
    let mut name = format!("releasebot feed {channel}");
    name.truncate(63);
    name
}

/// How far below the highest sequence seen a catch-up starts reading.
const CATCH_UP_MARGIN: i64 = 256;
/// How many sequence numbers the listener remembers, to drop repeats.
const REMEMBERED: usize = 4096;
/// How long the listener waits before connecting again after a loss.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// A notification's payload: `seq body origin`.
pub fn parse(payload: &str) -> Option<(i64, Change, &str)> {
    let mut parts = payload.splitn(3, ' ');
    let seq = parts.next()?.parse().ok()?;
    let change = serde_json::from_str(parts.next()?).ok()?;
    Some((seq, change, parts.next()?))
}

struct Seen {
    highest: Option<i64>,
    order: VecDeque<i64>,
    set: HashSet<i64>,
}

impl Seen {
    /// False when `seq` was seen before.
    fn first(&mut self, seq: i64) -> bool {
        if !self.set.insert(seq) {
            return false;
        }
        self.order.push_back(seq);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        true
    }
}

/// The listener's task: runs until the store's runtime stops.
pub async fn run(
    config: tokio_postgres::Config,
    connector: tokio_postgres_rustls::MakeRustlsConnect,
    channel: Channel,
    feed: Feed,
) {
    let mut seen = Seen {
        highest: None,
        order: VecDeque::new(),
        set: HashSet::new(),
    };
    loop {
        if let Err(error) = session(&config, &connector, &channel, &feed, &mut seen).await {
            tracing::warn!(%error, "the change feed's listener lost its connection; reconnecting");
        }
        feed.set_connected(false);
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// One connection's life: listen, catch up, then pass notifications on
/// until the connection ends.
async fn session(
    config: &tokio_postgres::Config,
    connector: &tokio_postgres_rustls::MakeRustlsConnect,
    channel: &Channel,
    feed: &Feed,
    seen: &mut Seen,
) -> Result<(), tokio_postgres::Error> {
    let mut config = config.clone();
    config.application_name(application_name(&channel.name));
    let (client, mut connection) = config.connect(connector.clone()).await?;
    let (tell, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if tell.send(note.payload().to_string()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(%error, "the change feed's connection ended");
                    return;
                }
            }
        }
    });
    let _stop_driver = AbortOnDrop(driver);
    client
        .batch_execute(&format!("LISTEN \"{}\"", channel.name))
        .await?;
    feed.set_connected(true);
    match seen.highest {
        // A first connect: nothing was missed, only later changes matter.
        None => {
            let row = client
                .query_one("SELECT coalesce(max(seq), 0) FROM changes", &[])
                .await?;
            seen.highest = Some(row.get(0));
        }
        Some(highest) => {
            let rows = client
                .query(
                    "SELECT seq, body, origin FROM changes WHERE seq > $1 ORDER BY seq",
                    &[&(highest - CATCH_UP_MARGIN)],
                )
                .await?;
            for row in rows {
                let seq: i64 = row.get(0);
                let body: String = row.get(1);
                let origin: String = row.get(2);
                if seen.first(seq) && origin != channel.origin {
                    if let Ok(change) = serde_json::from_str::<Change>(&body) {
                        feed.publish_remote(Change {
                            seq: Some(seq as u64),
                            ..change
                        });
                    }
                }
            }
            feed.publish_remote(Change::resync());
        }
    }
    while let Some(payload) = heard.recv().await {
        let Some((seq, change, origin)) = parse(&payload) else {
            tracing::warn!(payload, "an unreadable change on the feed; resyncing");
            feed.publish_remote(Change::resync());
            continue;
        };
        if seen.first(seq) && origin != channel.origin {
            feed.publish_remote(Change {
                seq: Some(seq as u64),
                ..change
            });
        }
    }
    // The driver stopped: the connection is gone. Say so through a query.
    client.simple_query("SELECT 1").await?;
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
