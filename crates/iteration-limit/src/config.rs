//! The `iteration_limit` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `iteration_limit`: attempts per call, and completion-promise loops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IterationLimitConfig {
    /// `enforce` (deny past the cap), `warn` (tell the user) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The most attempts of one call (normalised Bash command, or tool and input) per agent and prompt;
    /// the next one is denied. Default `10`.
    pub max_attempts: u32,
    /// Tools whose calls are never counted (reading is not retrying). Default: `Read`, `Glob`, `Grep`,
    /// `LS`, `TodoWrite`, `TaskOutput`, `TaskList`, `TaskGet`.
    pub exempt_tools: Vec<String>,
}

impl Default for IterationLimitConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            max_attempts: 10,
            exempt_tools: [
                "Read",
                "Glob",
                "Grep",
                "LS",
                "TodoWrite",
                "TaskOutput",
                "TaskList",
                "TaskGet",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl Section for IterationLimitConfig {
    const KEY: &'static str = "iteration_limit";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        if self.max_attempts == 0 {
            return Err("`iteration_limit.max_attempts` must be at least 1".into());
        }
        Ok(())
    }
}
