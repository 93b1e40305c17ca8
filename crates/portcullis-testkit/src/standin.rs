//! A scripted stand-in for the Anthropic Messages API on loopback, for driving the real Claude Code CLI
//! offline (shared/E2E.md); [`crate::standin_codex`] answers the OpenAI Responses API for Codex from the
//! same [`Scenario`]. std only: one thread accepts, one thread per connection answers.
//!
//! A [`Scenario`] maps marker texts to step lists. A request belongs to the marker found in its newest
//! user prompt that has one (the main thread's prompt, a later prompt of a continued session, or a
//! subagent's task prompt; tool results do not count); its step is the number of assistant turns since that
//! prompt, so retries and parallel agents need no shared counter. When several markers match, the longest
//! wins. A request no marker claims gets a plain
//! "ok". Every request body is recorded for assertions.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

/// Token usage the transcript will record for one response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// `input_tokens`.
    pub input: u64,
    /// `cache_read_input_tokens`.
    pub cache_read: u64,
    /// `cache_creation_input_tokens`.
    pub cache_creation: u64,
    /// `output_tokens`.
    pub output: u64,
}

/// One model response.
#[derive(Debug, Clone)]
pub enum Step {
    /// A final text (`end_turn`).
    Text(String),
    /// A tool call (`tool_use`) with its input.
    Tool {
        /// Tool name, e.g. `Write`.
        name: String,
        /// The input object.
        input: Value,
    },
    /// A text block, then a tool call: one response with two content blocks, which the client writes
    /// as two transcript lines with the same usage.
    TextAndTool {
        /// The text.
        text: String,
        /// Tool name.
        name: String,
        /// The input object.
        input: Value,
    },
}

/// Marker → steps.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    rules: Vec<(String, Vec<(Step, Usage)>)>,
}

impl Scenario {
    /// An empty scenario.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests whose first user message contains `marker` get `steps` in order (then "done").
    #[must_use]
    pub fn on(mut self, marker: &str, steps: Vec<Step>) -> Self {
        self.rules.push((
            marker.to_owned(),
            steps
                .into_iter()
                .map(|s| {
                    (
                        s,
                        Usage {
                            input: 100,
                            output: 10,
                            ..Usage::default()
                        },
                    )
                })
                .collect(),
        ));
        self
    }

    /// Like [`Scenario::on`], with the usage of each step.
    #[must_use]
    pub fn on_with_usage(mut self, marker: &str, steps: Vec<(Step, Usage)>) -> Self {
        self.rules.push((marker.to_owned(), steps));
        self
    }

    /// The steps of the longest marker found in `text`, if any marker is.
    pub(crate) fn script_for(&self, text: &str) -> Option<&[(Step, Usage)]> {
        self.rules
            .iter()
            .filter(|(m, _)| text.contains(m.as_str()))
            .max_by_key(|(m, _)| m.len())
            .map(|(_, steps)| steps.as_slice())
    }

    /// Step `turn` of `steps`, or a closing "done" past the end.
    pub(crate) fn step_at(steps: &[(Step, Usage)], turn: usize) -> (Step, Usage) {
        steps.get(turn).cloned().unwrap_or((
            Step::Text("done".into()),
            Usage {
                input: 100,
                output: 5,
                ..Usage::default()
            },
        ))
    }

    /// The answer to a request no marker claims.
    pub(crate) fn unclaimed() -> (Step, Usage) {
        (
            Step::Text("ok".into()),
            Usage {
                input: 10,
                output: 1,
                ..Usage::default()
            },
        )
    }

    fn answer(&self, body: &Value) -> (Step, Usage) {
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // The newest user message that carries a marker decides the script; the step is the number of
        // assistant turns since it. Tool results are user messages too, but carry no prompt text.
        for (at, message) in messages.iter().enumerate().rev() {
            if message["role"] != "user" {
                continue;
            }
            let text = prompt_text(&message["content"]);
            // The longest marker wins, so `X-SUB` is not taken for `X`.
            let Some(steps) = self.script_for(&text) else {
                continue;
            };
            let turn = messages[at..]
                .iter()
                .filter(|m| m["role"] == "assistant")
                .count();
            return Self::step_at(steps, turn);
        }
        Self::unclaimed()
    }
}

/// The prompt text of a user message's content: the string, or its `text` blocks (not tool results).
fn prompt_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// A running stand-in server.
#[derive(Debug)]
pub struct StandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Value>>>,
}

/// An answer to one POST.
pub(crate) struct Answer {
    /// Its content type.
    pub content_type: &'static str,
    /// Its body.
    pub body: String,
    /// Whether the request was a model request, kept for the test's assertions.
    pub record: bool,
}

/// Answers one POST: `(path, body, number of this request among the recorded ones)` → an [`Answer`], or
/// `None` for a path the API does not have (answered `{}`).
pub(crate) type Api = dyn Fn(&str, &Value, usize) -> Option<Answer> + Send + Sync;

impl StandIn {
    /// Starts serving `scenario` as the Anthropic Messages API on an OS-assigned loopback port. The server
    /// thread lives until the test process ends.
    pub fn start(scenario: Scenario) -> std::io::Result<Self> {
        Self::start_with(Arc::new(move |path: &str, body: &Value, n: usize| {
            if path.starts_with("/v1/messages/count_tokens") {
                return Some(Answer {
                    content_type: "application/json",
                    body: r#"{"input_tokens":10}"#.to_owned(),
                    record: false,
                });
            }
            if !path.starts_with("/v1/messages") {
                return None;
            }
            let (step, usage) = scenario.answer(body);
            let model = body["model"]
                .as_str()
                .unwrap_or("claude-sonnet-4-5")
                .to_owned();
            let (content_type, body) = if body["stream"] == true {
                ("text/event-stream", sse(&step, usage, &model, n))
            } else {
                (
                    "application/json",
                    message(&step, usage, &model, n).to_string(),
                )
            };
            Some(Answer {
                content_type,
                body,
                record: true,
            })
        }))
    }

    /// Starts serving `api` on an OS-assigned loopback port.
    pub(crate) fn start_with(api: Arc<Api>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let api = Arc::clone(&api);
                let recorded = Arc::clone(&recorded);
                thread::spawn(move || {
                    let _ = serve(stream, &*api, &recorded);
                });
            }
        });
        Ok(Self { addr, requests })
    }

    /// The base URL for `ANTHROPIC_BASE_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `/v1/messages` body received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, api: &Api, recorded: &Mutex<Vec<Value>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let n = recorded.lock().map_or(0, |r| r.len()) + 1;
        match (method == "POST").then(|| api(&path, &body, n)).flatten() {
            Some(answer) => {
                if answer.record
                    && let Ok(mut r) = recorded.lock()
                {
                    r.push(body);
                }
                respond(&mut stream, answer.content_type, answer.body.as_bytes())?;
            }
            None => respond(&mut stream, "application/json", b"{}")?,
        }
    }
}

fn respond(stream: &mut TcpStream, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nrequest-id: req_standin\r\nConnection: keep-alive\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn usage_json(u: Usage) -> Value {
    json!({"input_tokens": u.input, "cache_creation_input_tokens": u.cache_creation, "cache_read_input_tokens": u.cache_read, "output_tokens": u.output})
}

fn tool_block(name: &str, input: &Value, n: usize) -> Value {
    json!({"type": "tool_use", "id": format!("toolu_standin_{n:04}"), "name": name, "input": input})
}

/// The content blocks of a response and its stop reason.
fn blocks(step: &Step, n: usize) -> (Vec<Value>, &'static str) {
    match step {
        Step::Text(t) => (vec![json!({"type": "text", "text": t})], "end_turn"),
        Step::Tool { name, input } => (vec![tool_block(name, input, n)], "tool_use"),
        Step::TextAndTool { text, name, input } => (
            vec![
                json!({"type": "text", "text": text}),
                tool_block(name, input, n),
            ],
            "tool_use",
        ),
    }
}

fn message(step: &Step, u: Usage, model: &str, n: usize) -> Value {
    let (content, stop_reason) = blocks(step, n);
    json!({"id": format!("msg_standin_{n:04}"), "type": "message", "role": "assistant", "model": model,
           "content": content, "stop_reason": stop_reason, "stop_sequence": null, "usage": usage_json(u)})
}

fn sse(step: &Step, u: Usage, model: &str, n: usize) -> String {
    let mut events: Vec<(&str, Value)> = Vec::new();
    let mut start_usage = usage_json(u);
    start_usage["output_tokens"] = json!(1);
    events.push(("message_start", json!({"type": "message_start", "message": {"id": format!("msg_standin_{n:04}"), "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage}})));
    let (content, stop_reason) = blocks(step, n);
    for (index, block) in content.iter().enumerate() {
        if block["type"] == "text" {
            events.push(("content_block_start", json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})));
            events.push(("content_block_delta", json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": block["text"]}})));
        } else {
            let mut start = block.clone();
            start["input"] = json!({});
            events.push((
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": start}),
            ));
            events.push(("content_block_delta", json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": block["input"].to_string()}})));
        }
        events.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    events.push(("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": u.output}})));
    events.push(("message_stop", json!({"type": "message_stop"})));
    sse_text(events)
}

/// Server-sent events as text: `event: NAME`, `data: JSON`, a blank line, for each.
pub(crate) fn sse_text(events: Vec<(&str, Value)>) -> String {
    let mut out = String::new();
    for (name, data) in events {
        out.push_str("event: ");
        out.push_str(name);
        out.push_str("\ndata: ");
        out.push_str(&data.to_string());
        out.push_str("\n\n");
    }
    out
}
