//! The Gemini dialect of [`Verdict`] rendering (PROTOCOL-GEMINI.md §4, Gemini CLI 0.61).
//!
//! Gemini reads a deny or a block from the top-level `decision`, never from `hookSpecificOutput`'s
//! `permissionDecision` (which it ignores, and runs the tool). Event names in `hookEventName` are Gemini's.
//!
//! | event (Gemini's) | block / deny | ask | context | replaced tool output / input |
//! |---|---|---|---|---|
//! | PreToolUse (`BeforeTool`) | `decision: "deny"` + reason | deny, saying it needs the user | to the user (`systemMessage`: BeforeTool takes none) | `hookSpecificOutput.tool_input` (merged over the model's) |
//! | PostToolUse, PostToolUseFailure (`AfterTool`) | `additionalContext` (the output stays, as in Claude Code) | as block | `additionalContext` | `decision: "deny"` with the new output as reason (what the model sees instead) |
//! | Stop (`AfterAgent`) | `decision: "block"` + reason, context appended | as block | only with a block | - |
//! | UserPromptSubmit (`BeforeAgent`) | never a deny (it would discard the prompt, or the continuation of a held turn): the reason to the user, and as context | - | `additionalContext` | - |
//! | SessionStart | `systemMessage` | - | `additionalContext` | - |
//! | anything else | `systemMessage` | - | - | - |

use serde_json::{Map, Value, json};

use super::{Decision, Verdict};
use crate::event::EventName;

impl Verdict {
    /// The Gemini dialect (see the module docs).
    pub(super) fn render_gemini(&self, event: &EventName) -> Option<Value> {
        use EventName as E;
        let native = crate::gemini::native_event(event.as_str())?;
        let mut out = Map::new();
        let mut specific = Map::new();
        let (mut user, mut reason, context) = self.dialect_parts();
        let held = self.decision != Decision::Allow;
        match event {
            E::PreToolUse => {
                if held {
                    if self.decision == Decision::Ask {
                        reason.push_str(
                            "\n\n(This needs the user's approval, and Gemini CLI cannot ask for it from a hook: \
                             the call is refused. Ask the user, and run it once they agree.)",
                        );
                    }
                    out.insert("decision".into(), json!("deny"));
                    out.insert("reason".into(), json!(reason));
                } else if let Some(input) = &self.updated_input {
                    specific.insert("tool_input".into(), input.clone());
                }
                if !context.is_empty() {
                    user.push(context);
                }
            }
            E::PostToolUse | E::PostToolUseFailure => {
                let mut notes: Vec<String> = Vec::new();
                if held {
                    notes.push(reason);
                }
                if !context.is_empty() {
                    notes.push(context);
                }
                let notes = notes.join("\n\n");
                if let Some(output) = &self.updated_tool_output {
                    let mut text = super::codex::output_text(output);
                    if text.trim().is_empty() {
                        "(no output)".clone_into(&mut text);
                    }
                    if !notes.is_empty() {
                        text = format!("{text}\n\n{notes}");
                    }
                    out.insert("decision".into(), json!("deny"));
                    out.insert("reason".into(), json!(text));
                } else if !notes.is_empty() {
                    specific.insert("additionalContext".into(), json!(notes));
                }
            }
            E::Stop => {
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
                let mut notes: Vec<String> = Vec::new();
                if held {
                    user.insert(0, reason.clone());
                    if *event == E::UserPromptSubmit {
                        notes.push(reason);
                    }
                }
                if !context.is_empty() {
                    notes.push(context);
                }
                if !notes.is_empty() {
                    specific.insert("additionalContext".into(), json!(notes.join("\n\n")));
                }
            }
            _ => {
                if held {
                    user.insert(0, reason);
                }
            }
        }
        super::assemble(native, out, specific, &user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;

    fn render(v: &Verdict, event: &EventName) -> Option<Value> {
        v.render_for(event, Client::Gemini)
    }

    #[test]
    fn a_deny_is_a_top_level_decision_never_a_permission_decision() {
        assert_eq!(
            render(&Verdict::deny("no"), &EventName::PreToolUse).unwrap(),
            json!({"decision": "deny", "reason": "no"})
        );
        let ask = render(&Verdict::ask("sure?"), &EventName::PreToolUse).unwrap();
        assert_eq!(ask["decision"], "deny");
        assert!(ask.get("hookSpecificOutput").is_none());
        let rewrite = Verdict::allow().with_updated_input(json!({"command": "ls"}));
        assert_eq!(
            render(&rewrite, &EventName::PreToolUse).unwrap(),
            json!({"hookSpecificOutput": {"hookEventName": "BeforeTool", "tool_input": {"command": "ls"}}})
        );
    }

    #[test]
    fn a_replaced_output_is_a_deny_whose_reason_is_the_new_output() {
        let v = Verdict::allow()
            .with_updated_tool_output(json!({"llmContent": "key=[REDACTED]", "returnDisplay": "x"}))
            .with_context("[secret-guard] replaced");
        let out = render(&v, &EventName::PostToolUse).unwrap();
        assert_eq!(out["decision"], "deny");
        let reason = out["reason"].as_str().unwrap();
        assert!(reason.contains("key=[REDACTED]") && reason.ends_with("[secret-guard] replaced"));
        let failed = render(
            &Verdict::allow().with_updated_tool_output(json!("x")),
            &EventName::PostToolUseFailure,
        )
        .unwrap();
        assert_eq!(failed["decision"], "deny");
    }

    #[test]
    fn a_block_after_a_tool_keeps_its_output_and_adds_the_reason() {
        let out = render(&Verdict::block("fix the test"), &EventName::PostToolUse).unwrap();
        assert_eq!(
            out,
            json!({"hookSpecificOutput": {"hookEventName": "AfterTool", "additionalContext": "fix the test"}})
        );
    }

    #[test]
    fn a_stop_block_holds_the_turn_with_its_context() {
        let out = render(
            &Verdict::block("run the tests").with_context("ctx"),
            &EventName::Stop,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"decision": "block", "reason": "run the tests\n\nctx"})
        );
        assert_eq!(
            render(&Verdict::allow().with_context("c"), &EventName::Stop),
            None
        );
    }

    #[test]
    fn a_prompt_is_never_denied() {
        let out = render(&Verdict::block("too full"), &EventName::UserPromptSubmit).unwrap();
        assert!(out.get("decision").is_none());
        assert_eq!(out["systemMessage"], "too full");
        assert_eq!(out["hookSpecificOutput"]["hookEventName"], "BeforeAgent");
        let start = render(
            &Verdict::allow().with_context("read me"),
            &EventName::SessionStart,
        )
        .unwrap();
        assert_eq!(
            start,
            json!({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "read me"}})
        );
    }

    #[test]
    fn events_gemini_lacks_get_nothing() {
        for event in [EventName::SubagentStop, EventName::PermissionRequest] {
            assert_eq!(render(&Verdict::block("r"), &event), None);
        }
        assert_eq!(
            render(&Verdict::block("r"), &EventName::SessionEnd).unwrap(),
            json!({"systemMessage": "r"})
        );
    }
}
