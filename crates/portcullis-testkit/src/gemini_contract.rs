//! Gemini CLI's contract for hook output (PROTOCOL-GEMINI.md §4-5, checked against the real 0.61.0, and
//! the 0.61 bundle's `docs/hooks/reference.md` for the fields of each event).
//!
//! Gemini reads any JSON object, so a wrong answer is not refused: it is ignored, and the action runs. The
//! contract is therefore what makes an answer *mean* what portcullis means by it:
//! - only the common fields (`decision`, `reason`, `systemMessage`, `continue`, `stopReason`,
//!   `suppressOutput`) and `hookSpecificOutput` at the top;
//! - `decision` is `deny` or `block` (an allow is said by silence), with a non-empty `reason`, and only
//!   on an event where it acts: `BeforeTool` (the call is refused), `AfterTool` (the result is replaced),
//!   `AfterAgent` (the turn is held). Never on `BeforeAgent`, where a deny would discard the prompt (or the
//!   continuation of a held turn), nor where Gemini ignores it;
//! - `hookSpecificOutput.hookEventName` is the Gemini name of the event, and its other keys are the ones
//!   the event reads (`tool_input` on `BeforeTool`, `additionalContext` on `AfterTool`, `BeforeAgent` and
//!   `SessionStart`); Claude Code's `permissionDecision` is never sent (Gemini ignores it and runs the tool);
//! - portcullis never stops the whole agent (`continue: false`).

use serde_json::Value;

/// The top-level fields Gemini reads.
const TOP: &[&str] = &[
    "decision",
    "reason",
    "systemMessage",
    "continue",
    "stopReason",
    "suppressOutput",
    "hookSpecificOutput",
];

/// The `hookSpecificOutput` fields each Gemini event reads (besides `hookEventName`).
fn specific_fields(event: &str) -> &'static [&'static str] {
    match event {
        "BeforeTool" => &["tool_input"],
        "AfterTool" | "BeforeAgent" | "SessionStart" => &["additionalContext"],
        _ => &[],
    }
}

/// Every way `answer` to the Gemini event `event` breaks the contract (see the module docs).
#[must_use]
pub fn breaks(event: &str, answer: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(obj) = answer.as_object() else {
        return vec!["not a JSON object".into()];
    };
    for key in obj.keys() {
        if !TOP.contains(&key.as_str()) {
            out.push(format!("`{key}` is not a field Gemini reads"));
        }
    }
    if let Some(decision) = obj.get("decision") {
        if !matches!(decision.as_str(), Some("deny" | "block")) {
            out.push(format!("decision {decision} is not deny or block"));
        }
        if !matches!(event, "BeforeTool" | "AfterTool" | "AfterAgent") {
            out.push(format!(
                "a decision on {event} is ignored or discards the prompt"
            ));
        }
        if obj
            .get("reason")
            .and_then(Value::as_str)
            .is_none_or(|r| r.trim().is_empty())
        {
            out.push("a decision without a reason".into());
        }
    }
    if obj.get("continue") == Some(&Value::Bool(false)) {
        out.push("`continue: false` stops the whole agent".into());
    }
    for key in ["systemMessage", "reason"] {
        if obj.get(key).is_some_and(|v| !v.is_string()) {
            out.push(format!("`{key}` is not a string"));
        }
    }
    if let Some(hso) = obj.get("hookSpecificOutput") {
        let Some(hso) = hso.as_object() else {
            out.push("hookSpecificOutput is not an object".into());
            return out;
        };
        if hso.get("hookEventName").and_then(Value::as_str) != Some(event) {
            out.push(format!(
                "hookEventName is {:?}, not {event}",
                hso.get("hookEventName")
            ));
        }
        for key in hso.keys().filter(|k| *k != "hookEventName") {
            if !specific_fields(event).contains(&key.as_str()) {
                out.push(format!("{event} does not read hookSpecificOutput.{key}"));
            }
        }
        if hso.get("tool_input").is_some_and(|v| !v.is_object()) {
            out.push("tool_input is not an object".into());
        }
        if hso.get("additionalContext").is_some_and(|v| !v.is_string()) {
            out.push("additionalContext is not a string".into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claude_s_deny_and_stray_fields_break_it() {
        assert!(breaks("BeforeTool", &json!({"decision": "deny", "reason": "r"})).is_empty());
        let claude = json!({"hookSpecificOutput": {"hookEventName": "BeforeTool", "permissionDecision": "deny"}});
        assert_eq!(breaks("BeforeTool", &claude).len(), 1);
        assert!(!breaks("BeforeAgent", &json!({"decision": "deny", "reason": "r"})).is_empty());
        assert!(!breaks("AfterAgent", &json!({"decision": "block"})).is_empty());
        assert!(!breaks("AfterTool", &json!({"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "c"}})).is_empty());
        assert!(!breaks("SessionEnd", &json!({"updatedInput": {}})).is_empty());
    }
}
