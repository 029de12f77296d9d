//! The pure core: releases and their lifecycle, policy, the command language
//! and the platform-neutral message model. No I/O, no async, no platform types.

pub mod calendar;
pub mod command;
pub mod cron_spec;
pub mod ics;
pub mod ids;
pub mod incident;
pub mod lifecycle;
pub mod message;
pub mod notes;
pub mod outbox;
pub mod policy;
pub mod refusal;
pub mod release;
pub mod soak;
pub mod stats;
pub mod template;
pub mod text;
pub mod when;

pub use refusal::{Act, Refusal, SoakClock};
