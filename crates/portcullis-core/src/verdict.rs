//! [`Verdict`]: what a hook decided, and the only code that writes to stdout.
//!
//! Rendering follows PROTOCOL.md §6 per event:
//!
//! | event | block / deny | ask | context |
//! |---|---|---|---|
//! | PreToolUse, PreModelSwitch | `hookSpecificOutput.permissionDecision: "deny"` + reason | `"ask"` + reason | `hookSpecificOutput.additionalContext` (PreToolUse) |
//! | PermissionRequest | `hookSpecificOutput.decision.behavior: "deny"` + message | (none: no output) | - |
//! | Stop, SubagentStop, PostToolUse, PostToolUseFailure, PostToolBatch, UserPromptSubmit, UserPromptExpansion, ConfigChange, PreCompact, TaskCreated | top-level `decision: "block"` + `reason` | treated as block | `additionalContext` where the event takes it |
//! | anything else | cannot block: the reason goes to the user as `systemMessage` | - | where the event takes it |
//!
//! PostToolUse also takes `hookSpecificOutput.updatedToolOutput` (the output the model sees instead), and
//! PreToolUse `hookSpecificOutput.updatedInput` (the whole input the tool runs with instead). An
//! `updatedInput` goes without a `permissionDecision`: the client honours it alone (measured in 2.1.329:
//! an Agent call's rewritten prompt reached the subagent), and an `"allow"` would skip the user's prompt.
//!
//! An allow with nothing to add renders to nothing at all: an explicit `"allow"` would skip the user's
//! permission prompt, so portcullis never emits one. `systemMessage` (for the user) is added on every event.
//!
//! **Codex** ([`Verdict::render_for`] with [`Client::Codex`]) refuses a whole answer over one field its
//! output schema lacks, and then lets the action run (PROTOCOL-CODEX.md §1, §5), so its dialect is written
//! from those schemas:
//!
//! | Codex event | block / deny | ask | context | replaced tool output |
//! |---|---|---|---|---|
//! | PreToolUse | `permissionDecision: "deny"` + a non-empty reason | deny, saying it needs the user (Codex has no ask) | `additionalContext` | - |
//! | PermissionRequest | `decision.behavior: "deny"` + message | no output | - | - |
//! | PostToolUse | `decision: "block"` + reason (replaces the output the model sees) | as block | `additionalContext` | `decision: "block"` with the new output as reason |
//! | UserPromptSubmit | `decision: "block"` + reason | as block | `additionalContext` | - |
//! | Stop, SubagentStop | `decision: "block"` + reason, context appended to it | as block | only with a block | - |
//! | SessionStart, SubagentStart | `systemMessage` | - | `additionalContext` | - |
//! | PreCompact, PostCompact, Interrupt | `systemMessage` | - | - | - |
//! | SessionEnd, Claude-only events | no output (no output schema) | | | |
//!
//! A PreToolUse `updatedInput` needs `permissionDecision: "allow"` in Codex (an `allow` alone is refused).
//!
//! **Gemini** ([`Client::Gemini`]) reads decisions from the top-level `decision` only; its table is in
//! the `gemini` submodule. **Copilot** ([`Client::Copilot`]) reads most verdicts from top-level fields
//! only; its table is in the `copilot` submodule.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::event::EventName;

mod codex;
mod copilot;
mod gemini;

/// How strict a verdict is. Ordered: when rules disagree, the greatest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Decision {
    /// No objection.
    #[default]
    Allow,
    /// Ask the user (PreToolUse only; elsewhere it blocks).
    Ask,
    /// Deny the tool call, or block the stop/prompt/result.
    Block,
}

/// A hook's answer to one event. Build it with the constructors, combine rules with [`Verdict::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The strictest decision of the rules that fired.
    pub decision: Decision,
    /// Why (for Claude on deny/block; for the user on ask). Every firing rule's reason is kept.
    pub reasons: Vec<String>,
    /// Text added to Claude's context (`additionalContext`).
    pub context: Vec<String>,
    /// Text shown to the user (`systemMessage`).
    pub user_messages: Vec<String>,
    /// A hook-specific decision-log marker that replaces the generic label (never rendered).
    pub log_mark: Option<LogMark>,
    /// PostToolUse only: the tool's output as the model should see it (`updatedToolOutput`), in the
    /// tool's own shape (the client ignores a different one).
    pub updated_tool_output: Option<Value>,
    /// PreToolUse only: the whole input the tool runs with instead (`updatedInput`).
    pub updated_input: Option<Value>,
}

/// A decision-log marker such as `stuck`, with details other hooks read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMark {
    /// The log entry's `verdict` field.
    pub verdict: &'static str,
    /// The log entry's `detail` field.
    pub detail: Value,
}

impl Verdict {
    /// No objection and nothing to say: renders to no output.
    #[must_use]
    pub fn allow() -> Self {
        Self::default()
    }

    /// Deny a tool call or block a stop/prompt, with a reason Claude can act on.
    #[must_use]
    pub fn block(reason: impl Into<String>) -> Self {
        Self {
            decision: Decision::Block,
            reasons: vec![reason.into()],
            ..Self::default()
        }
    }

    /// Same as [`Verdict::block`]; reads better for PreToolUse.
    #[must_use]
    pub fn deny(reason: impl Into<String>) -> Self {
        Self::block(reason)
    }

    /// Ask the user to confirm (PreToolUse).
    #[must_use]
    pub fn ask(reason: impl Into<String>) -> Self {
        Self {
            decision: Decision::Ask,
            reasons: vec![reason.into()],
            ..Self::default()
        }
    }

    /// Adds text to Claude's context.
    #[must_use]
    pub fn with_context(mut self, text: impl Into<String>) -> Self {
        self.context.push(text.into());
        self
    }

    /// Adds a message for the user.
    #[must_use]
    pub fn with_user_message(mut self, text: impl Into<String>) -> Self {
        self.user_messages.push(text.into());
        self
    }

    /// Logs this verdict as `verdict` with `detail` instead of its generic label. A verdict that is
    /// otherwise silent is logged too.
    #[must_use]
    pub fn with_log_mark(mut self, verdict: &'static str, detail: Value) -> Self {
        self.log_mark = Some(LogMark { verdict, detail });
        self
    }

    /// Replaces the tool's output the model sees (PostToolUse; ignored elsewhere).
    #[must_use]
    pub fn with_updated_tool_output(mut self, output: Value) -> Self {
        self.updated_tool_output = Some(output);
        self
    }

    /// Replaces the tool's whole input (PreToolUse; ignored elsewhere).
    #[must_use]
    pub fn with_updated_input(mut self, input: Value) -> Self {
        self.updated_input = Some(input);
        self
    }

    /// Combines two rules' verdicts: the strictest decision wins and every reason, context and message is
    /// kept, in order.
    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        self.decision = self.decision.max(other.decision);
        self.reasons.extend(other.reasons);
        self.context.extend(other.context);
        self.user_messages.extend(other.user_messages);
        self.log_mark = self.log_mark.or(other.log_mark);
        self.updated_tool_output = self.updated_tool_output.or(other.updated_tool_output);
        self.updated_input = self.updated_input.or(other.updated_input);
        self
    }

    /// Whether it denies the call or holds the stop (the decision log's `held`).
    #[must_use]
    pub fn holds(&self) -> bool {
        self.decision == Decision::Block
    }

    /// True when rendering prints nothing.
    #[must_use]
    pub fn is_silent(&self) -> bool {
        self.decision == Decision::Allow
            && self.context.is_empty()
            && self.user_messages.is_empty()
            && self.updated_tool_output.is_none()
            && self.updated_input.is_none()
    }

    /// A one-word label for logs: `deny`, `block`, `ask`, `rewrite`, `context`, `warn` or `allow`.
    #[must_use]
    pub fn label(&self, event: &EventName) -> &'static str {
        match self.decision {
            Decision::Block
                if takes_permission_decision(event) || *event == EventName::PermissionRequest =>
            {
                "deny"
            }
            Decision::Block => "block",
            Decision::Ask => "ask",
            Decision::Allow
                if self.updated_tool_output.is_some() || self.updated_input.is_some() =>
            {
                "rewrite"
            }
            Decision::Allow if !self.context.is_empty() => "context",
            Decision::Allow if !self.user_messages.is_empty() => "warn",
            Decision::Allow => "allow",
        }
    }

    /// All reasons as one text (one per paragraph).
    #[must_use]
    pub fn reason_text(&self) -> String {
        self.reasons.join("\n\n")
    }

    /// The JSON this verdict sends to Claude Code for `event`, or `None` for silence.
    #[must_use]
    pub fn render(&self, event: &EventName) -> Option<Value> {
        self.render_for(event, Client::ClaudeCode)
    }

    /// The JSON this verdict sends to `client` for `event`, in exactly the fields that client accepts, or
    /// `None` for silence.
    #[must_use]
    pub fn render_for(&self, event: &EventName, client: Client) -> Option<Value> {
        if self.is_silent() {
            return None;
        }
        match client {
            Client::Codex => return self.render_codex(event),
            Client::Gemini => return self.render_gemini(event),
            Client::Copilot => return self.render_copilot(event),
            Client::ClaudeCode => {}
        }
        let mut out = Map::new();
        let mut specific = Map::new();
        let mut user = self.user_messages.clone();
        let reason = self.reason_text();

        match self.decision {
            Decision::Allow => {}
            _ if takes_permission_decision(event) => {
                let word = if self.decision == Decision::Ask {
                    "ask"
                } else {
                    "deny"
                };
                specific.insert("permissionDecision".into(), json!(word));
                specific.insert("permissionDecisionReason".into(), json!(reason));
            }
            Decision::Block if *event == EventName::PermissionRequest => {
                specific.insert(
                    "decision".into(),
                    json!({"behavior": "deny", "message": reason}),
                );
            }
            Decision::Ask if *event == EventName::PermissionRequest => {
                // No "ask" exists here: leaving the dialog alone is asking.
            }
            _ if takes_block_decision(event) => {
                out.insert("decision".into(), json!("block"));
                out.insert("reason".into(), json!(reason));
            }
            _ => user.insert(0, reason),
        }

        if let Some(output) = &self.updated_tool_output
            && *event == EventName::PostToolUse
        {
            specific.insert("updatedToolOutput".into(), output.clone());
        }
        // A denied call runs with no input at all; rewriting it would only confuse the log.
        if let Some(input) = &self.updated_input
            && *event == EventName::PreToolUse
            && self.decision != Decision::Block
        {
            specific.insert("updatedInput".into(), input.clone());
        }
        if !self.context.is_empty() && takes_additional_context(event) {
            specific.insert("additionalContext".into(), json!(self.context.join("\n\n")));
        }
        assemble(event.as_str(), out, specific, &user)
    }

    /// What the other dialects start from: the messages for the user, the reason (never empty: the
    /// clients refuse or ignore a hold without one) and the context as one text.
    fn dialect_parts(&self) -> (Vec<String>, String, String) {
        let mut reason = self.reason_text();
        if reason.trim().is_empty() {
            "portcullis refused this".clone_into(&mut reason);
        }
        (
            self.user_messages.clone(),
            reason,
            self.context.join("\n\n"),
        )
    }
}

/// The answer from its parts, in every dialect: `systemMessage` from the user's messages, the
/// event-specific fields under `hookSpecificOutput` with `hookEventName` (the event as the client names
/// it); `None` when nothing is left.
fn assemble(
    event_name: &str,
    mut out: Map<String, Value>,
    specific: Map<String, Value>,
    user: &[String],
) -> Option<Value> {
    if !user.is_empty() {
        out.insert("systemMessage".into(), json!(user.join("\n")));
    }
    if !specific.is_empty() {
        let mut hso = Map::new();
        hso.insert("hookEventName".into(), json!(event_name));
        hso.extend(specific);
        out.insert("hookSpecificOutput".into(), Value::Object(hso));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Events whose `hookSpecificOutput` takes `permissionDecision`.
#[must_use]
pub fn takes_permission_decision(event: &EventName) -> bool {
    matches!(event, EventName::PreToolUse | EventName::PreModelSwitch)
}

/// Events that take a top-level `decision: "block"`.
#[must_use]
pub fn takes_block_decision(event: &EventName) -> bool {
    use EventName as E;
    matches!(
        event,
        E::UserPromptSubmit
            | E::UserPromptExpansion
            | E::PostToolUse
            | E::PostToolUseFailure
            | E::PostToolBatch
            | E::Stop
            | E::SubagentStop
            | E::ConfigChange
            | E::PreCompact
            | E::TaskCreated
    )
}

/// Events whose `hookSpecificOutput` takes `additionalContext`.
#[must_use]
pub fn takes_additional_context(event: &EventName) -> bool {
    use EventName as E;
    matches!(
        event,
        E::PreToolUse
            | E::PostToolUse
            | E::PostToolUseFailure
            | E::PostToolBatch
            | E::UserPromptSubmit
            | E::UserPromptExpansion
            | E::SessionStart
            | E::Setup
            | E::SubagentStart
            | E::PostModelSwitch
            | E::Notification
            | E::Stop
            | E::SubagentStop
    )
}

/// Writes the rendered verdict to stdout in one `write_all`. The only stdout writer in portcullis hooks.
pub fn emit(rendered: &Value) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(rendered).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(&bytes)?;
    lock.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_renders_nothing() {
        for name in EventName::ALL {
            assert_eq!(Verdict::allow().render(&EventName::parse(name)), None);
        }
    }

    #[test]
    fn pretooluse_deny_is_a_permission_decision() {
        let v = Verdict::deny("no").render(&EventName::PreToolUse).unwrap();
        assert_eq!(
            v,
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "no"}})
        );
    }

    #[test]
    fn updated_tool_output_is_rendered_for_post_tool_use_only() {
        let v = Verdict::allow()
            .with_updated_tool_output(json!({"stdout": "[REDACTED x]", "stderr": ""}));
        assert!(!v.is_silent());
        assert_eq!(v.label(&EventName::PostToolUse), "rewrite");
        assert_eq!(
            v.render(&EventName::PostToolUse).unwrap(),
            json!({"hookSpecificOutput": {"hookEventName": "PostToolUse", "updatedToolOutput": {"stdout": "[REDACTED x]", "stderr": ""}}})
        );
        assert_eq!(
            v.render(&EventName::PreToolUse),
            None,
            "no other event takes it"
        );
    }

    #[test]
    fn updated_input_is_rendered_for_pre_tool_use_alone_and_never_on_a_deny() {
        let input = json!({"prompt": "task\n\nRead these skill files", "description": "d"});
        let v = Verdict::allow().with_updated_input(input.clone());
        assert!(!v.is_silent());
        assert_eq!(v.label(&EventName::PreToolUse), "rewrite");
        assert_eq!(
            v.render(&EventName::PreToolUse).unwrap(),
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "updatedInput": input}}),
            "no permissionDecision: an allow would skip the user's prompt"
        );
        assert_eq!(v.render(&EventName::PostToolUse), None);
        let denied = Verdict::deny("no").merge(Verdict::allow().with_updated_input(input));
        let out = denied.render(&EventName::PreToolUse).unwrap();
        assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
        assert!(out["hookSpecificOutput"].get("updatedInput").is_none());
    }

    #[test]
    fn stop_block_is_top_level_with_context() {
        let v = Verdict::block("finish tests")
            .with_context("ctx")
            .with_user_message("hey")
            .render(&EventName::Stop)
            .unwrap();
        assert_eq!(
            v,
            json!({"decision": "block", "reason": "finish tests", "systemMessage": "hey",
                   "hookSpecificOutput": {"hookEventName": "Stop", "additionalContext": "ctx"}})
        );
    }

    #[test]
    fn strictest_wins_and_all_reasons_show() {
        let v = Verdict::allow()
            .with_context("c")
            .merge(Verdict::ask("a"))
            .merge(Verdict::deny("d"))
            .merge(Verdict::allow());
        assert_eq!(v.decision, Decision::Block);
        assert_eq!(v.reason_text(), "a\n\nd");
        assert_eq!(v.label(&EventName::PreToolUse), "deny");
        assert_eq!(v.label(&EventName::Stop), "block");
    }

    #[test]
    fn context_is_dropped_where_the_event_does_not_take_it() {
        assert_eq!(
            Verdict::allow()
                .with_context("x")
                .render(&EventName::SessionEnd),
            None
        );
    }

    #[test]
    fn a_block_on_an_event_that_cannot_block_tells_the_user() {
        let v = Verdict::block("r").render(&EventName::SessionEnd).unwrap();
        assert_eq!(v, json!({"systemMessage": "r"}));
    }
}
