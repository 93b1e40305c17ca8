//! Delegation: the `agent_first` config section (checked by core's loader through [`Section`]) and which
//! developer agent a domain's work goes to. agent-first enforces it; handoff-router routes to it; the
//! manager shows it. Here, in a library, so that no hook crate depends on another.

use portcullis_core::config::{Mode, Section};
use serde::{Deserialize, Serialize};

use crate::agents::{AgentCatalog, AgentDef};
use crate::domains::DomainMatch;

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

/// The developer agent a main-thread edit in `hit`'s domain goes to: the agent the pattern names for the
/// domain (`{domain}-developer`). For the fallback domain, when it has none: the project's only developer
/// agent, else `backend-developer` (most code outside a UI is backend work), else none.
#[must_use]
pub fn developer_for<'c>(
    rules: &AgentFirstConfig,
    hit: &DomainMatch,
    catalog: &'c AgentCatalog,
) -> Option<&'c AgentDef> {
    let named =
        |domain: &str| catalog.find_for_domain(&rules.agent_pattern.replace("{domain}", domain));
    named(&hit.domain).or_else(|| {
        if !hit.is_fallback() {
            return None;
        }
        let (pre, post) = rules
            .agent_pattern
            .split_once("{domain}")
            .unwrap_or((rules.agent_pattern.as_str(), ""));
        let developers: Vec<&AgentDef> = catalog
            .agents
            .iter()
            .filter(|a| {
                let bare = a.name.rsplit(':').next().unwrap_or(&a.name);
                bare.len() > pre.len() + post.len() && bare.starts_with(pre) && bare.ends_with(post)
            })
            .collect();
        match developers.as_slice() {
            [only] => Some(*only),
            _ => named("backend"),
        }
    })
}
