//! Per-event tasks: each Slack event, Discord interaction or gateway message
//! is handled in its own task (acknowledged once its command is durable,
//! see `ack`). Those tasks are tracked here so that shutdown waits for them
//! (a command half done when the process stops would leave its author
//! without an answer), within a grace; whatever is still running after it
//! is cut, and logged.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

use super::ack::{self, Ack, Handled};

/// How long shutdown waits for per-event tasks under way.
pub const GRACE: Duration = Duration::from_secs(2);

/// Cheap to clone; every clone tracks into the same set.
#[derive(Clone, Default)]
pub struct EventTasks {
    inner: Arc<Mutex<Tracked>>,
}

#[derive(Default)]
struct Tracked {
    running: JoinSet<()>,
    closed: bool,
}

impl EventTasks {
    /// Runs `work` in a tracked task. After shutdown has begun nothing new
    /// starts: the event is dropped, logged, and (not being marked handled)
    /// will be taken again if the platform redelivers it.
    pub fn spawn(&self, what: &'static str, work: impl Future<Output = ()> + Send + 'static) {
        // Nobody waits for this one's ack.
        let _ = self.spawn_acked(what, |handled| {
            drop(handled);
            work
        });
    }

    /// Runs `work` in a tracked task that holds a `Handled` until its
    /// command is durable; the platform acks when the returned `Ack` says
    /// so. After shutdown has begun the event is not taken, and not acked.
    pub fn spawn_acked<F>(&self, what: &'static str, work: impl FnOnce(Handled) -> F) -> Ack
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (handled, ack) = ack::pair(what);
        let mut tracked = self.lock();
        while tracked.running.try_join_next().is_some() {}
        if tracked.closed {
            tracing::warn!(what, "an event arrived while shutting down; not handled");
            handled.abandon();
            return ack;
        }
        tracked.running.spawn(work(handled));
        ack
    }

    /// How many tasks are under way (finished ones not yet reaped count).
    pub fn len(&self) -> usize {
        self.lock().running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops taking new tasks and waits up to `grace` for those under way;
    /// then cuts the rest. Returns how many were cut.
    pub async fn close(&self, grace: Duration) -> usize {
        let mut running = {
            let mut tracked = self.lock();
            tracked.closed = true;
            std::mem::take(&mut tracked.running)
        };
        let drained = tokio::time::timeout(grace, async {
            while let Some(done) = running.join_next().await {
                if let Err(error) = done {
                    if error.is_panic() {
                        tracing::error!(%error, "an event task panicked");
                    }
                }
            }
        })
        .await;
        if drained.is_ok() {
            return 0;
        }
        let cut = running.len();
        tracing::warn!(
            cut,
            "event tasks still running after the grace; cutting them"
        );
        running.shutdown().await;
        cut
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tracked> {
        // A panic while holding this lock cannot leave the set inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl crate::app::Drain for EventTasks {
    async fn close(&self, grace: Duration) {
        EventTasks::close(self, grace).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn close_waits_for_tasks_under_way_and_refuses_new_ones() {
        let tasks = EventTasks::default();
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let done = done.clone();
            tasks.spawn("test", async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(tasks.close(Duration::from_secs(5)).await, 0);
        assert_eq!(
            done.load(Ordering::SeqCst),
            3,
            "close returned before the tasks ended"
        );
        let late = done.clone();
        tasks.spawn("test", async move {
            late.fetch_add(1, Ordering::SeqCst);
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(done.load(Ordering::SeqCst), 3, "a task started after close");
        assert!(tasks.is_empty());
    }

    #[tokio::test]
    async fn a_task_that_never_ends_is_cut_after_the_grace() {
        let tasks = EventTasks::default();
        tasks.spawn("test", std::future::pending());
        tasks.spawn("test", async {});
        assert_eq!(tasks.close(Duration::from_millis(50)).await, 1);
    }

    #[tokio::test]
    async fn finished_tasks_do_not_pile_up() {
        let tasks = EventTasks::default();
        for _ in 0..100 {
            tasks.spawn("test", async {});
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        tasks.spawn("test", async {});
        assert!(tasks.len() <= 2, "{} tasks held", tasks.len());
    }
}
