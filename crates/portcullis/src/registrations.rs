//! What a hook is registered for in a client whose events or tool names are not Claude Code's (Gemini,
//! Copilot): one entry per client event, so a hook runs once per event.
//!
//! Gemini names its events its own way ([`portcullis_core::gemini::native_event`]) and matches tool
//! events by a regular expression on its own tool names; Copilot uses Claude Code's names, but fires
//! `PostToolUse` for a failed call too (read as `PostToolUseFailure`). Either way one hook's registrations
//! that land on one client event (`PostToolUse` and `PostToolUseFailure`) are one handler, whose matcher
//! is the union, an anchored regular expression; other events take no matcher, and a `SessionStart`
//! registration only for sources the client never sends (`compact`) is left out.

use portcullis_core::{Client, HookSpec};

/// One handler's registration in a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    /// The client's event name.
    pub event: &'static str,
    /// An anchored regex of the client's tool names, for tool events.
    pub matcher: Option<String>,
}

/// The client's name for an event portcullis reads as `canonical`, or `None` when the client lacks it.
fn native_event(canonical: &'static str, client: Client) -> Option<&'static str> {
    match client {
        Client::Gemini => portcullis_core::gemini::native_event(canonical),
        Client::Copilot if canonical == "PostToolUseFailure" => Some("PostToolUse"),
        Client::Copilot => portcullis_core::client::COPILOT_EVENTS
            .contains(&canonical)
            .then_some(canonical),
        Client::ClaudeCode | Client::Codex => Some(canonical),
    }
}

/// The client's tool names of one Claude Code tool name (or pattern).
fn native_tools(name: &str, client: Client) -> Vec<&'static str> {
    let name = match name {
        "MultiEdit" => "Edit",
        "Task" => "Agent",
        n => n,
    };
    match client {
        Client::Gemini if name.starts_with("mcp__") => vec!["mcp_.*"],
        Client::Gemini => portcullis_core::gemini::native_tools(name),
        _ => COPILOT_TOOLS
            .iter()
            .copied()
            .filter(|t| *t == name || (name.starts_with("mcp__") && *t == "mcp__.*"))
            .collect(),
    }
}

/// The tool names Copilot CLI 1.0.102 gives hooks in its PascalCase dialect (PROTOCOL-COPILOT.md §3), and
/// MCP tools as Claude Code names them.
const COPILOT_TOOLS: &[&str] = &[
    "Bash", "Write", "Edit", "Read", "Agent", "Grep", "Glob", "WebFetch", "Skill", "mcp__.*",
];

/// The tool names (or patterns) of a Claude Code tool matcher, in the client's names; tools the client
/// lacks (`NotebookEdit`, …) are left out.
fn tools_of(matcher: &str, client: Client) -> Vec<&'static str> {
    let inner = matcher
        .strip_prefix("^(")
        .and_then(|m| m.strip_suffix(")$"))
        .unwrap_or(matcher);
    let mut out: Vec<&'static str> = Vec::new();
    for name in inner.split('|').map(str::trim) {
        for n in native_tools(name, client) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// What `hook` is registered for in `client` (see the module docs): one entry per client event.
#[must_use]
pub fn registrations(hook: &HookSpec, client: Client) -> Vec<ClientRegistration> {
    let tool_event =
        |e: &str| matches!(e, "BeforeTool" | "AfterTool" | "PreToolUse" | "PostToolUse");
    // Client event → the tools (None: all of them).
    let mut by_event: Vec<(&'static str, Option<Vec<&'static str>>)> = Vec::new();
    for reg in hook.registrations_for(client) {
        let Some(event) = native_event(reg.event, client) else {
            continue;
        };
        let tools = match (tool_event(event), reg.matcher) {
            (true, Some(m)) => {
                let tools = tools_of(m, client);
                if tools.is_empty() {
                    continue; // none of the tools exists in the client
                }
                Some(tools)
            }
            (false, Some(m))
                if reg.event == "SessionStart"
                    && !m
                        .split('|')
                        .any(|s| matches!(s, "startup" | "resume" | "clear")) =>
            {
                continue;
            }
            _ => None,
        };
        match by_event.iter_mut().find(|(e, _)| *e == event) {
            Some((_, merged)) => {
                *merged = match (merged.take(), tools) {
                    (Some(mut a), Some(b)) => {
                        for t in b {
                            if !a.contains(&t) {
                                a.push(t);
                            }
                        }
                        Some(a)
                    }
                    _ => None,
                };
            }
            None => by_event.push((event, tools)),
        }
    }
    by_event
        .into_iter()
        .map(|(event, tools)| ClientRegistration {
            event,
            matcher: tools.map(|t| format!("^({})$", t.join("|"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> HookSpec {
        *portcullis_suite::HOOKS
            .iter()
            .find(|h| h.name == name)
            .unwrap()
    }

    #[test]
    fn mcp_and_missing_tools() {
        assert_eq!(
            tools_of("^(Bash|WebFetch|mcp__.*)$", Client::Gemini),
            vec!["run_shell_command", "web_fetch", "mcp_.*"]
        );
        assert!(tools_of("NotebookEdit", Client::Gemini).is_empty());
        assert_eq!(
            tools_of("Write|Edit|MultiEdit|NotebookEdit|Bash", Client::Copilot),
            vec!["Write", "Edit", "Bash"]
        );
    }

    #[test]
    fn in_copilot_a_failure_is_a_post_tool_use_and_one_handler_takes_both() {
        let regs = registrations(&spec("feedback-loop"), Client::Copilot);
        let post: Vec<_> = regs.iter().filter(|r| r.event == "PostToolUse").collect();
        assert_eq!(post.len(), 1, "{regs:?}");
        assert_eq!(post[0].matcher.as_deref(), Some("^(Write|Edit|Bash)$"));
        assert!(regs.iter().any(|r| r.event == "SubagentStop"));
        assert!(!regs.iter().any(|r| r.event == "PostToolUseFailure"));
        let output = registrations(&spec("output-location"), Client::Copilot);
        assert!(
            output
                .iter()
                .any(|r| r.event == "SessionStart" && r.matcher.is_none()),
            "Copilot's source is `new`: no matcher"
        );
    }
}
