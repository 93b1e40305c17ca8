//! Turning a Codex rollout's lines into the hook events Codex fired for them (PROTOCOL-CODEX.md §3, §7).
//! Pure, like [`super::synth`]: lines in, events out.
//!
//! | rollout line | events |
//! |---|---|
//! | first `session_meta` (a later one: a resume) | `SessionStart` (`startup`, `resume`) |
//! | `turn_context` | (the `turn_id` and model of what follows) |
//! | `user` message (not Codex's own `<environment_context>`, not a `<hook_prompt>`) | `UserPromptSubmit` |
//! | `function_call` `exec_command` / `custom_tool_call` `apply_patch` / other calls | `PreToolUse` (`Bash`, `apply_patch`, namespace + name) |
//! | their `…_output` | `PostToolUse` (the command's own output, as hooks get it), none for a call a hook blocked, a patch that failed or a patch run through the shell |
//! | an `assistant` message followed by a `<hook_prompt>` or `task_complete` | `Stop` (`stop_hook_active` once a Stop of the turn was blocked) |
//! | `compacted` | `PreCompact`, `PostCompact`, `SessionStart` (`compact`) |
//!
//! A subagent's rollout is a file of its own. When a `spawn_agent` call returns, the driver finds it
//! beside the replayed rollout (its `session_meta` names the parent thread and the agent's path) and
//! replays it with [`CodexSynthesizer::subagent`]: every event carries `agent_id` and `agent_type`, the
//! parent's `turn_id`, and the subagent's rollout as `transcript_path`, as Codex sends them; its final
//! answer becomes the driver's `SubagentStop`, not a `Stop`.

use std::collections::HashMap;

use portcullis_core::transcript::codex_message_text;
use serde_json::{Map, Value, json};

use super::synth::Emit;

/// Replays one rollout's lines, in order.
#[derive(Debug, Default)]
pub struct CodexSynthesizer {
    /// `session_id` (the rollout's `session_meta.id`).
    pub session_id: String,
    /// `cwd` as recorded.
    pub cwd: String,
    /// This thread's id (`session_meta.id`): the session's for the main thread, its own for a subagent.
    pub thread_id: String,
    /// A subagent's id (its thread id); `None` for the main thread.
    agent_id: Option<String>,
    /// Agents that `spawn_agent` calls started, by path, not yet handed to the driver.
    spawned: Vec<String>,
    transcript_path: String,
    turn_id: Option<String>,
    model: Option<String>,
    sessions_seen: usize,
    /// Calls seen, by `call_id`: the hook's tool name and input.
    pending: HashMap<String, (String, Value)>,
    /// The newest assistant text, and whether a Stop for it is still due.
    pub last_text: String,
    stop_due: bool,
    /// A Stop of this turn was blocked (a `<hook_prompt>` came back).
    turn_blocked: bool,
}

impl CodexSynthesizer {
    /// A synthesizer for the rollout at `transcript_path`.
    #[must_use]
    pub fn new(transcript_path: &str) -> Self {
        Self {
            transcript_path: transcript_path.to_owned(),
            ..Self::default()
        }
    }

    /// A synthesizer for the subagent `agent_id` of `parent`'s turn, whose rollout is `transcript_path`.
    #[must_use]
    pub fn subagent(parent: &Self, agent_id: &str, transcript_path: &str) -> Self {
        Self {
            session_id: parent.session_id.clone(),
            cwd: parent.cwd.clone(),
            agent_id: Some(agent_id.to_owned()),
            transcript_path: transcript_path.to_owned(),
            turn_id: parent.turn_id.clone(),
            model: parent.model.clone(),
            ..Self::default()
        }
    }

    /// True when `first_line` is a Codex rollout's (`session_meta`).
    #[must_use]
    pub fn recognises(first_line: &Value) -> bool {
        first_line["type"] == "session_meta"
    }

    /// The events for one rollout line.
    pub fn entry(&mut self, line: &Value) -> Vec<Emit> {
        let payload = &line["payload"];
        let mut out = Vec::new();
        match line["type"].as_str().unwrap_or_default() {
            // A subagent's own start is the driver's SubagentStart.
            "session_meta" if self.agent_id.is_some() => {
                text_into(&payload["id"], &mut self.thread_id);
                text_into(&payload["cwd"], &mut self.cwd);
            }
            "session_meta" => {
                text_into(&payload["id"], &mut self.session_id);
                text_into(&payload["id"], &mut self.thread_id);
                text_into(&payload["cwd"], &mut self.cwd);
                let source = if self.sessions_seen == 0 {
                    "startup"
                } else {
                    "resume"
                };
                self.sessions_seen += 1;
                out.push(self.event("SessionStart", json!({"source": source})));
            }
            "turn_context" => {
                // A subagent's events carry the turn of the parent that spawned it.
                if self.agent_id.is_none() {
                    self.turn_id = payload["turn_id"].as_str().map(str::to_owned);
                }
                self.model = payload["model"].as_str().map(str::to_owned);
                text_into(&payload["cwd"], &mut self.cwd);
            }
            "response_item" => self.item(payload, &mut out),
            "event_msg" if payload["type"] == "task_complete" => {
                self.stop(&mut out);
                self.turn_blocked = false;
            }
            "compacted" => {
                out.push(self.event("PreCompact", json!({"trigger": "auto"})));
                out.push(self.event("PostCompact", json!({"trigger": "auto"})));
                out.push(self.event("SessionStart", json!({"source": "compact"})));
            }
            _ => {}
        }
        let spawned = self
            .spawned
            .drain(..)
            .map(|agent_path| Emit::CodexSubagent { agent_path });
        out.into_iter().map(Emit::Event).chain(spawned).collect()
    }

    fn item(&mut self, item: &Value, out: &mut Vec<Value>) {
        match item["type"].as_str().unwrap_or_default() {
            "message" if item["role"] == "user" => {
                let text = codex_message_text(item);
                if text.starts_with("<hook_prompt") {
                    self.stop(out);
                    self.turn_blocked = true;
                } else if !text.starts_with("<environment_context>") && !text.is_empty() {
                    self.turn_blocked = false;
                    self.stop_due = false;
                    out.push(self.event("UserPromptSubmit", json!({"prompt": text})));
                }
            }
            "message" if item["role"] == "assistant" => {
                self.last_text = codex_message_text(item);
                self.stop_due = true;
            }
            "function_call" | "custom_tool_call" => {
                self.stop_due = false;
                let (tool, input) = call(item);
                let id = item["call_id"].as_str().unwrap_or_default().to_owned();
                out.push(self.event(
                    "PreToolUse",
                    json!({"tool_name": tool, "tool_input": input, "tool_use_id": id}),
                ));
                self.pending.insert(id, (tool, input));
            }
            "function_call_output" | "custom_tool_call_output" => {
                let id = item["call_id"].as_str().unwrap_or_default();
                let Some((tool, input)) = self.pending.remove(id) else {
                    return;
                };
                let output = item["output"].as_str().unwrap_or_default();
                // A patch run through the shell is applied by Codex itself: no PostToolUse follows.
                let shell_patch = tool == "Bash"
                    && portcullis_core::patch::shell_applies_patch(
                        input["command"].as_str().unwrap_or_default(),
                    );
                if let Some(response) = hook_response(&tool, output).filter(|_| !shell_patch) {
                    out.push(self.event(
                        "PostToolUse",
                        json!({"tool_name": tool, "tool_input": input, "tool_response": response, "tool_use_id": id}),
                    ));
                }
                if tool == "collaborationspawn_agent"
                    && let Some(path) = serde_json::from_str::<Value>(output)
                        .ok()
                        .and_then(|o| o["task_name"].as_str().map(str::to_owned))
                {
                    self.spawned.push(path);
                }
            }
            _ => {}
        }
    }

    fn stop(&mut self, out: &mut Vec<Value>) {
        // A subagent's last answer is the driver's SubagentStop.
        if !self.stop_due || self.agent_id.is_some() {
            return;
        }
        self.stop_due = false;
        out.push(self.event(
            "Stop",
            json!({"stop_hook_active": self.turn_blocked, "last_assistant_message": self.last_text}),
        ));
    }

    /// An event named `name` with Codex's common fields (a subagent's `agent_id` and `agent_type` too) and
    /// `extra`.
    #[must_use]
    pub fn event(&self, name: &str, extra: Value) -> Value {
        let mut map = Map::new();
        map.insert("session_id".into(), json!(self.session_id));
        if let Some(t) = self.turn_id.as_ref().filter(|_| name != "SessionStart") {
            map.insert("turn_id".into(), json!(t));
        }
        map.insert("transcript_path".into(), json!(self.transcript_path));
        map.insert("cwd".into(), json!(self.cwd));
        map.insert("hook_event_name".into(), json!(name));
        if let Some(m) = &self.model {
            map.insert("model".into(), json!(m));
        }
        if !matches!(name, "PreCompact" | "PostCompact") {
            map.insert("permission_mode".into(), json!("default"));
        }
        if let Some(id) = &self.agent_id {
            // Codex 0.169 reports every spawned helper as `default`.
            map.insert("agent_id".into(), json!(id));
            map.insert("agent_type".into(), json!("default"));
        }
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

/// A call's hook `tool_name` and `tool_input` (PROTOCOL-CODEX.md §4).
fn call(item: &Value) -> (String, Value) {
    let name = item["name"].as_str().unwrap_or_default();
    if item["type"] == "custom_tool_call" {
        return (name.to_owned(), json!({"command": item["input"]}));
    }
    let args: Value = item["arguments"]
        .as_str()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(Value::Null);
    if name == "exec_command" {
        return ("Bash".to_owned(), json!({"command": args["cmd"]}));
    }
    let namespace = item["namespace"].as_str().unwrap_or_default();
    (format!("{namespace}{name}"), args)
}

/// What the hook's `tool_response` was, from the output the model saw; `None` when Codex fired no
/// `PostToolUse` (a hook blocked the call, or a patch failed).
fn hook_response(tool: &str, output: &str) -> Option<String> {
    if output.starts_with("Command blocked by PreToolUse hook") {
        return None;
    }
    match tool {
        // The model sees a header (chunk id, wall time, exit code); the hook gets the output alone.
        "Bash" => Some(
            output
                .split_once("\nOutput:\n")
                .map_or(output, |(_, rest)| rest)
                .to_owned(),
        ),
        "apply_patch" if !output.starts_with("Exit code: 0") => None,
        _ => Some(output.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::synth::names;

    fn item(payload: Value) -> Value {
        let mut line = json!({"type": "response_item"});
        line["payload"] = payload;
        line
    }

    fn user(text: &str) -> Value {
        item(
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}),
        )
    }

    fn said(text: &str) -> Value {
        item(
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}),
        )
    }

    #[test]
    fn a_turn_gives_codex_s_events_in_order() {
        let mut s = CodexSynthesizer::new("/r/rollout-x.jsonl");
        let lines = [
            json!({"type": "session_meta", "payload": {"id": "s1", "cwd": "/p"}}),
            json!({"type": "turn_context", "payload": {"turn_id": "t1", "model": "gpt-5.5", "cwd": "/p"}}),
            user("<environment_context>…"),
            user("fix it"),
            item(
                json!({"type": "function_call", "name": "exec_command", "call_id": "c1", "arguments": "{\"cmd\":\"echo hi\"}"}),
            ),
            item(
                json!({"type": "function_call_output", "call_id": "c1", "output": "Chunk ID: 1\nProcess exited with code 0\nOutput:\nhi\n"}),
            ),
            item(
                json!({"type": "function_call", "name": "exec_command", "call_id": "c2", "arguments": "{\"cmd\":\"rm x\"}"}),
            ),
            item(
                json!({"type": "function_call_output", "call_id": "c2", "output": "Command blocked by PreToolUse hook: no. Command: rm x"}),
            ),
            said("first"),
            user("<hook_prompt hook_run_id=\"stop:0\">finish</hook_prompt>"),
            item(
                json!({"type": "custom_tool_call", "name": "apply_patch", "call_id": "c3", "input": "*** Begin Patch\n*** End Patch\n"}),
            ),
            item(
                json!({"type": "custom_tool_call_output", "call_id": "c3", "output": "Exit code: 0\nOutput:\nSuccess."}),
            ),
            said("second"),
            json!({"type": "event_msg", "payload": {"type": "task_complete"}}),
        ];
        let emits: Vec<Emit> = lines.iter().flat_map(|l| s.entry(l)).collect();
        assert_eq!(
            names(&emits),
            [
                "SessionStart",
                "UserPromptSubmit",
                "PreToolUse",
                "PostToolUse",
                "PreToolUse",
                "Stop",
                "PreToolUse",
                "PostToolUse",
                "Stop"
            ]
        );
        let Emit::Event(post) = &emits[3] else {
            panic!()
        };
        assert_eq!(post["tool_response"], "hi\n");
        assert_eq!(post["turn_id"], "t1");
        let Emit::Event(first_stop) = &emits[5] else {
            panic!()
        };
        assert_eq!(first_stop["stop_hook_active"], false);
        let Emit::Event(second_stop) = &emits[8] else {
            panic!()
        };
        assert_eq!(second_stop["stop_hook_active"], true);
        assert_eq!(second_stop["last_assistant_message"], "second");
        let Emit::Event(patch) = &emits[6] else {
            panic!()
        };
        assert_eq!(patch["tool_name"], "apply_patch");
        assert_eq!(
            patch["tool_input"]["command"],
            "*** Begin Patch\n*** End Patch\n"
        );
    }

    #[test]
    fn a_resume_a_compaction_and_a_spawn() {
        let mut s = CodexSynthesizer::new("/r/rollout-x.jsonl");
        let lines = [
            json!({"type": "session_meta", "payload": {"id": "s1", "cwd": "/p"}}),
            json!({"type": "compacted", "payload": {"message": "m"}}),
            json!({"type": "session_meta", "payload": {"id": "s1", "cwd": "/p"}}),
            item(
                json!({"type": "function_call", "namespace": "collaboration", "name": "spawn_agent", "call_id": "c1", "arguments": "{\"task_name\":\"h\",\"message\":\"do\"}"}),
            ),
        ];
        let emits: Vec<Emit> = lines.iter().flat_map(|l| s.entry(l)).collect();
        assert_eq!(
            names(&emits),
            [
                "SessionStart",
                "PreCompact",
                "PostCompact",
                "SessionStart",
                "SessionStart",
                "PreToolUse"
            ]
        );
        let Emit::Event(resume) = &emits[4] else {
            panic!()
        };
        assert_eq!(resume["source"], "resume");
        let Emit::Event(spawn) = &emits[5] else {
            panic!()
        };
        assert_eq!(spawn["tool_name"], "collaborationspawn_agent");
        assert_eq!(spawn["tool_input"]["message"], "do");
    }

    #[test]
    fn a_spawn_hands_the_agent_over_and_a_subagent_speaks_as_one() {
        let mut parent = CodexSynthesizer::new("/r/rollout-p.jsonl");
        let lines = [
            json!({"type": "session_meta", "payload": {"id": "p1", "cwd": "/p"}}),
            json!({"type": "turn_context", "payload": {"turn_id": "t1", "model": "gpt-5.5", "cwd": "/p"}}),
            user("delegate"),
            item(
                json!({"type": "function_call", "namespace": "collaboration", "name": "spawn_agent", "call_id": "c1", "arguments": "{\"task_name\":\"helper\",\"message\":\"do\"}"}),
            ),
            item(
                json!({"type": "function_call_output", "call_id": "c1", "output": "{\"task_name\":\"/root/helper\"}"}),
            ),
        ];
        let emits: Vec<Emit> = lines.iter().flat_map(|l| parent.entry(l)).collect();
        assert_eq!(
            names(&emits),
            [
                "SessionStart",
                "UserPromptSubmit",
                "PreToolUse",
                "PostToolUse",
                "codex-subagent:/root/helper"
            ]
        );
        // The subagent's own rollout: no SessionStart and no Stop of its own; the parent's turn, its id.
        let mut sub = CodexSynthesizer::subagent(&parent, "a1", "/r/rollout-a.jsonl");
        let lines = [
            json!({"type": "session_meta", "payload": {"id": "a1", "session_id": "p1", "parent_thread_id": "p1", "agent_path": "/root/helper", "cwd": "/p"}}),
            json!({"type": "turn_context", "payload": {"turn_id": "t-sub", "model": "gpt-5.5", "cwd": "/p"}}),
            item(
                json!({"type": "function_call", "name": "exec_command", "call_id": "c2", "arguments": "{\"cmd\":\"ls\"}"}),
            ),
            said("done"),
            json!({"type": "event_msg", "payload": {"type": "task_complete"}}),
        ];
        let emits: Vec<Emit> = lines.iter().flat_map(|l| sub.entry(l)).collect();
        assert_eq!(names(&emits), ["PreToolUse"]);
        let Emit::Event(call) = &emits[0] else {
            panic!()
        };
        assert_eq!(
            (&call["agent_id"], &call["agent_type"], &call["turn_id"]),
            (&json!("a1"), &json!("default"), &json!("t1"))
        );
        assert_eq!(call["session_id"], "p1");
        assert_eq!(call["transcript_path"], "/r/rollout-a.jsonl");
        assert_eq!(sub.last_text, "done");
        assert_eq!(sub.thread_id, "a1");
    }
}
