//! The one way async code does store work: sled's fsyncs and PostgreSQL's
//! round trips run on tokio's blocking pool, never on the async threads
//! that carry chat, CI and HTTP traffic. The chat layers, the relay, the
//! notifier, the scheduler, the HTTP handlers and shutdown all come here.

use super::{Engine, EngineError};

/// Runs `work` on the blocking pool and waits for it. A panic inside is
/// logged (with `what` was being done) and answered as an internal error;
/// the bot goes on.
pub async fn off_async_threads<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, what, "store work panicked or was cancelled");
        EngineError::Internal(format!("{what}: {error}"))
    })
}

impl Engine {
    /// Runs `work` against this engine on the blocking pool and waits for it.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<T, EngineError> {
        let engine = self.clone();
        off_async_threads("engine work", move || work(&engine)).await
    }

    /// Like `blocking`, for work that can fail itself: one error either way.
    pub async fn blocking_try<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Engine) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        self.blocking(work).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_store_work_is_an_internal_error_not_a_crash() {
        let answer: Result<(), _> = off_async_threads("testing", || panic!("boom")).await;
        match answer {
            Err(EngineError::Internal(why)) => assert!(why.starts_with("testing: "), "{why}"),
            other => panic!("expected an internal error, got {other:?}"),
        }
        assert_eq!(off_async_threads("testing", || 7).await.unwrap(), 7);
    }
}
