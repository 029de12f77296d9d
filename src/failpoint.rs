//! Named failpoints for crash tests. A test arms a point for one subject (a
//! delivery id, say), so tests running side by side never trip each other's,
//! and the next pass through that point for that subject panics; a point
//! named in `RELEASEBOT_FAILPOINTS` aborts the process, as a SIGKILL would,
//! whatever the subject. Unarmed, a failpoint costs one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// Set once anything was armed, so the common path never takes the lock.
static ANY_ARMED: AtomicBool = AtomicBool::new(false);
/// (point, subject) armed by tests in this process; each fires once.
static ARMED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Points that abort the process, from `RELEASEBOT_FAILPOINTS` (comma-separated).
fn aborting() -> &'static [String] {
    static FROM_ENV: OnceLock<Vec<String>> = OnceLock::new();
    FROM_ENV.get_or_init(|| {
        let names: Vec<String> = std::env::var("RELEASEBOT_FAILPOINTS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        if !names.is_empty() {
            ANY_ARMED.store(true, Ordering::Relaxed);
        }
        names
    })
}

/// Makes the next pass through `name` for `subject` in this process panic.
pub fn arm(name: &str, subject: &str) {
    ARMED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((name.to_string(), subject.to_string()));
    ANY_ARMED.store(true, Ordering::Relaxed);
}

/// Whether `name` aborts the process here (named in `RELEASEBOT_FAILPOINTS`):
/// a point may first make on disk what a crash there could find.
pub fn aborts_at(name: &str) -> bool {
    aborting().iter().any(|n| n == name)
}

/// Marks a point where a crash must not lose or duplicate work.
pub fn hit(name: &str, subject: &str) {
    if aborting().iter().any(|n| n == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
    if !ANY_ARMED.load(Ordering::Relaxed) {
        return;
    }
    let fired = {
        let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
        match armed.iter().position(|(n, s)| n == name && s == subject) {
            Some(at) => {
                armed.remove(at);
                true
            }
            None => false,
        }
    };
    if fired {
        panic!("failpoint {name} for {subject}");
    }
}
