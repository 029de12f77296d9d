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
pub mod text;
pub mod when;

/// A user-facing refusal: its text is the reply, word for word (`Display`
/// names people by their local id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub text::Text);

impl Refusal {
    pub fn new(text: impl Into<text::Text>) -> Self {
        Refusal(text.into())
    }
}
