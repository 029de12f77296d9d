//! Counters for `/metrics`, in the Prometheus text format. A handful of
//! atomics; no registry needed.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the callback latency histogram, in seconds.
const BUCKETS: [f64; 8] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0];

#[derive(Debug, Default)]
pub struct Metrics {
    pub jobs_sent: AtomicU64,
    pub jobs_retried: AtomicU64,
    pub jobs_failed: AtomicU64,
    pub callbacks_rejected: AtomicU64,
    pub http_connections_refused: AtomicU64,
    pub http_connections_evicted: AtomicU64,
    callback_buckets: [AtomicU64; BUCKETS.len()],
    callback_count: AtomicU64,
    callback_micros: AtomicU64,
}

impl Metrics {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long a CI callback took from arrival to its announcement being queued.
    pub fn observe_callback(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.callback_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.callback_count.fetch_add(1, Ordering::Relaxed);
        self.callback_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The text `/metrics` serves; outbox depths are read at scrape time.
    pub fn render(
        &self,
        outbox_notify: usize,
        outbox_ci: usize,
        leases: crate::store::LeaseCounts,
        feed: crate::store::FeedCounts,
    ) -> String {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let counters = [
            (
                "releasebot_ci_jobs_sent_total",
                "CI requests sent, retries included.",
                &self.jobs_sent,
            ),
            (
                "releasebot_ci_jobs_retried_total",
                "CI requests that will be tried again.",
                &self.jobs_retried,
            ),
            (
                "releasebot_ci_jobs_failed_total",
                "CI jobs given up on (4xx, attempts exhausted, timed out).",
                &self.jobs_failed,
            ),
            (
                "releasebot_ci_callbacks_rejected_total",
                "CI callbacks refused (signature, age, unknown release).",
                &self.callbacks_rejected,
            ),
            (
                "releasebot_http_connections_refused_total",
                "HTTP connections closed on arrival because [http] max_connections were open, each busy with a request.",
                &self.http_connections_refused,
            ),
            (
                "releasebot_http_connections_evicted_total",
                "Connections still waiting for a request's headers, closed (oldest first) to admit a new one at [http] max_connections.",
                &self.http_connections_evicted,
            ),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                load(counter)
            );
        }
        let name = "releasebot_ci_callback_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a CI callback's arrival to its announcement being queued."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (bucket, bound) in self.callback_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", load(bucket));
        }
        let count = load(&self.callback_count);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            load(&self.callback_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
        render_store(&mut out, (outbox_notify, outbox_ci), leases);
        render_feed(&mut out, &feed);
        out
    }
}

/// What the store says: outbox depths, claims and takeovers.
fn render_store(
    out: &mut String,
    (outbox_notify, outbox_ci): (usize, usize),
    leases: crate::store::LeaseCounts,
) {
    let name = "releasebot_outbox_depth";
    let _ = writeln!(
        out,
        "# HELP {name} Entries waiting in each outbox.\n# TYPE {name} gauge"
    );
    let _ = writeln!(out, "{name}{{outbox=\"notify\"}} {outbox_notify}");
    let _ = writeln!(out, "{name}{{outbox=\"ci\"}} {outbox_ci}");
    for (name, help, value) in [
        (
            "releasebot_store_claims_total",
            "Outbox entries this instance claimed (or renewed) under a lease.",
            leases.claims,
        ),
        (
            "releasebot_store_takeovers_total",
            "Outbox entries and leases taken over from an instance whose lease ran out.",
            leases.takeovers,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
}

/// The change feed: changes seen, the lag of those from other instances,
/// and the cross-instance listener's connection.
fn render_feed(out: &mut String, feed: &crate::store::FeedCounts) {
    let name = "releasebot_feed_changes_total";
    let _ = writeln!(
        out,
        "# HELP {name} Committed changes seen on the change feed, by origin.\n# TYPE {name} counter"
    );
    let _ = writeln!(out, "{name}{{origin=\"local\"}} {}", feed.local);
    let _ = writeln!(out, "{name}{{origin=\"remote\"}} {}", feed.remote);
    let name = "releasebot_feed_lag_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} From another instance's publish (just before its commit) to this instance hearing of it.\n# TYPE {name} summary"
    );
    let _ = writeln!(out, "{name}_sum {}", feed.lag_ms_sum as f64 / 1e3);
    let _ = writeln!(out, "{name}_count {}", feed.lag_count);
    for (name, kind, help, value) in [
        (
            "releasebot_feed_last_lag_seconds",
            "gauge",
            "The lag of the latest change heard from another instance.",
            feed.lag_ms_last as f64 / 1e3,
        ),
        (
            "releasebot_feed_reconnects_total",
            "counter",
            "Times the cross-instance listener connected again after losing its connection.",
            feed.reconnects as f64,
        ),
        (
            "releasebot_feed_connected",
            "gauge",
            "1 while the cross-instance listener is connected (always on a store only one process opens).",
            u8::from(feed.connected) as f64,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let metrics = Metrics::default();
        Metrics::count(&metrics.jobs_sent);
        metrics.observe_callback(Duration::from_millis(3));
        let text = metrics.render(
            2,
            1,
            crate::store::LeaseCounts {
                claims: 3,
                takeovers: 1,
            },
            crate::store::FeedCounts {
                remote: 4,
                lag_ms_sum: 10,
                lag_count: 4,
                connected: true,
                ..Default::default()
            },
        );
        assert!(text.contains("releasebot_feed_changes_total{origin=\"remote\"} 4\n"));
        assert!(text.contains("releasebot_feed_lag_seconds_sum 0.01\n"));
        assert!(text.contains("releasebot_feed_connected 1\n"));
        assert!(text.contains("releasebot_ci_jobs_sent_total 1\n"));
        assert!(text.contains("releasebot_ci_callback_latency_seconds_bucket{le=\"0.0025\"} 0\n"));
        assert!(text.contains("releasebot_ci_callback_latency_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("releasebot_outbox_depth{outbox=\"ci\"} 1\n"));
        assert!(text.contains("releasebot_store_takeovers_total 1\n"));
    }
}
