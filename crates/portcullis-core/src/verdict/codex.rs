//! The Codex dialect of [`Verdict`] rendering: the table in the parent module's docs, written from Codex's
//! output schemas and its output parser's rules (PROTOCOL-CODEX.md §5).

use serde_json::{Map, Value, json};

use super::{Decision, Verdict};
use crate::event::EventName;

impl Verdict {
    /// The Codex dialect (see the parent module's docs).
    pub(super) fn render_codex(&self, event: &EventName) -> Option<Value> {
        use EventName as E;
        let mut out = Map::new();
        let mut specific = Map::new();
        let (mut user, mut reason, context) = self.dialect_parts();
        match event {
            E::PreToolUse => {
                if self.decision == Decision::Allow {
                    if let Some(input) = &self.updated_input {
                        specific.insert("permissionDecision".into(), json!("allow"));
                        specific.insert("updatedInput".into(), input.clone());
                    }
                } else {
                    if self.decision == Decision::Ask {
                        reason.push_str(
                            "\n\n(This needs the user's approval, and Codex cannot ask for it from a hook: the call \
                             is refused. Ask the user, and run it once they agree.)",
                        );
                    }
                    specific.insert("permissionDecision".into(), json!("deny"));
                    specific.insert("permissionDecisionReason".into(), json!(reason));
                }
                if !context.is_empty() {
                    specific.insert("additionalContext".into(), json!(context));
                }
            }
            E::PermissionRequest => {
                if self.decision == Decision::Block {
                    specific.insert(
                        "decision".into(),
                        json!({"behavior": "deny", "message": reason}),
                    );
                }
            }
            E::PostToolUse | E::UserPromptSubmit => {
                let replaced = self
                    .updated_tool_output
                    .as_ref()
                    .filter(|_| *event == E::PostToolUse)
                    .map(output_text);
                if self.decision != Decision::Allow {
                    out.insert("decision".into(), json!("block"));
                    out.insert("reason".into(), json!(reason));
                } else if let Some(mut text) = replaced {
                    // A block's reason is what the model sees instead of the output; Codex refuses an
                    // empty one.
                    if text.trim().is_empty() {
                        "(no output)".clone_into(&mut text);
                    }
                    out.insert("decision".into(), json!("block"));
                    out.insert("reason".into(), json!(text));
                }
                if !context.is_empty() {
                    specific.insert("additionalContext".into(), json!(context));
                }
            }
            E::Stop | E::SubagentStop => {
                if self.decision != Decision::Allow {
                    let text = if context.is_empty() {
                        reason
                    } else {
                        format!("{reason}\n\n{context}")
                    };
                    out.insert("decision".into(), json!("block"));
                    out.insert("reason".into(), json!(text));
                }
            }
            E::SessionStart | E::SubagentStart => {
                if self.decision != Decision::Allow {
                    user.insert(0, reason);
                }
                if !context.is_empty() {
                    specific.insert("additionalContext".into(), json!(context));
                }
            }
            E::PreCompact | E::PostCompact | E::Interrupt => {
                if self.decision != Decision::Allow {
                    user.insert(0, reason);
                }
            }
            _ => return None,
        }
        super::assemble(event.as_str(), out, specific, &user)
    }
}

/// A replaced tool output as the text Codex (or Gemini) shows the model: a string as it is, Claude Code's
/// `{stdout, stderr}` joined, Gemini's `llmContent`, anything else as JSON.
pub(super) fn output_text(output: &Value) -> String {
    match output {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("stdout") || o.contains_key("stderr") => {
            let part = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            let (out, err) = (part("stdout"), part("stderr"));
            if err.is_empty() {
                out.to_owned()
            } else {
                format!("{out}\n{err}")
            }
        }
        Value::Object(o) if o.contains_key("llmContent") => {
            crate::gemini::response_text(o).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;

    #[test]
    fn codex_deny_ask_and_rewrite_speak_its_dialect() {
        let deny = Verdict::deny("no").render_for(&EventName::PreToolUse, Client::Codex);
        assert_eq!(
            deny.unwrap(),
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "no"}})
        );
        let ask = Verdict::ask("sure?")
            .render_for(&EventName::PreToolUse, Client::Codex)
            .unwrap();
        assert_eq!(ask["hookSpecificOutput"]["permissionDecision"], "deny");
        assert!(
            ask["hookSpecificOutput"]["permissionDecisionReason"]
                .as_str()
                .unwrap()
                .starts_with("sure?\n\n(This needs the user's approval")
        );
        let rewrite = Verdict::allow()
            .with_updated_input(json!({"command": "ls"}))
            .render_for(&EventName::PreToolUse, Client::Codex)
            .unwrap();
        assert_eq!(
            rewrite,
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow", "updatedInput": {"command": "ls"}}})
        );
    }

    #[test]
    fn codex_stop_folds_context_into_the_reason_and_never_sends_hook_specific_output() {
        let v = Verdict::block("finish tests")
            .with_context("ctx")
            .render_for(&EventName::Stop, Client::Codex)
            .unwrap();
        assert_eq!(
            v,
            json!({"decision": "block", "reason": "finish tests\n\nctx"})
        );
        assert_eq!(
            Verdict::allow()
                .with_context("ctx")
                .render_for(&EventName::Stop, Client::Codex),
            None
        );
    }

    #[test]
    fn codex_replaced_output_is_a_block_whose_reason_is_the_new_output() {
        let v = Verdict::allow()
            .with_updated_tool_output(json!({"stdout": "key=[REDACTED]", "stderr": ""}))
            .render_for(&EventName::PostToolUse, Client::Codex)
            .unwrap();
        assert_eq!(v, json!({"decision": "block", "reason": "key=[REDACTED]"}));
        let s = Verdict::allow()
            .with_updated_tool_output(json!("x=[REDACTED]\n"))
            .render_for(&EventName::PostToolUse, Client::Codex)
            .unwrap();
        assert_eq!(s["reason"], "x=[REDACTED]\n");
        let empty = Verdict::allow()
            .with_updated_tool_output(json!(""))
            .render_for(&EventName::PostToolUse, Client::Codex)
            .unwrap();
        assert_eq!(
            empty["reason"], "(no output)",
            "Codex refuses an empty reason"
        );
    }

    #[test]
    fn codex_events_without_output_get_none() {
        for event in [
            EventName::SessionEnd,
            EventName::PostToolUseFailure,
            EventName::Notification,
        ] {
            assert_eq!(
                Verdict::block("r")
                    .with_context("c")
                    .render_for(&event, Client::Codex),
                None,
                "{event:?}"
            );
        }
    }
}
