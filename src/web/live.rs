//! `/events`: server-sent events from the change feed, so open pages
//! update without a reload. An event's id is how many changes this
//! instance's feed has carried (its own and, on a shared store, other
//! instances'); a browser that reconnects with a `Last-Event-ID` below the
//! current count missed something and hears one `change` at once. A change
//! made on another instance reaches this one through the feed, so a page
//! open on either updates.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::{viewer, Q, S};
use crate::store::feed::Feed;

fn carried(feed: &Feed) -> u64 {
    let counts = feed.counts();
    counts.local + counts.remote
}

pub(super) async fn events(State(state): S, headers: HeaderMap, query: Q) -> Response {
    if viewer(&state, &headers, query.token.as_deref())
        .await
        .is_none()
    {
        return (StatusCode::UNAUTHORIZED, "sign in from chat first\n").into_response();
    }
    let last: Option<u64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let feed = state.engine.store().feed().clone();
    let subscription = feed.subscribe();
    let missed = last.is_some_and(|seen| seen < carried(&feed));
    let stream = futures_util::stream::unfold(
        (subscription, feed, missed),
        |(mut subscription, feed, missed)| async move {
            if !missed {
                subscription.next().await?;
            }
            let event = Event::default()
                .event("change")
                .id(carried(&feed).to_string())
                .data("{}");
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (subscription, feed, false),
            ))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
