//! Turning a Copilot CLI session's `events.jsonl` into the hook events Copilot fired for them
//! (PROTOCOL-COPILOT.md §3, §8), in its PascalCase dialect. Pure, like [`super::synth`]: lines in, events
//! out.
//!
//! | event log line | events |
//! |---|---|
//! | `session.start` | `SessionStart` (`source: new`) |
//! | `user.message` | `UserPromptSubmit` (a held turn's reason comes back so, and is fired so) |
//! | `tool.execution_start` | `PreToolUse`, with Copilot's hook tool name (`bash` → `Bash`, `create` → `Write`, …) |
//! | `tool.execution_complete` | `PostToolUse` with `tool_result` (none for a call a hook refused) |
//! | `assistant.turn_end` after an `assistant.message` with text and no tool request | `Stop` |
//! | `session.shutdown` | `SessionEnd` (`reason: complete`) |
//!
//! Every event carries the line's `timestamp`, as Copilot stamps its events; a Stop names the log as its
//! `transcript_path`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::synth::Emit;

/// Copilot's model tool names and the names its PascalCase hooks get (PROTOCOL-COPILOT.md §3).
const TOOLS: &[(&str, &str)] = &[
    ("bash", "Bash"),
    ("create", "Write"),
    ("edit", "Edit"),
    ("view", "Read"),
    ("task", "Agent"),
    ("grep", "Grep"),
    ("glob", "Glob"),
];

/// Replays one Copilot event log's lines, in order.
#[derive(Debug, Default)]
pub struct CopilotSynthesizer {
    /// `session_id` (`session.start`'s `sessionId`).
    pub session_id: String,
    /// The project folder, as recorded.
    pub cwd: String,
    transcript_path: String,
    /// Calls started, by id: the hook's tool name and input.
    pending: HashMap<String, (String, Value)>,
    /// The newest answer ended the turn (text, no tool request): its `assistant.turn_end` is a Stop.
    stop_due: bool,
}

impl CopilotSynthesizer {
    /// A synthesizer for the event log at `transcript_path`.
    #[must_use]
    pub fn new(transcript_path: &str) -> Self {
        Self {
            transcript_path: transcript_path.to_owned(),
            ..Self::default()
        }
    }

    /// True when `first_line` is a Copilot event log's (`session.start` by `copilot-agent`).
    #[must_use]
    pub fn recognises(first_line: &Value) -> bool {
        first_line["type"] == "session.start" && first_line["data"]["producer"] == "copilot-agent"
    }

    /// The events for one line.
    pub fn entry(&mut self, line: &Value) -> Vec<Emit> {
        let data = &line["data"];
        let stamp = line["timestamp"].clone();
        let mut out = Vec::new();
        match line["type"].as_str().unwrap_or_default() {
            "session.start" => {
                text_into(&data["sessionId"], &mut self.session_id);
                text_into(&data["context"]["cwd"], &mut self.cwd);
                out.push(self.event("SessionStart", &stamp, json!({"source": "new"})));
            }
            "user.message" => {
                let prompt = data["content"].as_str().unwrap_or_default();
                out.push(self.event("UserPromptSubmit", &stamp, json!({"prompt": prompt})));
            }
            "assistant.message" => {
                let text = data["content"].as_str().unwrap_or_default();
                let calls = data["toolRequests"]
                    .as_array()
                    .is_some_and(|c| !c.is_empty());
                self.stop_due = !text.trim().is_empty() && !calls;
            }
            "tool.execution_start" => {
                let model_name = data["toolName"].as_str().unwrap_or_default();
                let tool = TOOLS
                    .iter()
                    .find(|(m, _)| *m == model_name)
                    .map_or(model_name, |(_, h)| h)
                    .to_owned();
                let id = data["toolCallId"].as_str().unwrap_or_default().to_owned();
                let input = data["arguments"].clone();
                out.push(self.event(
                    "PreToolUse",
                    &stamp,
                    json!({"tool_name": tool, "tool_input": input, "tool_use_id": id}),
                ));
                self.pending.insert(id, (tool, input));
            }
            "tool.execution_complete" => {
                let id = data["toolCallId"].as_str().unwrap_or_default();
                let Some((tool, input)) = self.pending.remove(id) else {
                    return Vec::new();
                };
                if data["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Denied by preToolUse hook"))
                {
                    return Vec::new();
                }
                let (kind, text) = match data["result"]["content"].as_str() {
                    Some(text) if data["success"] != false => ("success", text),
                    _ => (
                        "failure",
                        data["error"]["message"].as_str().unwrap_or_default(),
                    ),
                };
                out.push(self.event(
                    "PostToolUse",
                    &stamp,
                    json!({"tool_name": tool, "tool_input": input, "tool_use_id": id,
                           "tool_result": {"result_type": kind, "text_result_for_llm": text}}),
                ));
            }
            "assistant.turn_end" if self.stop_due => {
                self.stop_due = false;
                out.push(self.event(
                    "Stop",
                    &stamp,
                    json!({"transcript_path": self.transcript_path, "stop_reason": "end_turn",
                           "stop_hook_active": false}),
                ));
            }
            "session.shutdown" => {
                out.push(self.event("SessionEnd", &stamp, json!({"reason": "complete"})));
            }
            _ => {}
        }
        out.into_iter().map(Emit::Event).collect()
    }

    /// An event as Copilot sends it, with the common fields.
    fn event(&self, name: &str, stamp: &Value, extra: Value) -> Value {
        let mut map = Map::new();
        map.insert("hook_event_name".into(), json!(name));
        map.insert("session_id".into(), json!(self.session_id));
        map.insert("timestamp".into(), stamp.clone());
        map.insert("cwd".into(), json!(self.cwd));
        if let Value::Object(extra) = extra {
            map.extend(extra);
        }
        Value::Object(map)
    }
}

fn text_into(v: &Value, into: &mut String) {
    if let Some(s) = v.as_str() {
        s.clone_into(into);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::synth::names;

    #[test]
    fn an_event_log_gives_copilot_s_events_in_order() {
        let mut s = CopilotSynthesizer::new("/h/.copilot/session-state/s/events.jsonl");
        let t = "2026-12-07T01:00:00.000Z";
        let lines = [
            json!({"type": "session.start", "timestamp": t, "data": {"sessionId": "s", "producer": "copilot-agent", "context": {"cwd": "/w/p"}}}),
            json!({"type": "user.message", "timestamp": t, "data": {"content": "fix it"}}),
            json!({"type": "assistant.message", "timestamp": t, "data": {"content": "", "toolRequests": [{"name": "bash"}]}}),
            json!({"type": "tool.execution_start", "timestamp": t, "data": {"toolCallId": "c1", "toolName": "bash", "arguments": {"command": "echo x > ../o"}}}),
            json!({"type": "tool.execution_complete", "timestamp": t, "data": {"toolCallId": "c1", "success": false, "error": {"message": "Denied by preToolUse hook: no"}}}),
            json!({"type": "tool.execution_start", "timestamp": t, "data": {"toolCallId": "c2", "toolName": "create", "arguments": {"path": "/w/p/a.md", "file_text": "x"}}}),
            json!({"type": "tool.execution_complete", "timestamp": t, "data": {"toolCallId": "c2", "success": true, "result": {"content": "Created file"}}}),
            json!({"type": "assistant.turn_end", "timestamp": t, "data": {}}),
            json!({"type": "assistant.message", "timestamp": t, "data": {"content": "done", "toolRequests": []}}),
            json!({"type": "assistant.turn_end", "timestamp": t, "data": {}}),
            json!({"type": "session.shutdown", "timestamp": t, "data": {}}),
        ];
        let all: Vec<Emit> = lines.iter().flat_map(|l| s.entry(l)).collect();
        assert_eq!(
            names(&all),
            [
                "SessionStart",
                "UserPromptSubmit",
                "PreToolUse",
                "PreToolUse",
                "PostToolUse",
                "Stop",
                "SessionEnd"
            ]
        );
        let Emit::Event(write) = &all[3] else {
            panic!()
        };
        assert_eq!(write["tool_name"], "Write");
        assert_eq!(write["timestamp"], t);
        let Emit::Event(stop) = &all[5] else { panic!() };
        assert_eq!(
            stop["transcript_path"],
            "/h/.copilot/session-state/s/events.jsonl"
        );
    }
}
