//! [`Deadline`]: the point after which growing work (transcripts, git, file walks) must stop. A leaf value.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A point in time after which growing work (transcripts, git, file walks) must stop.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end: Instant,
}

impl Deadline {
    /// A deadline `d` from now.
    #[must_use]
    pub fn after(d: Duration) -> Self {
        Self {
            end: Instant::now() + d,
        }
    }

    /// True once the deadline has passed.
    #[must_use]
    pub fn expired(&self) -> bool {
        Instant::now() >= self.end
    }

    /// Time left (zero once passed).
    #[must_use]
    pub fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// `Err(DeadlineExceeded(phase))` once the deadline has passed.
    pub fn check(&self, phase: &'static str) -> Result<()> {
        if self.expired() {
            Err(Error::DeadlineExceeded(phase))
        } else {
            Ok(())
        }
    }
}
