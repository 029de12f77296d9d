//! Chat adapters: platform events in, platform-neutral messages out. They
//! translate and hold no business rules.

pub mod adapters;
pub mod discord;
pub mod shell;
pub mod slack;
pub mod text;

use chrono::{DateTime, Utc};

use crate::app::Waker;
use crate::domain::command;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::engine::{Engine, EngineError, Origin};
use crate::store::Store;

/// What the engine answered a command from chat.
pub(crate) struct Outcome {
    pub text: String,
    pub ok: bool,
    /// A change (shown to the channel) rather than a query (shown to the asker).
    pub changed: bool,
}

/// Runs one command line from chat in the engine, off the async threads
/// (sled and fsync block), then wakes the notifier and relay.
pub(crate) async fn run(
    engine: &Engine,
    waker: &Waker,
    actor: UserRef,
    origin: ChannelRef,
    line: String,
) -> Outcome {
    let engine = engine.clone();
    let ran = tokio::task::spawn_blocking(move || {
        let parsed = command::parse(&line);
        let changed = parsed.as_ref().is_ok_and(|c| c.changes_state());
        let result = parsed
            .map_err(Into::into)
            .and_then(|command| engine.handle(&actor, command, &Origin { channel: origin }));
        match result {
            Ok(reply) => Outcome {
                text: reply.text,
                ok: true,
                changed,
            },
            Err(error) => Outcome {
                text: error.reply_text(),
                ok: false,
                changed,
            },
        }
    })
    .await;
    waker.wake();
    ran.unwrap_or_else(|error| {
        tracing::error!(%error, "a command panicked");
        Outcome {
            text: EngineError::Internal(String::new()).reply_text(),
            ok: false,
            changed: false,
        }
    })
}

/// Whether an inbound delivery (an event, interaction or message id) is new;
/// a redelivery is dropped. If the store cannot say, the delivery is taken:
/// better a rare double than a command silently lost.
pub(crate) fn first_delivery(store: &Store, delivery: &str, now: DateTime<Utc>) -> bool {
    store.first_delivery(delivery, now).unwrap_or_else(|error| {
        tracing::error!(%error, "recording an inbound delivery failed");
        true
    })
}
