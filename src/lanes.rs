//! Which lanes of outbox work are under way, for the notifier and the relay.
//!
//! A worker reads its outbox, then starts a task per idle lane with what it
//! read. A lane that finished between the read and the start may already
//! have delivered some of what was read, so starting it with that copy would
//! deliver it twice: such a lane is "stale" and waits for the next read.

use std::collections::{HashMap, HashSet};

/// How many finish marks are kept before old ones are swept.
const SWEEP_AT: usize = 4096;

/// Busy lanes and when each last finished, counted in finishes.
#[derive(Debug, Default)]
pub struct LaneMarks {
    busy: HashSet<String>,
    /// Lane runs finished so far: the "time" of a read.
    finished: u64,
    /// At which count each lane last finished.
    finished_at: HashMap<String, u64>,
}

/// Whether a lane may start with what a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Started,
    /// Still under way; its finish wakes the worker.
    Busy,
    /// Finished after the read: read again before starting it.
    Stale,
}

impl LaneMarks {
    /// Taken just before reading the outbox; passed to `start`.
    pub fn read_mark(&self) -> u64 {
        self.finished
    }

    /// Marks `lane` busy unless it is busy or finished since `read_at`.
    pub fn start(&mut self, lane: &str, read_at: u64) -> Start {
        if self.busy.contains(lane) {
            return Start::Busy;
        }
        if self.finished_at.get(lane).is_some_and(|at| *at > read_at) {
            return Start::Stale;
        }
        self.busy.insert(lane.to_string());
        if self.finished_at.len() > SWEEP_AT {
            // Marks no newer than this read can no longer make a lane stale.
            self.finished_at.retain(|_, at| *at > read_at);
        }
        Start::Started
    }

    /// Clears the busy mark of a lane that ended, however it ended.
    pub fn finish(&mut self, lane: &str) {
        self.busy.remove(lane);
        self.finished += 1;
        self.finished_at.insert(lane.to_string(), self.finished);
    }

    pub fn any_busy(&self) -> bool {
        !self.busy.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_that_finished_after_the_read_is_stale_until_read_again() {
        let mut marks = LaneMarks::default();
        let read_at = marks.read_mark();
        assert_eq!(marks.start("api@production", read_at), Start::Started);
        let second_read = marks.read_mark();
        assert_eq!(marks.start("api@production", second_read), Start::Busy);
        marks.finish("api@production");
        assert_eq!(marks.start("api@production", second_read), Start::Stale);
        assert_eq!(marks.start("web@production", second_read), Start::Started);
        let fresh = marks.read_mark();
        assert_eq!(marks.start("api@production", fresh), Start::Started);
    }

    #[test]
    fn old_finish_marks_are_swept_without_forgetting_newer_ones() {
        let mut marks = LaneMarks::default();
        for lane in 0..=SWEEP_AT {
            let read_at = marks.read_mark();
            assert_eq!(marks.start(&lane.to_string(), read_at), Start::Started);
            marks.finish(&lane.to_string());
        }
        let read_at = marks.read_mark();
        marks.finish("late");
        assert_eq!(marks.start("fresh", read_at), Start::Started);
        assert!(marks.finished_at.len() <= 2, "swept");
        assert_eq!(marks.start("late", read_at), Start::Stale);
    }
}
