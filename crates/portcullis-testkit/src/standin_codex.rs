//! The stand-in as the OpenAI Responses API, for driving the real Codex CLI offline (shared/E2E-CODEX.md),
//! from the same [`Scenario`] as the Claude Code one.
//!
//! A request belongs to the marker found in its newest `user` message or inter-agent `agent_message` that
//! has one (the `exec` prompt, or a subagent's task); its step is the number of model responses since
//! that message, counted from the items Codex sends back (a tool call, or an assistant message not
//! followed by a call of the same response). Steps map to Codex's tools: `Bash` → `exec_command {cmd}`,
//! `apply_patch` → the custom tool with the patch text (`input.patch`), `spawn_agent` and `wait_agent` →
//! the `collaboration` namespace; text → an assistant message. `response.completed` carries the step's usage, which Codex records in its rollout.

use std::sync::Arc;

use portcullis_core::transcript::codex_message_text;
use serde_json::{Value, json};

use crate::standin::{Answer, Scenario, StandIn, Step, Usage, sse_text};

/// Starts a Responses API stand-in serving `scenario`.
pub fn start(scenario: Scenario) -> std::io::Result<StandIn> {
    StandIn::start_with(Arc::new(move |path: &str, body: &Value, n: usize| {
        if !path.ends_with("/responses") {
            return None;
        }
        let (step, usage) = answer(&scenario, body);
        Some(Answer {
            content_type: "text/event-stream",
            body: sse(&step, usage, n),
            record: true,
        })
    }))
}

fn is_call(item: &Value) -> bool {
    matches!(
        item["type"].as_str(),
        Some("function_call" | "custom_tool_call")
    )
}

fn answer(scenario: &Scenario, body: &Value) -> (Step, Usage) {
    let items = body["input"].as_array().cloned().unwrap_or_default();
    for (at, item) in items.iter().enumerate().rev() {
        let Some(text) = anchor_text(item) else {
            continue;
        };
        let Some(steps) = scenario.script_for(&text) else {
            continue;
        };
        let after = &items[at + 1..];
        let turn = after
            .iter()
            .enumerate()
            .filter(|(i, it)| {
                is_call(it)
                    || (it["type"] == "message"
                        && it["role"] == "assistant"
                        && !after.get(i + 1).is_some_and(is_call))
            })
            .count();
        return Scenario::step_at(steps, turn);
    }
    Scenario::unclaimed()
}

/// The text of an item a script can be keyed on: a `user` message, or an `agent_message` between agents (a
/// subagent's task arrives as one, its payload in an `encrypted_content` part that Codex leaves for the
/// model's server to read: the stand-in is that server).
fn anchor_text(item: &Value) -> Option<String> {
    match item["type"].as_str() {
        Some("message") if item["role"] == "user" => Some(codex_message_text(item)),
        Some("agent_message") => {
            let payload = item["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["encrypted_content"].as_str());
            let mut text = codex_message_text(item);
            for part in payload {
                text.push('\n');
                text.push_str(part);
            }
            Some(text)
        }
        _ => None,
    }
}

/// The output items of one step.
fn items(step: &Step, n: usize) -> Vec<Value> {
    let text = |t: &str| {
        json!({"type": "message", "role": "assistant", "id": format!("msg_{n:04}"),
               "content": [{"type": "output_text", "text": t, "annotations": []}]})
    };
    match step {
        Step::Text(t) => vec![text(t)],
        Step::Tool { name, input } => vec![call(name, input, n)],
        Step::TextAndTool {
            text: t,
            name,
            input,
        } => vec![text(t), call(name, input, n)],
    }
}

/// A tool call in Codex's names.
fn call(name: &str, input: &Value, n: usize) -> Value {
    let call_id = format!("call_{n:04}");
    match name {
        "apply_patch" => {
            json!({"type": "custom_tool_call", "id": format!("ctc_{n:04}"), "call_id": call_id,
                                "name": "apply_patch", "input": input["patch"].as_str().unwrap_or_default()})
        }
        "spawn_agent" | "wait_agent" => json!({"type": "function_call", "id": format!("fc_{n:04}"),
                                "call_id": call_id, "name": name, "namespace": "collaboration",
                                "arguments": input.to_string()}),
        // `Bash` and anything else: a shell command.
        _ => {
            let cmd = input["command"]
                .as_str()
                .or_else(|| input["cmd"].as_str())
                .unwrap_or_default();
            json!({"type": "function_call", "id": format!("fc_{n:04}"), "call_id": call_id,
                   "name": "exec_command", "arguments": json!({"cmd": cmd}).to_string()})
        }
    }
}

fn sse(step: &Step, u: Usage, n: usize) -> String {
    let id = format!("resp_{n:04}");
    let mut events: Vec<(&str, Value)> = vec![(
        "response.created",
        json!({"type": "response.created", "response": {"id": id}}),
    )];
    for (index, item) in items(step, n).into_iter().enumerate() {
        events.push((
            "response.output_item.added",
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        ));
        events.push((
            "response.output_item.done",
            json!({"type": "response.output_item.done", "output_index": index, "item": item}),
        ));
    }
    let input = u.input + u.cache_read + u.cache_creation;
    events.push((
        "response.completed",
        json!({"type": "response.completed", "response": {"id": id, "usage": {
            "input_tokens": input, "input_tokens_details": {"cached_tokens": u.cache_read},
            "output_tokens": u.output, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input + u.output}}}),
    ));
    sse_text(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Value {
        json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
    }

    #[test]
    fn the_step_counts_responses_since_the_marked_prompt() {
        let scenario = Scenario::new().on(
            "MARK",
            vec![
                Step::Tool {
                    name: "Bash".into(),
                    input: json!({"command": "ls"}),
                },
                Step::Text("first".into()),
                Step::Text("second".into()),
            ],
        );
        let pick = |input: Vec<Value>| answer(&scenario, &json!({"input": input})).0;
        assert!(matches!(pick(vec![user("MARK go")]), Step::Tool { .. }));
        let call = json!({"type": "function_call", "call_id": "c"});
        let out = json!({"type": "function_call_output", "call_id": "c"});
        let said = |t: &str| json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": t}]});
        assert!(
            matches!(pick(vec![user("MARK go"), call.clone(), out.clone()]), Step::Text(t) if t == "first")
        );
        let hook_prompt = user("<hook_prompt hook_run_id=\"stop:0\">keep going</hook_prompt>");
        assert!(
            matches!(pick(vec![user("MARK go"), call, out, said("first"), hook_prompt]), Step::Text(t) if t == "second")
        );
        assert!(matches!(pick(vec![user("nothing")]), Step::Text(t) if t == "ok"));
    }

    #[test]
    fn tools_use_codex_names() {
        let bash = call("Bash", &json!({"command": "cargo test"}), 1);
        assert_eq!(bash["name"], "exec_command");
        assert_eq!(bash["arguments"], r#"{"cmd":"cargo test"}"#);
        let patch = call(
            "apply_patch",
            &json!({"patch": "*** Begin Patch\n*** End Patch\n"}),
            2,
        );
        assert_eq!(patch["type"], "custom_tool_call");
        assert_eq!(patch["input"], "*** Begin Patch\n*** End Patch\n");
        assert_eq!(
            call("spawn_agent", &json!({}), 3)["namespace"],
            "collaboration"
        );
    }
}
