//! The one way async code reaches the engine: store work (sled's fsyncs,
//! PostgreSQL's round trips) runs on tokio's blocking pool, never on the
//! async threads that carry chat, CI and HTTP traffic.

use super::{Engine, EngineError};

impl Engine {
    /// Runs `work` on the blocking pool and waits for it. A panic inside is
    /// logged and answered as an internal error; the bot goes on.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<T, EngineError> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || work(&engine))
            .await
            .map_err(|error| {
                tracing::error!(%error, "store work panicked or was cancelled");
                EngineError::Internal(error.to_string())
            })
    }
}
