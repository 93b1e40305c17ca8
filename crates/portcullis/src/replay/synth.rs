//! Turning transcript entries into the hook events Claude Code fired for them. Pure: entries in, events
//! out; reading files is the driver's job.
//!
//! | transcript | events |
//! |---|---|
//! | first conversation entry | `SessionStart` (`source: startup`) |
//! | `user` prompt (text, not meta, not a slash command's echo) | `UserPromptSubmit` |
//! | `assistant` `tool_use` block | `PreToolUse` |
//! | `user` `tool_result` block | `PostToolUse`, or `PostToolUseFailure` when `is_error` |
//! | `tool_result` of an `Agent` call | the subagent's own events, wrapped in `SubagentStart`/`SubagentStop` ([`Emit::Subagent`]) |
//! | `assistant` with `stop_reason: end_turn` (main thread) | `Stop` |
//! | `system` `compact_boundary` | `PreCompact`, `SessionStart` (`source: compact`), `PostCompact` |
//!
//! Bookkeeping lines (`api-request-blob` with its `message`, `attachment`, `queue-operation`…) and
//! `<synthetic>` responses produce nothing.

use std::collections::HashMap;

use portcullis_core::transcript::content_text;
use serde_json::{Map, Value, json};

/// What one entry produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Emit {
    /// A hook event, ready to send (without fields the driver adds, see [`Synthesizer`]).
    Event(Value),
    /// The `Agent` call `tool_use_id` finished (or was launched in the background): replay its subagent.
    Subagent {
        /// `agent_id` (from the tool result; empty when unknown).
        agent_id: String,
        /// `agent_type` (`subagent_type` of the call).
        agent_type: String,
        /// The `Agent` call's id.
        tool_use_id: String,
    },
    /// Codex: a `spawn_agent` call returned: replay the new agent's own rollout.
    CodexSubagent {
        /// The agent's path as the call's output names it (`task_name`, e.g. `/root/helper`).
        agent_path: String,
    },
}

/// What the synthesizers' tests compare: each emit as a name.
#[cfg(test)]
pub(super) fn names(emits: &[Emit]) -> Vec<String> {
    emits
        .iter()
        .map(|e| match e {
            Emit::Event(v) => v["hook_event_name"].as_str().unwrap_or_default().to_owned(),
            Emit::Subagent { agent_type, .. } => format!("subagent:{agent_type}"),
            Emit::CodexSubagent { agent_path } => format!("codex-subagent:{agent_path}"),
        })
        .collect()
}

/// Which thread a synthesizer replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thread {
    /// The main thread: prompts, Stop, compaction.
    Main,
    /// A subagent: every event carries `agent_id`/`agent_type`; no prompts, no Stop (the driver sends
    /// SubagentStop).
    Subagent {
        /// `agent_id`.
        agent_id: String,
        /// `agent_type`.
        agent_type: String,
    },
}

/// Replays one transcript file's entries, in order.
#[derive(Debug)]
pub struct Synthesizer {
    thread: Thread,
    /// `session_id` of the session (from the entries).
    pub session_id: String,
    /// `cwd` as recorded.
    pub cwd: String,
    /// The file being replayed (`transcript_path` in every event).
    pub transcript_path: String,
    permission_mode: Option<String>,
    prompt_id: Option<String>,
    pending: HashMap<String, (String, Value)>,
    started: bool,
    /// The text of the newest assistant response (for `Stop`/`SubagentStop`).
    pub last_text: String,
    /// A "Stop hook feedback" message arrived since the last Stop: the client would send the next Stop
    /// with `stop_hook_active: true`.
    pub stop_feedback: bool,
    last_stop_message: Option<String>,
}

impl Synthesizer {
    /// A synthesizer for `thread`, replaying the file at `transcript_path`.
    #[must_use]
    pub fn new(thread: Thread, transcript_path: &str) -> Self {
        Self {
            thread,
            session_id: String::new(),
            cwd: String::new(),
            transcript_path: transcript_path.to_owned(),
            permission_mode: None,
            prompt_id: None,
            pending: HashMap::new(),
            started: false,
            last_text: String::new(),
            stop_feedback: false,
            last_stop_message: None,
        }
    }

    /// The events for one transcript entry.
    pub fn entry(&mut self, entry: &Value) -> Vec<Emit> {
        let kind = entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(kind, "user" | "assistant" | "system") {
            return Vec::new();
        }
        if let Some(s) = entry.get("sessionId").and_then(Value::as_str) {
            s.clone_into(&mut self.session_id);
        }
        if let Some(c) = entry.get("cwd").and_then(Value::as_str) {
            c.clone_into(&mut self.cwd);
        }
        if let Some(m) = entry.get("permissionMode").and_then(Value::as_str) {
            self.permission_mode = Some(m.to_owned());
        }
        let mut out = Vec::new();
        if !self.started && self.thread == Thread::Main && kind != "system" {
            self.started = true;
            out.push(Emit::Event(
                self.event("SessionStart", json!({"source": "startup"})),
            ));
        }
        match kind {
            "user" => self.user(entry, &mut out),
            "assistant" => self.assistant(entry, &mut out),
            _ => self.system(entry, &mut out),
        }
        out
    }

    fn user(&mut self, entry: &Value, out: &mut Vec<Emit>) {
        let content = &entry["message"]["content"];
        if let Some(blocks) = content.as_array() {
            let results: Vec<&Value> = blocks
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .collect();
            if !results.is_empty() {
                for block in results {
                    self.tool_result(entry, block, out);
                }
                return;
            }
        }
        let text = content_text(content);
        if text.contains("Stop hook feedback:") {
            self.stop_feedback = true;
            return;
        }
        let is_meta = entry["isMeta"] == true
            || entry["isCompactSummary"] == true
            || entry["isVisibleInTranscriptOnly"] == true;
        let trimmed = text.trim_start();
        let is_command_echo = trimmed.starts_with("<command-name>")
            || trimmed.starts_with("<local-command-")
            || trimmed.starts_with("<command-message>");
        if self.thread != Thread::Main || is_meta || is_command_echo || text.is_empty() {
            return;
        }
        self.prompt_id = entry
            .get("promptId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.stop_feedback = false;
        self.last_stop_message = None;
        out.push(Emit::Event(
            self.event("UserPromptSubmit", json!({"prompt": text})),
        ));
    }

    fn tool_result(&mut self, entry: &Value, block: &Value, out: &mut Vec<Emit>) {
        let id = block["tool_use_id"].as_str().unwrap_or_default().to_owned();
        let Some((tool, input)) = self.pending.remove(&id) else {
            return; // a result whose call we never saw (e.g. cut off before the file starts)
        };
        let error_text = content_text(&block["content"]);
        if block["is_error"] == true && is_hook_denial(&error_text) {
            return; // denied by a PreToolUse hook: the tool never ran and the client fires no Post event
        }
        let response = entry.get("toolUseResult").cloned().unwrap_or(Value::Null);
        let subagent = (tool == "Agent" || tool == "Task").then(|| Emit::Subagent {
            agent_id: response["agentId"].as_str().unwrap_or_default().to_owned(),
            agent_type: input["subagent_type"]
                .as_str()
                .or_else(|| response["agentType"].as_str())
                .unwrap_or("general-purpose")
                .to_owned(),
            tool_use_id: id.clone(),
        });
        let in_background = response["status"] == "async_launched";
        if let Some(s) = &subagent
            && !in_background
        {
            out.push(s.clone());
        }
        let event = if block["is_error"] == true {
            self.event(
                "PostToolUseFailure",
                json!({"tool_name": tool, "tool_input": input, "tool_use_id": id,
                       "error": error_text, "is_interrupt": false}),
            )
        } else {
            let response = if response.is_null() {
                block["content"].clone()
            } else {
                response
            };
            self.event(
                "PostToolUse",
                json!({"tool_name": tool, "tool_input": input, "tool_use_id": id, "tool_response": response}),
            )
        };
        out.push(Emit::Event(event));
        if let Some(s) = subagent
            && in_background
        {
            out.push(s);
        }
    }

    fn assistant(&mut self, entry: &Value, out: &mut Vec<Emit>) {
        let message = &entry["message"];
        if message["model"] == "<synthetic>" || entry["isApiErrorMessage"] == true {
            return;
        }
        let mut text = String::new();
        for block in message["content"].as_array().into_iter().flatten() {
            match block["type"].as_str() {
                Some("tool_use") => {
                    let id = block["id"].as_str().unwrap_or_default().to_owned();
                    let name = block["name"].as_str().unwrap_or_default().to_owned();
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    if self.pending.contains_key(&id) {
                        continue;
                    }
                    self.pending
                        .insert(id.clone(), (name.clone(), input.clone()));
                    out.push(Emit::Event(self.event(
                        "PreToolUse",
                        json!({"tool_name": name, "tool_input": input, "tool_use_id": id}),
                    )));
                }
                Some("text") => text.push_str(block["text"].as_str().unwrap_or_default()),
                _ => {}
            }
        }
        if !text.is_empty() {
            self.last_text = text;
        }
        // One response split over several lines repeats its ids: `requestRef` (else `message.id`) says
        // whether this line belongs to the response that already stopped.
        let message_id = entry["requestRef"]
            .as_str()
            .or_else(|| message["id"].as_str())
            .map(str::to_owned);
        let ends_turn = message["stop_reason"] == "end_turn";
        if ends_turn && self.thread == Thread::Main && message_id != self.last_stop_message {
            self.last_stop_message = message_id;
            let active = std::mem::take(&mut self.stop_feedback);
            out.push(Emit::Event(self.event(
                "Stop",
                json!({"stop_hook_active": active, "last_assistant_message": self.last_text,
                       "background_tasks": [], "session_crons": []}),
            )));
        }
    }

    fn system(&mut self, entry: &Value, out: &mut Vec<Emit>) {
        if entry["subtype"] != "compact_boundary" || self.thread != Thread::Main {
            return;
        }
        let trigger = entry["compactMetadata"]["trigger"]
            .as_str()
            .unwrap_or("auto")
            .to_owned();
        out.push(Emit::Event(
            self.event("PreCompact", json!({"trigger": trigger})),
        ));
        out.push(Emit::Event(
            self.event("SessionStart", json!({"source": "compact"})),
        ));
        out.push(Emit::Event(
            self.event("PostCompact", json!({"trigger": trigger})),
        ));
    }

    /// An event named `name` with the common fields and `extra`.
    #[must_use]
    pub fn event(&self, name: &str, extra: Value) -> Value {
        let mut map = Map::new();
        map.insert("session_id".into(), json!(self.session_id));
        map.insert("transcript_path".into(), json!(self.transcript_path));
        map.insert("cwd".into(), json!(self.cwd));
        if let Some(p) = &self.prompt_id {
            map.insert("prompt_id".into(), json!(p));
        }
        if let Some(m) = &self.permission_mode
            && !matches!(name, "SessionStart" | "PreCompact" | "PostCompact")
        {
            map.insert("permission_mode".into(), json!(m));
        }
        if let Thread::Subagent {
            agent_id,
            agent_type,
        } = &self.thread
        {
            map.insert("agent_id".into(), json!(agent_id));
            map.insert("agent_type".into(), json!(agent_type));
        }
        map.insert("hook_event_name".into(), json!(name));
        if let Value::Object(extra) = extra {
            map.extend(extra);
        }
        Value::Object(map)
    }

    /// Sets the prompt id (a subagent's events carry the parent's).
    pub fn set_prompt_id(&mut self, id: Option<String>) {
        self.prompt_id = id;
    }

    /// The current prompt id.
    #[must_use]
    pub fn prompt_id(&self) -> Option<String> {
        self.prompt_id.clone()
    }
}

/// True for the tool_result text of a call a PreToolUse hook denied (`PreToolUse:Write hook error: …`).
#[must_use]
pub fn is_hook_denial(text: &str) -> bool {
    text.strip_prefix("PreToolUse:")
        .and_then(|rest| rest.split_once(' '))
        .is_some_and(|(_, rest)| rest.starts_with("hook error:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(entries: &[Value]) -> Vec<Emit> {
        let mut s = Synthesizer::new(Thread::Main, "/t.jsonl");
        entries.iter().flat_map(|e| s.entry(e)).collect()
    }

    fn prompt(text: &str) -> Value {
        json!({"type": "user", "sessionId": "s", "cwd": "/p", "promptId": "p1", "message": {"role": "user", "content": text}})
    }

    fn tool_use(id: &str, name: &str, input: &Value) -> Value {
        json!({"type": "assistant", "message": {"id": format!("m-{id}"), "stop_reason": "tool_use",
               "content": [{"type": "tool_use", "id": id, "name": name, "input": input.clone()}]}})
    }

    fn result(id: &str, is_error: bool, response: &Value) -> Value {
        json!({"type": "user", "toolUseResult": response.clone(), "message": {"role": "user",
               "content": [{"type": "tool_result", "tool_use_id": id, "is_error": is_error, "content": "Exit code 1"}]}})
    }

    fn end(text: &str, id: &str) -> Value {
        json!({"type": "assistant", "message": {"id": id, "stop_reason": "end_turn", "content": [{"type": "text", "text": text}]}})
    }

    #[test]
    fn a_turn_with_a_tool_call_gives_the_events_in_client_order() {
        let emits = run(&[
            prompt("do it"),
            tool_use("t1", "Bash", &json!({"command": "false"})),
            result("t1", true, &json!("Error: Exit code 1")),
            end("done", "m2"),
        ]);
        assert_eq!(
            names(&emits),
            [
                "SessionStart",
                "UserPromptSubmit",
                "PreToolUse",
                "PostToolUseFailure",
                "Stop"
            ]
        );
        let Emit::Event(failure) = &emits[3] else {
            panic!()
        };
        assert_eq!(failure["error"], "Exit code 1");
        assert_eq!(failure["tool_input"]["command"], "false");
        assert_eq!(failure["prompt_id"], "p1");
        let Emit::Event(stop) = &emits[4] else {
            panic!()
        };
        assert_eq!(stop["last_assistant_message"], "done");
        assert_eq!(stop["stop_hook_active"], false);
    }

    #[test]
    fn a_foreground_agent_runs_before_its_post_tool_use_and_a_background_one_after() {
        let spawn = |id| tool_use(id, "Agent", &json!({"subagent_type": "backend-developer"}));
        let fg = run(&[
            prompt("go"),
            spawn("a"),
            result("a", false, &json!({"status": "completed", "agentId": "x1"})),
        ]);
        assert_eq!(
            names(&fg)[2..],
            ["PreToolUse", "subagent:backend-developer", "PostToolUse"]
        );
        let bg = run(&[
            prompt("go"),
            spawn("b"),
            result(
                "b",
                false,
                &json!({"status": "async_launched", "agentId": "x2"}),
            ),
        ]);
        assert_eq!(
            names(&bg)[2..],
            ["PreToolUse", "PostToolUse", "subagent:backend-developer"]
        );
        assert!(matches!(&bg[4], Emit::Subagent { agent_id, .. } if agent_id == "x2"));
    }

    #[test]
    fn stop_feedback_makes_the_next_stop_active_and_is_not_a_prompt() {
        let feedback = json!({"type": "user", "message": {"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>…</system-reminder>"},
            {"type": "text", "text": "Stop hook feedback:\nkeep going"}]}});
        let emits = run(&[prompt("go"), end("one", "m1"), feedback, end("two", "m2")]);
        assert_eq!(
            names(&emits),
            ["SessionStart", "UserPromptSubmit", "Stop", "Stop"]
        );
        let Emit::Event(second) = &emits[3] else {
            panic!()
        };
        assert_eq!(second["stop_hook_active"], true);
        assert_eq!(second["last_assistant_message"], "two");
    }

    #[test]
    fn bookkeeping_meta_synthetic_and_command_echoes_produce_nothing() {
        let emits = run(&[
            json!({"type": "api-request-blob", "message": {"role": "user", "content": "blob"}}),
            json!({"type": "attachment", "attachment": {"type": "prompt_snapshot"}}),
            json!({"type": "user", "isMeta": true, "message": {"role": "user", "content": "caveat"}}),
            json!({"type": "user", "message": {"role": "user", "content": "<command-name>/compact</command-name>"}}),
            json!({"type": "assistant", "message": {"model": "<synthetic>", "stop_reason": "end_turn", "content": [{"type": "text", "text": "x"}]}}),
            result("never-called", false, &json!({})),
        ]);
        assert_eq!(names(&emits), ["SessionStart"]);
    }

    #[test]
    fn a_response_split_over_lines_stops_once_and_calls_each_tool_once() {
        let emits = run(&[
            prompt("go"),
            tool_use("t1", "Read", &json!({})),
            tool_use("t1", "Read", &json!({})),
            end("a", "m9"),
            end("b", "m9"),
        ]);
        assert_eq!(
            names(&emits),
            ["SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"]
        );
    }

    #[test]
    fn a_new_prompt_may_reuse_a_message_id_and_still_stops() {
        let emits = run(&[prompt("a"), end("x", "m1"), prompt("b"), end("y", "m1")]);
        assert_eq!(
            names(&emits),
            [
                "SessionStart",
                "UserPromptSubmit",
                "Stop",
                "UserPromptSubmit",
                "Stop"
            ]
        );
    }

    #[test]
    fn a_call_a_hook_denied_gets_no_post_event() {
        let denied = json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result",
            "tool_use_id": "t1", "is_error": true, "content": "PreToolUse:Write hook error: [agent-first] no"}]}});
        let emits = run(&[prompt("go"), tool_use("t1", "Write", &json!({})), denied]);
        assert_eq!(
            names(&emits),
            ["SessionStart", "UserPromptSubmit", "PreToolUse"]
        );
        assert!(!is_hook_denial("Exit code 1"));
        assert!(!is_hook_denial("PreToolUse:Write something else"));
    }

    #[test]
    fn compaction_gives_pre_compact_session_start_and_post_compact() {
        let emits = run(&[
            prompt("go"),
            json!({"type": "system", "subtype": "compact_boundary", "compactMetadata": {"trigger": "manual"}}),
            json!({"type": "user", "isCompactSummary": true, "message": {"role": "user", "content": "This session is being continued"}}),
        ]);
        assert_eq!(
            names(&emits)[2..],
            ["PreCompact", "SessionStart", "PostCompact"]
        );
        let Emit::Event(start) = &emits[3] else {
            panic!()
        };
        assert_eq!(start["source"], "compact");
    }

    #[test]
    fn subagent_events_carry_agent_id_and_type_and_never_stop() {
        let mut s = Synthesizer::new(
            Thread::Subagent {
                agent_id: "x1".into(),
                agent_type: "backend-developer".into(),
            },
            "/t.jsonl",
        );
        let emits: Vec<Emit> = [
            prompt("task"),
            tool_use("t1", "Write", &json!({})),
            end("done", "m1"),
        ]
        .iter()
        .flat_map(|e| s.entry(e))
        .collect();
        assert_eq!(names(&emits), ["PreToolUse"]);
        let Emit::Event(pre) = &emits[0] else {
            panic!()
        };
        assert_eq!(pre["agent_id"], "x1");
        assert_eq!(pre["agent_type"], "backend-developer");
        assert_eq!(s.last_text, "done");
    }
}
