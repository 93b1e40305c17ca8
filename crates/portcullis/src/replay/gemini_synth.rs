//! Turning a Gemini CLI session file's lines into the hook events Gemini fired for them
//! (PROTOCOL-GEMINI.md §3, §8). Pure, like [`super::synth`]: lines in, events out, in Gemini's own names.
//!
//! | session file line | events |
//! |---|---|
//! | the first line (`sessionId`, `kind: "main"`) | `SessionStart` (`startup`) |
//! | a `user` record with text (not Gemini's own `<session_context>`) | `BeforeAgent` (a held turn's reason comes back so, and is fired so) |
//! | a `gemini` record's `toolCalls` | per call: `BeforeTool`, then `AfterTool` with its result (none for a call a hook refused) |
//! | a `gemini` record with text and no tool call | `AfterAgent`: `prompt`, every answer since it as `prompt_response` |
//! | `$set` lines | nothing (metadata) |
//!
//! Gemini rewrites a record by appending it again with the same `id` (a model answer appears once empty,
//! then with its tool calls), so a record's events are given when the next record begins, or at the end
//! of the file ([`GeminiSynthesizer::finish`]). The project's folder is read from Gemini's own session
//! context (its `Workspace Directories`).

use serde_json::{Map, Value, json};

use super::synth::Emit;

/// Replays one Gemini session file's lines, in order.
#[derive(Debug, Default)]
pub struct GeminiSynthesizer {
    /// `session_id` (the file's `sessionId`).
    pub session_id: String,
    /// The project folder, as recorded.
    pub cwd: String,
    transcript_path: String,
    /// The newest state of the record whose events are still due.
    pending: Option<Value>,
    /// The newest prompt, and the answers given since.
    prompt: String,
    answers: Vec<String>,
    /// The session's start is still to be given (once the project folder is known).
    start_due: bool,
}

impl GeminiSynthesizer {
    /// A synthesizer for the session file at `transcript_path`.
    #[must_use]
    pub fn new(transcript_path: &str) -> Self {
        Self {
            transcript_path: transcript_path.to_owned(),
            ..Self::default()
        }
    }

    /// True when `first_line` is a Gemini session file's (`sessionId` and `kind`).
    #[must_use]
    pub fn recognises(first_line: &Value) -> bool {
        first_line["sessionId"].is_string() && first_line["kind"].is_string()
    }

    /// The events for one line.
    pub fn entry(&mut self, line: &Value) -> Vec<Emit> {
        if Self::recognises(line) {
            line["sessionId"]
                .as_str()
                .unwrap_or_default()
                .clone_into(&mut self.session_id);
            self.start_due = true;
            return Vec::new();
        }
        if let Some(set) = line.get("$set") {
            for message in set["messages"].as_array().into_iter().flatten() {
                self.read_context(message);
            }
        } else if line["type"] == "user" {
            self.read_context(line);
        }
        let mut out = Vec::new();
        // The start waits for the session context, which names the project folder every event carries.
        if self.start_due && (!self.cwd.is_empty() || line.get("id").is_some()) {
            self.start_due = false;
            out.push(Emit::Event(
                self.event("SessionStart", json!({"source": "startup"})),
            ));
        }
        let Some(id) = line["id"].as_str() else {
            return out;
        };
        if self.pending.as_ref().is_some_and(|p| p["id"] != id) {
            out.extend(self.finish());
        }
        self.pending = Some(line.clone());
        out
    }

    /// The events of the record still due: call at the end of the file.
    pub fn finish(&mut self) -> Vec<Emit> {
        let Some(record) = self.pending.take() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match record["type"].as_str() {
            Some("user") => {
                let text = user_text(&record);
                if !text.is_empty() {
                    self.prompt.clone_from(&text);
                    self.answers.clear();
                    out.push(self.event("BeforeAgent", json!({"prompt": text})));
                }
            }
            Some("gemini") => {
                let calls = record["toolCalls"].as_array().cloned().unwrap_or_default();
                let text = record["content"].as_str().unwrap_or_default();
                if !text.trim().is_empty() {
                    self.answers.push(text.to_owned());
                }
                for call in &calls {
                    self.tool_call(call, &mut out);
                }
                if calls.is_empty() && !text.trim().is_empty() {
                    out.push(self.event(
                        "AfterAgent",
                        json!({"prompt": self.prompt, "prompt_response": self.answers.join("\n"),
                               "stop_hook_active": false}),
                    ));
                }
            }
            _ => {}
        }
        out.into_iter().map(Emit::Event).collect()
    }

    /// A call's `BeforeTool`, and its `AfterTool` unless a hook refused it (Gemini fires none then).
    fn tool_call(&self, call: &Value, out: &mut Vec<Value>) {
        let name = call["name"].as_str().unwrap_or_default();
        let id = call["id"].as_str().unwrap_or_default();
        let input = call["args"].clone();
        out.push(self.event(
            "BeforeTool",
            json!({"tool_name": name, "tool_input": input, "tool_use_id": id}),
        ));
        let response = &call["result"][0]["functionResponse"]["response"];
        if let Some(error) = response["error"].as_str() {
            if error.starts_with("Tool execution blocked") {
                return;
            }
            out.push(self.event(
                "AfterTool",
                json!({"tool_name": name, "tool_input": input, "tool_use_id": id,
                       "tool_response": {"llmContent": error, "returnDisplay": call["resultDisplay"], "error": error}}),
            ));
            return;
        }
        let content = response["output"].as_str().unwrap_or_default();
        let display = match &call["resultDisplay"] {
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        out.push(self.event(
            "AfterTool",
            json!({"tool_name": name, "tool_input": input, "tool_use_id": id,
                   "tool_response": {"llmContent": content, "returnDisplay": display}}),
        ));
    }

    /// The project folder from Gemini's session context (`- **Workspace Directories:**` and its first
    /// item), when not known yet.
    fn read_context(&mut self, message: &Value) {
        if !self.cwd.is_empty() {
            return;
        }
        for part in message["content"].as_array().into_iter().flatten() {
            let Some(text) = part["text"].as_str() else {
                continue;
            };
            let Some(at) = text.find("**Workspace Directories:**") else {
                continue;
            };
            if let Some(dir) = text[at..]
                .lines()
                .nth(1)
                .and_then(|l| l.trim().strip_prefix("- "))
            {
                dir.trim().clone_into(&mut self.cwd);
                return;
            }
        }
    }

    /// An event as Gemini sends it, with the common fields.
    fn event(&self, name: &str, extra: Value) -> Value {
        let mut map = Map::new();
        map.insert("session_id".into(), json!(self.session_id));
        map.insert("transcript_path".into(), json!(self.transcript_path));
        map.insert("cwd".into(), json!(self.cwd));
        map.insert("hook_event_name".into(), json!(name));
        if let Value::Object(extra) = extra {
            map.extend(extra);
        }
        Value::Object(map)
    }
}

/// A user record's own text: its text parts, without Gemini's `<session_context>`.
fn user_text(record: &Value) -> String {
    record["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .filter(|t| !t.starts_with("<session_context>"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::synth::names;

    #[test]
    fn a_session_file_gives_gemini_s_events_in_order() {
        let mut s = GeminiSynthesizer::new("/t/session.jsonl");
        let lines = [
            json!({"sessionId": "s1", "projectHash": "h", "kind": "main"}),
            json!({"$set": {"messages": [{"id": "c", "type": "user", "content": [{"text": "<session_context>\n- **Workspace Directories:**\n  - /w/p\n</session_context>"}]}]}}),
            json!({"id": "u1", "type": "user", "content": [{"text": "fix it"}]}),
            json!({"id": "g1", "type": "gemini", "content": ""}),
            json!({"id": "g1", "type": "gemini", "content": "", "toolCalls": [
                {"id": "c1", "name": "run_shell_command", "args": {"command": "echo x > ../o"}, "status": "error",
                 "result": [{"functionResponse": {"response": {"error": "Tool execution blocked: no"}}}]},
                {"id": "c2", "name": "replace", "args": {"file_path": "/w/p/a.rs"}, "status": "success", "resultDisplay": {"fileDiff": "d"},
                 "result": [{"functionResponse": {"response": {"output": "Successfully modified file"}}}]}]}),
            json!({"id": "r1", "type": "user", "content": [{"functionResponse": {"id": "c2"}}]}),
            json!({"id": "g2", "type": "gemini", "content": "done"}),
            json!({"id": "u2", "type": "user", "content": [{"text": "[feedback-loop] run the tests"}]}),
            json!({"id": "g3", "type": "gemini", "content": "ran them"}),
        ];
        let mut all = Vec::new();
        for l in &lines {
            all.extend(s.entry(l));
        }
        all.extend(s.finish());
        assert_eq!(
            names(&all),
            [
                "SessionStart",
                "BeforeAgent",
                "BeforeTool",
                "BeforeTool",
                "AfterTool",
                "AfterAgent",
                "BeforeAgent",
                "AfterAgent"
            ]
        );
        let Emit::Event(after) = &all[4] else {
            panic!()
        };
        assert_eq!(
            after["tool_response"]["llmContent"],
            "Successfully modified file"
        );
        assert_eq!(after["cwd"], "/w/p");
        let Emit::Event(stop) = &all[5] else { panic!() };
        assert_eq!(stop["prompt"], "fix it");
        assert_eq!(stop["prompt_response"], "done");
    }
}
