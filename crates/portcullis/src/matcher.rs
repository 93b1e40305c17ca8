//! Claude Code's matcher rules (PROTOCOL.md §4), so `explain` and `replay` fire exactly the hooks the
//! client would.
//!
//! - absent, `""` or `"*"`: everything;
//! - only `[A-Za-z0-9_|, -]`: a list split on `|` or `,`, compared exactly (legacy aliases count:
//!   `Task` matches `Agent`);
//! - anything else: an unanchored regular expression; an invalid one matches nothing.
//!
//! Gemini CLI matches only `BeforeTool`/`AfterTool`, by a regular expression on its own tool name
//! (PROTOCOL-GEMINI.md §2).

use portcullis_core::event::{Event, EventName};

/// The event field a matcher is tested against, or `None` when the event ignores matchers.
#[must_use]
pub fn target(event: &Event) -> Option<Option<&str>> {
    use EventName as E;
    let field = match event.name() {
        E::PreToolUse
        | E::PostToolUse
        | E::PostToolUseFailure
        | E::PermissionRequest
        | E::PermissionDenied => event.tool_name.as_deref(),
        E::SessionStart | E::ConfigChange | E::DirectoryAdded => event.source.as_deref(),
        E::SessionEnd => event.reason.as_deref(),
        E::SubagentStart | E::SubagentStop => event.agent_type.as_deref(),
        E::PreCompact | E::PostCompact | E::Setup => event.trigger.as_deref(),
        E::Notification => event.notification_type.as_deref(),
        E::StopFailure => event.error.as_deref(),
        E::UserPromptExpansion => event.command_name.as_deref(),
        E::Elicitation | E::ElicitationResult => event.mcp_server_name.as_deref(),
        E::InstructionsLoaded => event.load_reason.as_deref(),
        E::PreModelSwitch | E::PostModelSwitch => event.to_model.as_deref(),
        E::FileChanged => event
            .file_path
            .as_deref()
            .and_then(|p| p.rsplit(['/', '\\']).next()),
        _ => return None,
    };
    Some(field)
}

/// Legacy tool names and what they stand for now.
const ALIASES: &[(&str, &str)] = &[
    ("Task", "Agent"),
    ("KillShell", "TaskStop"),
    ("KillBash", "TaskStop"),
    ("ListMcpResources", "ListMcpResourcesTool"),
];

/// True when a handler group with `matcher` runs for `event`.
#[must_use]
pub fn matches(matcher: Option<&str>, event: &Event) -> bool {
    if event.client == portcullis_core::Client::Gemini {
        // Gemini matches only its tool events, by a regular expression on its own tool name.
        let tool_event = matches!(event.client_event_name(), "BeforeTool" | "AfterTool");
        return match (tool_event, matcher.filter(|m| !m.is_empty() && *m != "*")) {
            (true, Some(m)) => regex::Regex::new(m)
                .is_ok_and(|re| re.is_match(event.client_tool_name().unwrap_or_default())),
            _ => true,
        };
    }
    let Some(target) = target(event) else {
        return true; // this event ignores matchers
    };
    matches_target(matcher, target.unwrap_or_default())
}

/// The §4 algorithm on a plain target string.
#[must_use]
pub fn matches_target(matcher: Option<&str>, target: &str) -> bool {
    let m = matcher.unwrap_or_default();
    if m.is_empty() || m == "*" {
        return true;
    }
    let simple = m
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '|' | ',' | ' ' | '-'));
    if simple {
        return m
            .split(['|', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .any(|name| {
                name == target
                    || ALIASES
                        .iter()
                        .any(|(old, new)| *old == name && *new == target)
            });
    }
    regex::Regex::new(m).is_ok_and(|re| re.is_match(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_captured_from_the_real_client() {
        // PROTOCOL.md §4, C3.
        assert!(!matches_target(Some("Wri"), "Write"));
        assert!(matches_target(Some("^Wri"), "Write"));
        assert!(matches_target(Some("Read, Edit"), "Read"));
        assert!(matches_target(Some("Read, Edit"), "Edit"));
        assert!(!matches_target(Some("read"), "Read"));
        assert!(matches_target(Some("Ed.t"), "Edit"));
        assert!(matches_target(Some("Task"), "Agent"));
        assert!(matches_target(Some("*"), "Anything"));
        assert!(matches_target(None, "Anything"));
        assert!(matches_target(Some("Edit.*"), "NotebookEdit"));
        assert!(!matches_target(Some("mcp__memory"), "mcp__memory__create"));
        assert!(matches_target(
            Some("mcp__memory__.*"),
            "mcp__memory__create"
        ));
        assert!(!matches_target(Some("("), "("));
    }

    #[test]
    fn stop_ignores_matchers() {
        let e = Event::parse(br#"{"hook_event_name":"Stop"}"#).unwrap();
        assert!(matches(Some("Nothing"), &e));
    }
}
