//! Registration is data: this table says which binary handles which events with which matcher.
//! `hooks.json`, `portcullis install` and `portcullis doctor` are all generated from it, and a test fails
//! when the committed `hooks.json` disagrees with it.

use crate::run::Failure;

/// One (event, matcher) a hook binary is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// The hook event, e.g. `"PreToolUse"`.
    pub event: &'static str,
    /// The matcher (PROTOCOL.md §4), or `None` for every occurrence.
    pub matcher: Option<&'static str>,
}

/// One hook binary of the suite.
#[derive(Debug, Clone, Copy)]
pub struct HookSpec {
    /// Binary, package and hooks.json name.
    pub name: &'static str,
    /// One line: what it enforces.
    pub summary: &'static str,
    /// The events it handles.
    pub registrations: &'static [Registration],
    /// The `timeout` (seconds) hooks.json gives Claude Code; above the hook's own deadline.
    pub timeout_secs: u32,
    /// The hook's own deadline, [`crate::Hook::DEADLINE`] (the default, [`crate::budget::HOOK_DEADLINE`], for all
    /// but escalation-advisor, whose tests check that the two agree).
    pub deadline: std::time::Duration,
    /// What the hook does when it cannot decide.
    pub on_error: Failure,
}

/// The matcher for the file-editing tools (`MultiEdit` for older clients).
pub const FILE_EDIT_MATCHER: &str = "Write|Edit|MultiEdit|NotebookEdit";

/// Every hook binary of the suite.
pub const HOOKS: &[HookSpec] = &[
    HookSpec {
        name: "agent-first",
        summary: "The main thread may not edit a file whose domain has a developer agent: it is told to spawn that agent.",
        registrations: &[Registration {
            event: "PreToolUse",
            matcher: Some("Write|Edit|MultiEdit|NotebookEdit|Bash"),
        }],
        timeout_secs: 10,
        deadline: crate::budget::HOOK_DEADLINE,
        on_error: Failure::Open,
    },
    HookSpec {
        name: "compaction-gate",
        summary: "Measures the context in use from the transcript: warns from 75%, refuses to spawn subagents from 85%.",
        registrations: &[
            Registration {
                event: "PreToolUse",
                matcher: Some("Agent|Task"),
            },
            Registration {
                event: "UserPromptSubmit",
                matcher: None,
            },
        ],
        timeout_secs: 10,
        deadline: crate::budget::HOOK_DEADLINE,
        on_error: Failure::Open,
    },
    HookSpec {
        name: "feedback-loop",
        summary: "Edits mark their domain modified; the turn may not end until every modified domain has passed review and testing.",
        registrations: &[
            Registration {
                event: "PostToolUse",
                matcher: Some("Write|Edit|MultiEdit|NotebookEdit|Bash"),
            },
            Registration {
                event: "PostToolUseFailure",
                matcher: Some("Bash"),
            },
            Registration {
                event: "SubagentStop",
                matcher: None,
            },
            Registration {
                event: "Stop",
                matcher: None,
            },
        ],
        timeout_secs: 10,
        deadline: crate::budget::HOOK_DEADLINE,
        on_error: Failure::Open,
    },
    HookSpec {
        name: "output-location",
        summary: "Markdown outputs that appear outside .claude/.output/ block the subagent's or turn's end, with safe fix commands from the git state.",
        registrations: &[
            Registration {
                event: "SessionStart",
                matcher: Some("startup|resume|clear"),
            },
            Registration {
                event: "PostToolUse",
                matcher: Some(FILE_EDIT_MATCHER),
            },
            Registration {
                event: "SubagentStop",
                matcher: None,
            },
            Registration {
                event: "Stop",
                matcher: None,
            },
        ],
        timeout_secs: 10,
        deadline: crate::budget::HOOK_DEADLINE,
        on_error: Failure::Open,
    },
    HookSpec {
        name: "loop-detect",
        summary: "Near-identical final answers in a row, or one exact call failing again and again, mean an agent is stuck: Claude and the user are told, and the decision log records it.",
        registrations: &[
            Registration {
                event: "PostToolUse",
                matcher: None,
            },
            Registration {
                event: "PostToolUseFailure",
                matcher: None,
            },
            Registration {
                event: "SubagentStop",
                matcher: None,
            },
            Registration {
                event: "Stop",
                matcher: None,
            },
        ],
        timeout_secs: 10,
        deadline: crate::budget::HOOK_DEADLINE,
        on_error: Failure::Open,
    },
    HookSpec {
        name: "iteration-limit",
        summary: "Attempts of one call are capped per agent and prompt (10); `iteration-limit loop start --promise TEXT -- PROMPT` feeds the prompt back at each Stop until the answer is exactly <promise>TEXT</promise>.",
        registrations: &[
            // Calls that change something or cost something; reads never spawn the hook at all.
            Registration {
                event: "PreToolUse",
                matcher: Some(
                    "^(Bash|Write|Edit|MultiEdit|NotebookEdit|Agent|Task|WebFetch|WebSearch|Skill|mcp__.*)$",
                ),
            },
            Registration {
                event: "UserPromptSubmit",
                matcher: None,
            },
            Registration {
                event: "Stop",
                matcher: None,
            },
        ],
        timeout_secs: 10,
        deadline: crate::budget::HOOK_DEADLINE,
        on_error: Failure::Open,
    },
    HookSpec {
        name: "escalation-advisor",
        summary: "When more than 3 stops of an agent in a row were blocked, or loop-detect found it stuck, another model reads the transcript tail and gives a one-line hint (a fallback from the decision log when it cannot).",
        registrations: &[
            Registration {
                event: "SubagentStop",
                matcher: None,
            },
            Registration {
                event: "Stop",
                matcher: None,
            },
        ],
        // It may wait for the advisor model (`escalation_advisor.timeout_secs`, at most 40 s).
        timeout_secs: crate::budget::ADVISOR_HOOK_TIMEOUT_SECS,
        deadline: crate::budget::ADVISOR_HOOK_DEADLINE,
        on_error: Failure::Open,
    },
];

/// The names of all hook binaries plus the manager CLI: everything `install.sh` installs.
#[must_use]
pub fn binaries() -> Vec<&'static str> {
    HOOKS.iter().map(|h| h.name).chain(["portcullis"]).collect()
}

/// Finds a hook by name.
#[must_use]
pub fn hook(name: &str) -> Option<&'static HookSpec> {
    HOOKS.iter().find(|h| h.name == name)
}
