//! The Copilot dialect of [`Verdict`] rendering (PROTOCOL-COPILOT.md §4, Copilot CLI 1.0.102, PascalCase
//! events). Copilot reads most verdicts from top-level fields only (the same fields inside
//! `hookSpecificOutput` are ignored); a PreToolUse deny it reads from `hookSpecificOutput` too.
//!
//! | event | block / deny | ask | context | replaced tool output / input |
//! |---|---|---|---|---|
//! | PreToolUse | `hookSpecificOutput.permissionDecision: "deny"` + reason | deny, saying it needs the user | to the user (`systemMessage`) | `permissionDecision: "allow"` + `updatedInput` |
//! | PostToolUse, PostToolUseFailure | top-level `additionalContext` (the output stays, as in Claude Code) | as block | top-level `additionalContext` | top-level `decision: "block"` with the new output as reason (the model sees `Tool result blocked: <it>`) |
//! | Stop, SubagentStop | top-level `decision: "block"` + reason, context appended | as block | only with a block | - |
//! | UserPromptSubmit | never a block (Copilot would refuse the prompt, or the continuation of a held turn, and end the run): the reason to the user, and as context | - | top-level `additionalContext` | - |
//! | SessionStart | `systemMessage` | - | top-level `additionalContext` | - |
//! | anything else | `systemMessage` | - | - | - |

use serde_json::{Map, Value, json};

use super::{Decision, Verdict};
use crate::event::EventName;

impl Verdict {
    /// The Copilot dialect (see the module docs).
    pub(super) fn render_copilot(&self, event: &EventName) -> Option<Value> {
        use EventName as E;
        if !crate::client::COPILOT_EVENTS.contains(&event.as_str()) {
            return None;
        }
        let mut out = Map::new();
        let mut specific = Map::new();
        let (mut user, mut reason, context) = self.dialect_parts();
        let held = self.decision != Decision::Allow;
        let mut notes: Vec<String> = Vec::new();
        match event {
            E::PreToolUse => {
                if held {
                    if self.decision == Decision::Ask {
                        reason.push_str(
                            "\n\n(This needs the user's approval, and Copilot CLI cannot ask for it from a hook: \
                             the call is refused. Ask the user, and run it once they agree.)",
                        );
                    }
                    specific.insert("permissionDecision".into(), json!("deny"));
                    specific.insert("permissionDecisionReason".into(), json!(reason));
                } else if let Some(input) = &self.updated_input {
                    specific.insert("permissionDecision".into(), json!("allow"));
                    specific.insert("updatedInput".into(), input.clone());
                }
                if !context.is_empty() {
                    user.push(context);
                }
            }
            E::PostToolUse | E::PostToolUseFailure => {
                if held {
                    notes.push(reason);
                }
                if !context.is_empty() {
                    notes.push(context);
                }
                if let Some(output) = &self.updated_tool_output {
                    let mut text = super::codex::output_text(output);
                    if text.trim().is_empty() {
                        "(no output)".clone_into(&mut text);
                    }
                    if !notes.is_empty() {
                        text = format!("{text}\n\n{}", notes.join("\n\n"));
                        notes.clear();
                    }
                    out.insert("decision".into(), json!("block"));
                    out.insert("reason".into(), json!(text));
                }
            }
            E::Stop | E::SubagentStop => {
                if held {
                    let text = if context.is_empty() {
                        reason
                    } else {
                        format!("{reason}\n\n{context}")
                    };
                    out.insert("decision".into(), json!("block"));
                    out.insert("reason".into(), json!(text));
                }
            }
            E::UserPromptSubmit | E::SessionStart => {
                if held {
                    user.insert(0, reason.clone());
                    if *event == E::UserPromptSubmit {
                        notes.push(reason);
                    }
                }
                if !context.is_empty() {
                    notes.push(context);
                }
            }
            _ => {
                if held {
                    user.insert(0, reason);
                }
            }
        }
        if !notes.is_empty() {
            out.insert("additionalContext".into(), json!(notes.join("\n\n")));
        }
        super::assemble(event.as_str(), out, specific, &user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;

    fn render(v: &Verdict, event: &EventName) -> Option<Value> {
        v.render_for(event, Client::Copilot)
    }

    #[test]
    fn a_deny_is_claude_s_permission_decision_and_a_rewrite_says_allow() {
        assert_eq!(
            render(&Verdict::deny("no"), &EventName::PreToolUse).unwrap(),
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "no"}})
        );
        let rewrite = Verdict::allow().with_updated_input(json!({"command": "ls"}));
        assert_eq!(
            render(&rewrite, &EventName::PreToolUse).unwrap()["hookSpecificOutput"]["permissionDecision"],
            "allow"
        );
    }

    #[test]
    fn context_and_holds_are_top_level() {
        assert_eq!(
            render(
                &Verdict::block("run the tests").with_context("c"),
                &EventName::Stop
            )
            .unwrap(),
            json!({"decision": "block", "reason": "run the tests\n\nc"})
        );
        assert_eq!(
            render(
                &Verdict::allow().with_context("c"),
                &EventName::UserPromptSubmit
            )
            .unwrap(),
            json!({"additionalContext": "c"})
        );
        let post = render(&Verdict::block("fix it"), &EventName::PostToolUse).unwrap();
        assert_eq!(
            post,
            json!({"additionalContext": "fix it"}),
            "the output stays"
        );
        let replaced = Verdict::allow()
            .with_updated_tool_output(json!("key=[REDACTED]"))
            .with_context("[secret-guard] replaced");
        let out = render(&replaced, &EventName::PostToolUseFailure).unwrap();
        assert_eq!(out["decision"], "block");
        assert_eq!(out["reason"], "key=[REDACTED]\n\n[secret-guard] replaced");
    }

    #[test]
    fn a_prompt_is_never_refused_and_unknown_events_get_nothing() {
        let out = render(&Verdict::block("too full"), &EventName::UserPromptSubmit).unwrap();
        assert!(out.get("decision").is_none());
        assert_eq!(out["additionalContext"], "too full");
        assert_eq!(
            render(&Verdict::block("r"), &EventName::SubagentStart),
            None
        );
        assert_eq!(
            render(&Verdict::block("r"), &EventName::PermissionRequest),
            None
        );
    }
}
