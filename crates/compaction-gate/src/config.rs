//! The `compaction_gate` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `compaction_gate`: bands of context use, as percent of the whole window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactionGateConfig {
    /// `enforce` (deny spawning above `block_percent`), `warn` (only warn) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The context window in tokens; `null` (default) detects it: 1M for a 1M session, else 200K.
    /// `PORTCULLIS_CONTEXT_WINDOW` overrides both.
    pub window_tokens: Option<u64>,
    /// From here on Claude and the user are told the figures. Default 75.
    pub warn_percent: f64,
    /// From here on the advice is to compact now. Default 80.
    pub compact_percent: f64,
    /// From here on new subagents are refused. Default 85.
    pub block_percent: f64,
}

impl Default for CompactionGateConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            window_tokens: None,
            warn_percent: 75.0,
            compact_percent: 80.0,
            block_percent: 85.0,
        }
    }
}

impl Section for CompactionGateConfig {
    const KEY: &'static str = "compaction_gate";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        if !(0.0 < self.warn_percent
            && self.warn_percent <= self.compact_percent
            && self.compact_percent <= self.block_percent
            && self.block_percent <= 100.0)
        {
            return Err(format!(
                "`compaction_gate` needs 0 < warn_percent <= compact_percent <= block_percent <= 100 (found {}, {}, {})",
                self.warn_percent, self.compact_percent, self.block_percent
            ));
        }
        if self.window_tokens == Some(0) {
            return Err("`compaction_gate.window_tokens` must be positive".into());
        }
        Ok(())
    }
}
