//! The advisor (seed 002 §10.1): another model, run as a configured command with a prompt on stdin and a
//! time limit, whose answer is one short hint. escalation-advisor asks it why an agent is stuck;
//! handoff-router asks it what to do with a blocked subagent when its routing table says so. The config
//! section (`escalation_advisor`) lives here with the runner, so neither hook crate depends on the other.

mod ask;
mod config;

pub use ask::{AdvisorError, MAX_ANSWER_BYTES, MAX_HINT_CHARS, ask, clean_hint};
pub use config::{ADVISOR_MAX_TIMEOUT_SECS, EscalationAdvisorConfig};

/// The deadline of a hook that may wait for the advisor ([`ADVISOR_MAX_TIMEOUT_SECS`] at most).
pub const ADVISOR_HOOK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(50);

/// The `timeout` hooks.json gives the client for such a hook, above [`ADVISOR_HOOK_DEADLINE`].
pub const ADVISOR_HOOK_TIMEOUT_SECS: u32 = 60;
