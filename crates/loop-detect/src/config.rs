//! The `loop_detect` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `loop_detect`: when an agent repeats itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopDetectConfig {
    /// `enforce` (tell Claude and the user), `warn` (tell the user only) or `off`. Default `enforce`.
    pub mode: Mode,
    /// Outputs count as near-identical when their similarity is above this (0 to 1). Default `0.9`.
    pub threshold: f64,
    /// How many consecutive near-identical outputs mean stuck (2 to 10). Default `3`.
    pub window: u32,
    /// How many failures in a row of one exact tool call earn a note (2 to 100). Default `3`.
    pub repeated_failures: u32,
}

impl Default for LoopDetectConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            threshold: 0.9,
            window: 3,
            repeated_failures: 3,
        }
    }
}

impl Section for LoopDetectConfig {
    const KEY: &'static str = "loop_detect";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(format!(
                "`loop_detect.threshold` must be between 0 and 1, exclusive (found {})",
                self.threshold
            ));
        }
        if !(2..=10).contains(&self.window) || !(2..=100).contains(&self.repeated_failures) {
            return Err(format!(
                "`loop_detect.window` must be 2 to 10 and `loop_detect.repeated_failures` 2 to 100 (found {} and {})",
                self.window, self.repeated_failures
            ));
        }
        Ok(())
    }
}
