//! Chat adapters: platform events in, platform-neutral messages out. They
//! translate and hold no business rules.

pub mod discord;
pub mod shell;
pub mod slack;
pub mod text;
