//! The stand-in as the Gemini API, for driving the real Gemini CLI offline (PROTOCOL-GEMINI.md §10), from
//! the same [`Scenario`] as the other clients.
//!
//! A turn is `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` with `{contents: [{role, parts}],
//! tools, …}`. It belongs to the marker found in the newest `user` content's text that has one (the
//! prompt); its step is the number of `model` contents since then (a held turn end's reason comes back as
//! a user text, which does not start a new script). Steps name Gemini's tools (`run_shell_command`,
//! `write_file`, `replace`, …), with `Bash`, `Write` and `Edit` accepted for them; `usageMetadata` carries
//! the step's usage, which Gemini records in its session file.
//!
//! Side calls are answered and not recorded: `:countTokens`, a request with no tools or asking for JSON
//! (`responseMimeType`, `responseJsonSchema`: the loop and next-speaker checks), which gets a JSON text
//! that says all is well.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::standin::{Answer, Scenario, StandIn, Step, Usage};

/// Starts a Gemini API stand-in serving `scenario`.
pub fn start(scenario: Scenario) -> std::io::Result<StandIn> {
    StandIn::start_with(Arc::new(move |path: &str, body: &Value, _n: usize| {
        if path.contains(":countTokens") {
            return Some(Answer {
                content_type: "application/json",
                body: r#"{"totalTokens":10}"#.to_owned(),
                record: false,
            });
        }
        let streaming = path.contains(":streamGenerateContent");
        if !streaming && !path.contains(":generateContent") {
            return None;
        }
        let side = is_side_call(body);
        let (parts, usage) = if side {
            (
                vec![
                    json!({"text": r#"{"unproductive_state_confidence": 0, "reasoning": "making progress", "next_speaker": "user"}"#}),
                ],
                Usage::default(),
            )
        } else {
            let (step, usage) = answer(&scenario, body);
            (parts(&step), usage)
        };
        let response = json!({
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {
                "promptTokenCount": usage.input + usage.cache_read + usage.cache_creation,
                "cachedContentTokenCount": usage.cache_read,
                "candidatesTokenCount": usage.output,
                "totalTokenCount": usage.input + usage.cache_read + usage.cache_creation + usage.output,
            },
            "modelVersion": "gemini-2.5-pro",
        });
        Some(Answer {
            content_type: if streaming {
                "text/event-stream"
            } else {
                "application/json"
            },
            body: if streaming {
                format!("data: {response}\n\n")
            } else {
                response.to_string()
            },
            record: !side,
        })
    }))
}

/// A request of the CLI's own (no tools, or a JSON answer wanted), not a turn of the agent.
fn is_side_call(body: &Value) -> bool {
    let config = &body["generationConfig"];
    body["tools"].as_array().is_none_or(Vec::is_empty)
        || config["responseMimeType"] == "application/json"
        || !config["responseJsonSchema"].is_null()
        || !config["responseSchema"].is_null()
}

/// The text parts of one content.
fn text_of(content: &Value) -> String {
    content["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn answer(scenario: &Scenario, body: &Value) -> (Step, Usage) {
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    for (at, content) in contents.iter().enumerate().rev() {
        if content["role"] != "user" {
            continue;
        }
        let Some(steps) = scenario.script_for(&text_of(content)) else {
            continue;
        };
        let turn = contents[at + 1..]
            .iter()
            .filter(|c| c["role"] == "model")
            .count();
        return Scenario::step_at(steps, turn);
    }
    Scenario::unclaimed()
}

/// The parts of one step's answer.
fn parts(step: &Step) -> Vec<Value> {
    match step {
        Step::Text(t) => vec![json!({"text": t})],
        Step::Tool { name, input } => vec![call(name, input)],
        Step::TextAndTool { text, name, input } => vec![json!({"text": text}), call(name, input)],
    }
}

/// A function call in Gemini's tool names.
fn call(name: &str, input: &Value) -> Value {
    let name = match name {
        "Bash" => "run_shell_command",
        "Write" => "write_file",
        "Edit" => "replace",
        other => other,
    };
    json!({"functionCall": {"name": name, "args": input}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Value {
        json!({"role": "user", "parts": [{"text": "<session_context>x</session_context>"}, {"text": text}]})
    }

    #[test]
    fn the_step_counts_model_turns_since_the_marked_prompt() {
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
        let tools = json!([{"functionDeclarations": []}]);
        let pick = |contents: Vec<Value>| {
            answer(&scenario, &json!({"contents": contents, "tools": tools})).0
        };
        assert!(matches!(pick(vec![user("MARK go")]), Step::Tool { .. }));
        let called = json!({"role": "model", "parts": [{"functionCall": {"name": "run_shell_command", "args": {}}}]});
        let result = json!({"role": "user", "parts": [{"functionResponse": {"name": "run_shell_command", "response": {"output": "x"}}}]});
        assert!(
            matches!(pick(vec![user("MARK go"), called.clone(), result.clone()]), Step::Text(t) if t == "first")
        );
        let said = json!({"role": "model", "parts": [{"text": "first"}]});
        let held = json!({"role": "user", "parts": [{"text": "[feedback-loop] keep going"}]});
        assert!(
            matches!(pick(vec![user("MARK go"), called, result, said, held]), Step::Text(t) if t == "second")
        );
        assert!(is_side_call(&json!({"contents": []})));
        assert!(is_side_call(
            &json!({"tools": tools, "generationConfig": {"responseMimeType": "application/json"}})
        ));
    }

    #[test]
    fn tools_use_gemini_names() {
        assert_eq!(
            call("Bash", &json!({"command": "cargo test"})),
            json!({"functionCall": {"name": "run_shell_command", "args": {"command": "cargo test"}}})
        );
        assert_eq!(
            call("write_file", &json!({}))["functionCall"]["name"],
            "write_file"
        );
    }
}
