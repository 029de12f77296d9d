//! The built-in `simulate` CI kind: accepts every job at once and reports the
//! configured outcome after a delay. It lets the demo and the tests reach
//! `deployed` without a CI system.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::outbox::CiJob;
use crate::domain::release::JobOutcome;

/// What the simulated CI answers: a run URL, and when it will report what.
pub fn accept(
    job: &CiJob,
    delay: Duration,
    outcome: JobOutcome,
    now: DateTime<Utc>,
) -> (String, DateTime<Utc>, JobOutcome) {
    let delay = chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::seconds(0));
    (
        format!("simulate://{}/{}", job.environment, job.key),
        now + delay,
        outcome,
    )
}
