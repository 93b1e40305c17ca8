//! Copilot CLI's contract for hook output, PascalCase events (PROTOCOL-COPILOT.md §4, checked against the
//! real 1.0.102).
//!
//! Copilot reads any JSON object and ignores what it does not read, so a wrong answer does not fail: it
//! is dropped, and the action runs. The contract is what makes an answer mean in Copilot what portcullis
//! means by it:
//! - at the top only `decision`, `reason`, `additionalContext`, `systemMessage` and `hookSpecificOutput`;
//! - `decision` is `block` with a non-empty `reason`, only where it holds without ending the run: `Stop`,
//!   `SubagentStop`, `PostToolUse` (there it replaces the output). Never on `UserPromptSubmit`, where it
//!   refuses the prompt (or a held turn's continuation) and ends the run, nor on `PreToolUse`, where it is
//!   ignored and the tool runs;
//! - `additionalContext` at the top, only on `SessionStart`, `UserPromptSubmit` and `PostToolUse`;
//! - `hookSpecificOutput` only on `PreToolUse`, with `hookEventName: "PreToolUse"` and a
//!   `permissionDecision` of `deny` (with a reason) or `allow` (with `updatedInput`), the only fields
//!   Copilot reads from it there.

use serde_json::Value;

/// The top-level fields Copilot reads.
const TOP: &[&str] = &[
    "decision",
    "reason",
    "additionalContext",
    "systemMessage",
    "hookSpecificOutput",
];

/// Every way `answer` to the Copilot event `event` breaks the contract (see the module docs).
#[must_use]
pub fn breaks(event: &str, answer: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(obj) = answer.as_object() else {
        return vec!["not a JSON object".into()];
    };
    for key in obj.keys() {
        if !TOP.contains(&key.as_str()) {
            out.push(format!("`{key}` is not a field Copilot reads"));
        }
    }
    if let Some(decision) = obj.get("decision") {
        if decision != "block" {
            out.push(format!("decision {decision} is not block"));
        }
        if !matches!(event, "Stop" | "SubagentStop" | "PostToolUse") {
            out.push(format!("a decision on {event} is ignored or ends the run"));
        }
        if obj
            .get("reason")
            .and_then(Value::as_str)
            .is_none_or(|r| r.trim().is_empty())
        {
            out.push("a decision without a reason".into());
        }
    }
    if obj.contains_key("additionalContext")
        && !matches!(event, "SessionStart" | "UserPromptSubmit" | "PostToolUse")
    {
        out.push(format!("{event} does not read additionalContext"));
    }
    for key in ["systemMessage", "reason", "additionalContext"] {
        if obj.get(key).is_some_and(|v| !v.is_string()) {
            out.push(format!("`{key}` is not a string"));
        }
    }
    if let Some(hso) = obj.get("hookSpecificOutput") {
        if event != "PreToolUse" {
            out.push(format!("{event} ignores hookSpecificOutput"));
            return out;
        }
        let decision = hso["permissionDecision"].as_str();
        match decision {
            Some("deny") => {
                if hso["permissionDecisionReason"]
                    .as_str()
                    .is_none_or(|r| r.trim().is_empty())
                {
                    out.push("a deny without a reason".into());
                }
            }
            Some("allow") if hso["updatedInput"].is_object() => {}
            other => out.push(format!(
                "permissionDecision {other:?}: neither a deny nor a rewrite"
            )),
        }
        if hso["hookEventName"] != "PreToolUse" {
            out.push(format!("hookEventName is {}", hso["hookEventName"]));
        }
        for key in hso.as_object().into_iter().flat_map(|o| o.keys()) {
            if !matches!(
                key.as_str(),
                "hookEventName"
                    | "permissionDecision"
                    | "permissionDecisionReason"
                    | "updatedInput"
            ) {
                out.push(format!("PreToolUse does not read hookSpecificOutput.{key}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_copilot_ignores_or_ends_the_run_with_breaks_it() {
        let deny = json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "r"}});
        assert!(breaks("PreToolUse", &deny).is_empty());
        assert!(!breaks("PreToolUse", &json!({"decision": "block", "reason": "r"})).is_empty());
        assert!(
            !breaks(
                "UserPromptSubmit",
                &json!({"decision": "block", "reason": "r"})
            )
            .is_empty()
        );
        assert!(
            !breaks(
                "Stop",
                &json!({"hookSpecificOutput": {"hookEventName": "Stop", "additionalContext": "c"}})
            )
            .is_empty()
        );
        assert!(
            breaks(
                "PostToolUse",
                &json!({"decision": "block", "reason": "new output"})
            )
            .is_empty()
        );
        assert!(!breaks("Stop", &json!({"continue": false})).is_empty());
    }
}
