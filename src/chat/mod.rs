//! Chat adapters: platform events in, platform-neutral messages out. They
//! translate and hold no business rules.

pub mod adapters;
pub mod discord;
pub mod shell;
pub mod slack;
pub mod text;

use crate::app::Waker;
use crate::domain::command;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::engine::{Engine, EngineError, Origin};

/// What the engine answered a command from chat.
pub(crate) struct Outcome {
    pub text: String,
    pub ok: bool,
    /// A change (shown to the channel) rather than a query (shown to the asker).
    pub changed: bool,
    /// A redelivery of something already handled: answer nobody.
    pub duplicate: bool,
}

/// Runs one command line from chat in the engine, off the async threads
/// (sled and fsync block), then wakes the notifier and relay. `delivery` is
/// the platform's id of the event it came in: it is marked handled in the
/// command's own transaction, so a crash anywhere loses nothing and a
/// redelivery takes effect once (`Outcome::duplicate`).
pub(crate) async fn run(
    engine: &Engine,
    waker: &Waker,
    actor: UserRef,
    origin: ChannelRef,
    line: String,
    delivery: Option<&str>,
) -> Outcome {
    let engine = match delivery {
        Some(delivery) => engine.for_delivery(delivery),
        None => engine.clone(),
    };
    let subject = delivery.unwrap_or_default().to_string();
    let ran = tokio::task::spawn_blocking(move || {
        crate::failpoint::hit("chat.before_command", &subject);
        let parsed = command::parse(&line);
        let changed = parsed.as_ref().is_ok_and(|c| c.changes_state());
        let result = parsed
            .map_err(Into::into)
            .and_then(|command| engine.handle(&actor, command, &Origin { channel: origin }));
        crate::failpoint::hit("chat.after_command", &subject);
        match result {
            Ok(reply) => Outcome {
                text: reply.text,
                ok: true,
                changed,
                duplicate: false,
            },
            Err(error) => Outcome {
                text: error.reply_text(),
                ok: false,
                changed,
                duplicate: matches!(error, EngineError::Duplicate),
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
            duplicate: false,
        }
    })
}
