//! The pure core: releases and their lifecycle, policy, the command language
//! and the platform-neutral message model. No I/O, no async, no platform types.

pub mod calendar;
pub mod command;
pub mod cron_spec;
pub mod ics;
pub mod ids;
pub mod lifecycle;
pub mod message;
pub mod outbox;
pub mod policy;
pub mod release;
pub mod when;

/// A user-facing refusal: its `Display` is the reply, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

impl Refusal {
    pub fn new(text: impl Into<String>) -> Self {
        Refusal(text.into())
    }
}
