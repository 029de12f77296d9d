//! Keeping an idle bot small. glibc's malloc gives each thread that
//! allocates an arena of its own (up to eight per core), and keeps the pages
//! it freed inside a heap until asked to give them back. A bot's threads
//! mostly wait, and its start (opening the store reads much and keeps
//! little) leaves the most behind, so it asks for few arenas at start and
//! gives back what it freed when it falls idle.

use std::time::Duration;

/// How long the bot goes without work before it gives freed memory back.
pub const IDLE: Duration = Duration::from_millis(250);

/// Few arenas: call before the first thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of glibc's allocator; it is called
    // once, from `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the pages malloc holds free back to the OS (a few milliseconds
/// on a large heap: call it when idle, not per command).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe; it takes each arena's lock.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Gives freed memory back every `every`, for a server that is never
/// "between lines" as the shell is.
pub async fn give_back_every(every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let _ = tokio::task::spawn_blocking(give_back).await;
    }
}
