//! releasebot: release requests, approvals, deploys and rollbacks from chat.
//!
//! - [`domain`]: the pure core — releases and their lifecycle, policy, the
//!   command language and its parser, the platform-neutral message model.
//! - [`engine`]: runs a command from an actor as one store transaction and
//!   says what to reply.
//! - [`store`]: the store behind a port (sled embedded, PostgreSQL shared) —
//!   releases, indexes, the hash-chained audit log and the outboxes.
//! - [`notify`]: the notifier worker, delivering announcements to chat.
//! - [`ci`]: the relay worker, delivering deploys and rollbacks to CI;
//!   [`lanes`]: which lanes of outbox work both workers have under way.
//! - [`chat`]: adapters that translate platform events into commands and
//!   render the engine's structured text (shell, Slack, Discord).
//! - [`app`]: wires engine and workers together with one shutdown signal.
//! - [`config`], [`clock`], [`cli`]: typed config, time as a parameter, the
//!   command line; [`failpoint`]: named crash points for tests.

pub mod app;
pub mod chat;
pub mod ci;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod domain;
pub mod engine;
pub mod failpoint;
pub mod fuzz;
pub mod http;
pub mod lanes;
pub mod memory;
pub mod metrics;
pub mod notify;
pub mod schedule;
pub mod scm;
pub mod store;
pub mod view;
pub mod web;
