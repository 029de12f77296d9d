//! Chat adapters: platform events in, platform-neutral messages out. They
//! translate and hold no business rules.

pub mod ack;
pub mod adapters;
pub mod discord;
mod events;
pub mod shell;
pub mod slack;
pub mod tasks;
pub mod text;

pub(crate) use events::{button, message_line, reject_reason, thread_release};

use crate::domain::command::Command;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::engine::{Engine, EngineError, Origin};
use crate::view::View;

/// What an inbound chat event asks for, decoded once at the platform's edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// Written by a person (a slash command's text, a thread reply, a
    /// mention): parsed here.
    Line(String),
    /// Decoded from a button, a modal submission or typed options: it
    /// never goes through text again.
    Command(Command),
}

/// What the engine answered a command from chat.
pub(crate) struct Outcome {
    /// The answer; each platform renders its text.
    pub view: View,
    pub ok: bool,
    /// A change (shown to the channel) rather than a query (shown to the asker).
    pub changed: bool,
    /// A redelivery of something already handled: answer nobody.
    pub duplicate: bool,
}

/// Runs one request from chat in the engine, off the async threads (sled
/// and fsync block); what it changed wakes the workers through the feed. `delivery` is the
/// platform's id of the event it came in: it is marked handled in the
/// command's own transaction, so a crash anywhere loses nothing and a
/// redelivery takes effect once (`Outcome::duplicate`).
pub(crate) async fn run(
    engine: &Engine,
    actor: UserRef,
    origin: ChannelRef,
    request: Request,
    delivery: Option<&str>,
) -> Outcome {
    let engine = match delivery {
        Some(delivery) => engine.for_delivery(delivery),
        None => engine.clone(),
    };
    let subject = delivery.unwrap_or_default().to_string();
    let ran = engine
        .blocking(move |engine| {
            crate::failpoint::hit("chat.before_command", &subject);
            let parsed = match request {
                Request::Line(line) => crate::commands::parse(&line).map_err(EngineError::from),
                Request::Command(command) => Ok(command),
            };
            let changed = parsed.as_ref().is_ok_and(crate::commands::changes_state);
            let result = parsed
                .and_then(|command| engine.handle(&actor, command, &Origin { channel: origin }));
            crate::failpoint::hit("chat.after_command", &subject);
            match result {
                Ok(reply) => Outcome {
                    view: reply.view,
                    ok: true,
                    changed,
                    duplicate: false,
                },
                Err(error) => Outcome {
                    view: View::Said(error.reply()),
                    ok: false,
                    changed,
                    duplicate: matches!(error, EngineError::Duplicate),
                },
            }
        })
        .await;
    ran.unwrap_or_else(|error| Outcome {
        view: View::Said(error.reply()),
        ok: false,
        changed: false,
        duplicate: false,
    })
}

/// Whether an inbound delivery was handled already (a command's own
/// transaction marks it, see `run`), read off the async threads.
pub(crate) async fn seen(engine: &Engine, delivery: &str) -> bool {
    let delivery = delivery.to_string();
    engine
        .blocking(move |engine| engine.delivery_seen(&delivery))
        .await
        .unwrap_or(false)
}

/// Marks a delivery that runs no command (a button opening a modal)
/// handled; false for a redelivery.
pub(crate) async fn first_delivery(engine: &Engine, delivery: &str) -> bool {
    let delivery = delivery.to_string();
    engine
        .blocking(move |engine| engine.first_delivery(&delivery))
        .await
        .unwrap_or(false)
}
