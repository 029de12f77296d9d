//! Acknowledge only what is durable. A platform stops resending an event
//! once we acknowledge it (Slack's Socket Mode never resends an acked
//! envelope; a Discord interaction answered once is done), so an ack is a
//! promise that the event's command has committed, with its delivery mark,
//! or needed no commit. The event's task holds a `Handled` until then; the
//! platform's ack waits on the matching `Ack`, within `BUDGET`.
//!
//! Past the budget nothing is acknowledged: Slack sends the event again
//! (the delivery mark makes the second copy a no-op if the first did
//! commit), and Discord shows the interaction as not answered. A task that
//! panics, or an event refused because shutdown has begun, is never acked.

use std::time::Duration;

use tokio::sync::oneshot;

/// How long an ack waits for its command to commit. Slack and Discord both
/// give 3 s; the rest is for the ack itself to travel.
pub const BUDGET: Duration = Duration::from_millis(2_500);

/// Held by an event's task until its command is durable, or known to need
/// no commit (a query, chatter, a redelivery). Dropping it says so, except
/// while the task unwinds from a panic: a crashed command is not acked.
pub struct Handled {
    signal: Option<oneshot::Sender<()>>,
}

/// What the platform's ack waits on.
pub struct Ack {
    waited: oneshot::Receiver<()>,
    /// Named in the failpoint between "durable" and "acked".
    what: &'static str,
}

/// A `Handled` for the event's task and the `Ack` its platform waits on.
pub fn pair(what: &'static str) -> (Handled, Ack) {
    let (signal, waited) = oneshot::channel();
    (
        Handled {
            signal: Some(signal),
        },
        Ack { waited, what },
    )
}

impl Handled {
    /// The event was not taken (shutdown has begun): it must not be acked.
    pub fn abandon(mut self) {
        self.signal.take();
    }
}

impl Drop for Handled {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Some(signal) = self.signal.take() {
            let _ = signal.send(());
        }
    }
}

impl Ack {
    /// True once the event's command is durable (or needed none), within
    /// `BUDGET`; false when the task crashed, was not started, or is
    /// still running: then the caller must not acknowledge.
    pub async fn durable(self) -> bool {
        durable_answer(self.what, self.waited).await.is_some()
    }
}

/// What a task sends once its command is durable (the answer to give with
/// the ack), within `BUDGET`; `None` when the task crashed or is still
/// running: then the caller must not acknowledge.
pub async fn durable_answer<T>(what: &'static str, answer: oneshot::Receiver<T>) -> Option<T> {
    match tokio::time::timeout(BUDGET, answer).await {
        Ok(Ok(answer)) => {
            // A kill here: durable, not acked. The platform sends it again
            // (Slack) and the delivery mark makes that copy a no-op.
            crate::failpoint::hit("chat.before_ack", what);
            Some(answer)
        }
        Ok(Err(_)) => {
            tracing::warn!(what, "not acknowledged: its command did not finish");
            None
        }
        Err(_) => {
            tracing::warn!(
                what,
                "not acknowledged: its command did not commit within {} ms",
                BUDGET.as_millis()
            );
            None
        }
    }
}

/// Returned to Slack's Socket Mode listener instead of an ack: its error
/// handler then sends none.
#[derive(Debug, thiserror::Error)]
#[error("the event's command is not durable yet; leaving it unacknowledged")]
pub struct NotDurable;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ack_waits_until_the_task_lets_go() {
        let (handled, ack) = pair("a test event");
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(handled);
        });
        let started = std::time::Instant::now();
        assert!(ack.durable().await);
        assert!(started.elapsed() >= Duration::from_millis(30));
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_task_that_panics_is_not_acked() {
        let (handled, ack) = pair("a test event");
        let task = tokio::spawn(async move {
            let _held = handled;
            panic!("the command crashed");
        });
        assert!(!ack.durable().await);
        assert!(task.await.unwrap_err().is_panic());
    }

    #[tokio::test]
    async fn an_abandoned_event_is_not_acked() {
        let (handled, ack) = pair("a test event");
        handled.abandon();
        assert!(!ack.durable().await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_command_still_running_after_the_budget_is_not_acked() {
        let (handled, ack) = pair("a test event");
        let task = tokio::spawn(async move {
            tokio::time::sleep(BUDGET * 2).await;
            drop(handled);
        });
        assert!(!ack.durable().await);
        task.await.unwrap();
    }
}
