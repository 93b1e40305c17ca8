//! The suite: every hook binary of portcullis, in one list.
//!
//! Each entry is read from the hook's own constants ([`portcullis_core::Hook`]: name, summary, events,
//! timeout, deadline, failure policy, config sections, environment variables, `decide`), so a hook's
//! registration is written once, in its own crate. Adding a hook is one line in [`HOOKS`]; hooks.json,
//! `portcullis install`/`doctor`/`explain`/`replay`, the contract and bad-input suites, the fuzzer and the
//! process bench all iterate this list (see "Adding a hook" in the README).

use portcullis_core::config::{CORE_SECTIONS, SectionSpec};
use portcullis_core::{HookSpec, env_vars};

/// Every hook binary of the suite, in the order hooks.json lists them.
pub const HOOKS: &[HookSpec] = &[
    HookSpec::of::<agent_first::AgentFirst>(),
    HookSpec::of::<compaction_gate::CompactionGate>(),
    HookSpec::of::<feedback_loop::FeedbackLoop>(),
    HookSpec::of::<output_location::OutputLocation>(),
    HookSpec::of::<loop_detect::LoopDetect>(),
    HookSpec::of::<iteration_limit::IterationLimit>(),
    HookSpec::of::<escalation_advisor::EscalationAdvisor>(),
    HookSpec::of::<workspace_guard::WorkspaceGuard>(),
    HookSpec::of::<secret_guard::SecretGuard>(),
    HookSpec::of::<context_filter::ContextFilter>(),
    HookSpec::of::<definition_audit::DefinitionAudit>(),
    HookSpec::of::<feature_progress::FeatureProgress>(),
    HookSpec::of::<skill_gateway::SkillGateway>(),
    HookSpec::of::<handoff_router::HandoffRouter>(),
];

/// The manager's binary name.
pub const MANAGER: &str = "portcullis";

/// The names of all hook binaries plus the manager: everything `install.sh` installs.
#[must_use]
pub fn binaries() -> Vec<&'static str> {
    HOOKS.iter().map(|h| h.name).chain([MANAGER]).collect()
}

/// Finds a hook by name.
#[must_use]
pub fn hook(name: &str) -> Option<&'static HookSpec> {
    HOOKS.iter().find(|h| h.name == name)
}

/// Every config section of the suite, core's first, each key once (sections shared by several hooks,
/// such as `domains`, appear once).
#[must_use]
pub fn sections() -> Vec<SectionSpec> {
    let mut out: Vec<SectionSpec> = Vec::new();
    for s in CORE_SECTIONS
        .iter()
        .chain(HOOKS.iter().flat_map(|h| h.sections))
    {
        if !out.iter().any(|o| o.key == s.key) {
            out.push(*s);
        }
    }
    out
}

/// Every environment variable the suite reads: the chassis' own, then each hook's, each once.
#[must_use]
pub fn env_vars() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for v in env_vars::ALL
        .iter()
        .chain(HOOKS.iter().flat_map(|h| h.env_vars))
    {
        if !out.contains(v) {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_hook_decides_before_it_is_killed() {
        for (i, h) in HOOKS.iter().enumerate() {
            assert!(
                HOOKS[i + 1..].iter().all(|o| o.name != h.name),
                "{} twice",
                h.name
            );
            assert!(!h.registrations.is_empty(), "{} has no events", h.name);
            assert!(
                h.deadline.as_secs() < u64::from(h.timeout_secs),
                "{}: deadline {:?} must be below its timeout {} s",
                h.name,
                h.deadline,
                h.timeout_secs
            );
        }
    }

    #[test]
    fn no_section_name_is_a_near_miss_of_another() {
        // A hook refuses a top-level key within the near-miss distance of one of its own sections as a
        // typo; another hook's real section must never be taken for one.
        let keys: Vec<&str> = sections().iter().map(|s| s.key).collect();
        for a in &keys {
            for b in &keys {
                if a != b {
                    let score = strsim::jaro_winkler(a, b);
                    assert!(
                        score < portcullis_core::config::NEAR_MISS,
                        "`{a}` and `{b}` are {score:.2} alike"
                    );
                }
            }
        }
    }

    #[test]
    fn sections_and_variables_are_listed_once() {
        let keys: Vec<&str> = sections().iter().map(|s| s.key).collect();
        assert_eq!(keys.iter().filter(|k| **k == "domains").count(), 1);
        assert!(keys.starts_with(&["log", "stop"]));
        let vars = env_vars();
        assert!(vars.contains(&"PORTCULLIS_CONTEXT_WINDOW"));
        assert!(vars.contains(&"CLAUDE_PROJECT_DIR"));
    }
}
