//! The `agent_first` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Mode, Section};
use serde::{Deserialize, Serialize};

/// `agent_first`: which main-thread edits must go to a domain's developer agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentFirstConfig {
    /// `enforce` (deny), `warn` (allow + reminder) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The developer agent's name for a domain; `{domain}` is replaced. Default `{domain}-developer`.
    pub agent_pattern: String,
    /// Globs the main thread may always edit. Default: `.claude/**` (notes and plans go to `.claude/.output/`,
    /// where output-location wants them) and `**/CLAUDE.md`.
    pub exempt: Vec<String>,
    /// Main-thread agent types (`claude --agent X`) that may edit domain files themselves. Default none.
    pub exempt_agent_types: Vec<String>,
    /// Also check Bash commands that plainly write a file (`>`, `tee`, `sed -i`, `cp`, `mv`). Default `true`.
    pub shell_writes: bool,
}

impl Default for AgentFirstConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            agent_pattern: "{domain}-developer".into(),
            exempt: [".claude/**", "**/CLAUDE.md"].map(String::from).to_vec(),
            exempt_agent_types: Vec::new(),
            shell_writes: true,
        }
    }
}

impl Section for AgentFirstConfig {
    const KEY: &'static str = "agent_first";
}
