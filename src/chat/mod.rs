//! Chat adapters: platform events in, platform-neutral messages out. They
//! translate and hold no business rules.

pub mod discord;
pub mod shell;
pub mod slack;
pub mod text;

use chrono::{DateTime, Utc};

use crate::store::Store;

/// Whether an inbound delivery (an event, interaction or message id) is new;
/// a redelivery is dropped. If the store cannot say, the delivery is taken:
/// better a rare double than a command silently lost.
pub(crate) fn first_delivery(store: &Store, delivery: &str, now: DateTime<Utc>) -> bool {
    store.first_delivery(delivery, now).unwrap_or_else(|error| {
        tracing::error!(%error, "recording an inbound delivery failed");
        true
    })
}
