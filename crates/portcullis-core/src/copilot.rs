//! The Copilot CLI dialect on the way in (PROTOCOL-COPILOT.md, Copilot CLI 1.0.102, PascalCase events):
//! Claude Code's event and tool names with Copilot's own inputs and results, read into the shape every
//! hook's `decide` knows.
//!
//! | Copilot | read as |
//! |---|---|
//! | `Write {path, file_text}`, `Edit {path, old_str, new_str}`, `Read {path}` | `file_path`, `content`, `old_string`, `new_string` |
//! | `tool_result {result_type, text_result_for_llm}` | `tool_response`: the text the model gets |
//! | a shell result whose text ends `<shellId: N completed with exit code X>`, X not 0, or a `result_type` other than `success` | `PostToolUseFailure` with Claude Code's `error` (`Exit code X`) |
//! | `Stop` (no `last_assistant_message`) | the answer that ended the turn, from the session's `events.jsonl` (waited for when a prompt or a tool result is still the newest line) |
//! | `Stop` of a subagent (`agent_id` set; `SubagentStop` follows it) | `CopilotSubagentTurnEnd`: no hook acts on it, `SubagentStop` does |
//! | `SessionStart` `source: new` | `startup` |

use std::path::Path;

use serde_json::{Map, Value};

use crate::budget;
use crate::event::Event;
use crate::transcript::{ReverseLines, contains_quoted};

/// The name a subagent's own `Stop` is read as: none of Claude Code's, so no hook acts on it.
pub const SUBAGENT_TURN_END: &str = "CopilotSubagentTurnEnd";

/// How much of the session's `events.jsonl` is read for the last answer.
const ANSWER_SCAN_BYTES: u64 = 512 * 1024;

/// True for a Copilot session's event log: `…/session-state/<id>/events.jsonl` (PROTOCOL-COPILOT.md §8).
#[must_use]
pub fn is_transcript_path(path: &str) -> bool {
    path.contains("/session-state/") && path.ends_with("/events.jsonl")
}

/// Reads a Copilot event into the common shape (the table in the module docs). Never fails: a field that
/// is not as expected is left as it came.
pub(crate) fn normalise(event: &mut Event) {
    if let Some(tool) = event.tool_name.clone() {
        normalise_input(event, &tool);
    }
    if let Some(result) = event.tool_result.take() {
        read_result(event, result.get());
    }
    match event.hook_event_name.as_deref() {
        Some("Stop") if event.is_subagent() => {
            event.hook_event_name = Some(SUBAGENT_TURN_END.to_owned());
        }
        Some("Stop") if event.last_assistant_message.is_none() => {
            let fired = event
                .timestamp
                .as_ref()
                .and_then(serde_json::Value::as_str)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            event.last_assistant_message = event
                .transcript_path
                .as_deref()
                .and_then(|p| last_answer(Path::new(p), fired));
        }
        Some("SessionStart") if event.source.as_deref() == Some("new") => {
            event.source = Some("startup".to_owned());
        }
        _ => {}
    }
}

/// Renames a file tool's input fields to Claude Code's.
fn normalise_input(event: &mut Event, tool: &str) {
    let renames: &[(&str, &str)] = match tool {
        "Write" => &[("path", "file_path"), ("file_text", "content")],
        "Edit" => &[
            ("path", "file_path"),
            ("old_str", "old_string"),
            ("new_str", "new_string"),
        ],
        "Read" => &[("path", "file_path")],
        _ => return,
    };
    if let Some(renamed) = event
        .tool_input
        .as_deref()
        .and_then(|raw| crate::json::rename_keys(raw, renames))
    {
        event.tool_input = Some(renamed);
    }
}

/// `tool_result` read as `tool_response` (the text the model gets), and a failure as `PostToolUseFailure`.
fn read_result(event: &mut Event, raw: &str) {
    let Ok(Value::Object(result)) = serde_json::from_str::<Value>(raw) else {
        return;
    };
    let text = result
        .get("text_result_for_llm")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Ok(raw) =
        serde_json::value::RawValue::from_string(Value::String(text.clone()).to_string())
    {
        event.tool_response = Some(raw);
    }
    if event.hook_event_name.as_deref() != Some("PostToolUse") {
        return;
    }
    if let Some(error) = failure(&result, &text, event.tool_name.as_deref()) {
        event.error = Some(error);
        event.hook_event_name = Some("PostToolUseFailure".to_owned());
    }
}

/// Why a call failed, as Claude Code says it, or `None` for a success: Copilot reports a shell command
/// that exited non-zero as a success, with the exit code only in its text.
fn failure(result: &Map<String, Value>, text: &str, tool: Option<&str>) -> Option<String> {
    if let Some(kind) = result
        .get("result_type")
        .and_then(Value::as_str)
        .filter(|k| *k != "success")
    {
        return Some(format!(
            "{kind}: {}",
            text.lines().next().unwrap_or_default()
        ));
    }
    if tool != Some("Bash") {
        return None;
    }
    exit_code(text)
        .filter(|c| *c != 0)
        .map(|c| format!("Exit code {c}"))
}

/// The exit code in a Copilot shell result's last `<shellId: N completed with exit code X>` line.
fn exit_code(text: &str) -> Option<i64> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("<shellId:"))?;
    let (_, tail) = line.rsplit_once("exit code ")?;
    tail.trim_end_matches(['>', ' ']).trim().parse().ok()
}

/// How long a Stop waits for Copilot to write the answer that ended the turn to the session's events.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// What the end of a session's events says of the turn's answer.
enum Newest {
    /// The newest `assistant.message` with text, after the newest prompt or tool result.
    Answer(String),
    /// A prompt or a tool result is newer than any answer: the answer is not written yet.
    NotYet,
    /// Nothing readable.
    Unknown,
}

/// The answer that ended the turn: the newest `assistant.message` with text in the session's events.
/// Copilot writes the file behind what it does (lines were seen to arrive after the Stop hook started),
/// so it is read once it has caught up with the Stop (a line stamped no earlier than the event, less
/// [`CAUGHT_UP_SLACK`]) and no prompt or tool result is newer than the answer, waiting for at most
/// [`ANSWER_WAIT`]; then the best it holds is taken.
fn last_answer(
    path: &Path,
    fired: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Option<String> {
    let started = std::time::Instant::now();
    loop {
        let caught_up =
            fired.is_none_or(|t| newest_stamp(path).is_some_and(|s| s >= t - CAUGHT_UP_SLACK));
        let waited = started.elapsed() >= ANSWER_WAIT;
        match newest(path) {
            Newest::Answer(text) if caught_up || waited => return Some(text),
            Newest::Unknown => return None,
            Newest::NotYet if waited => return None,
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}

/// How far before a Stop's own stamp the file's newest line may be and still count as caught up (the
/// `assistant.turn_end` that precedes the hook is written a few milliseconds before it fires).
const CAUGHT_UP_SLACK: chrono::TimeDelta = chrono::TimeDelta::milliseconds(100);

/// The stamp of the file's newest line.
fn newest_stamp(path: &Path) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let file = crate::files::open_regular(path).ok()?;
    let mut lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, ANSWER_SCAN_BYTES).ok()?;
    let line = lines.next()?.ok()?;
    let record: Value = serde_json::from_slice(&line).ok()?;
    chrono::DateTime::parse_from_rfc3339(record["timestamp"].as_str()?).ok()
}

fn newest(path: &Path) -> Newest {
    let Ok(file) = crate::files::open_regular(path) else {
        return Newest::Unknown;
    };
    let Ok(lines) = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, ANSWER_SCAN_BYTES) else {
        return Newest::Unknown;
    };
    for line in lines {
        let Ok(line) = line else {
            return Newest::Unknown;
        };
        let answer = contains_quoted(&line, "assistant.message");
        let newer_input = contains_quoted(&line, "user.message")
            || contains_quoted(&line, "tool.execution_complete");
        if !answer && !newer_input {
            continue;
        }
        let Ok(record) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        match record["type"].as_str() {
            Some("user.message" | "tool.execution_complete") => return Newest::NotYet,
            Some("assistant.message") => {
                if let Some(text) = record["data"]["content"]
                    .as_str()
                    .filter(|t| !t.trim().is_empty())
                {
                    return Newest::Answer(text.to_owned());
                }
            }
            _ => {}
        }
    }
    Newest::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::event::{EventName, ToolInput};
    use std::path::PathBuf;

    fn capture(name: &str) -> Event {
        let path = format!(
            "{}/../../fixtures/events-copilot/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Event::parse(&text).unwrap()
    }

    #[test]
    fn copilot_events_are_recognised_and_read_as_claude_code_s() {
        let pre = capture("copilotP-PreToolUse-0");
        assert_eq!(pre.client, Client::Copilot);
        assert_eq!(pre.tool(), Some("Bash"));
        let post = capture("copilot5-PostToolUse-0");
        assert_eq!(post.name(), EventName::PostToolUse);
        assert!(
            post.tool_output_text()
                .starts_with("claude-style-updatedInput")
        );
        let start = capture("copilotP-SessionStart-0");
        assert_eq!(start.source.as_deref(), Some("startup"));
    }

    #[test]
    fn file_tools_name_their_paths_as_claude_code_does() {
        let w = Event::parse(br#"{"hook_event_name":"PreToolUse","timestamp":"t","tool_name":"Write","tool_input":{"path":"/p/a.rs","file_text":"x"}}"#).unwrap();
        let ToolInput::Write(input) = w.tool_input().unwrap() else {
            panic!("not a write")
        };
        assert_eq!(input.content.as_deref(), Some("x"));
        assert_eq!(w.touched_paths().unwrap(), vec![PathBuf::from("/p/a.rs")]);
        let e = Event::parse(br#"{"hook_event_name":"PreToolUse","timestamp":"t","tool_name":"Edit","tool_input":{"path":"/p/b.rs","old_str":"a","new_str":"b"}}"#).unwrap();
        let ToolInput::Edit(edit) = e.tool_input().unwrap() else {
            panic!("not an edit")
        };
        assert_eq!(edit.new_string.as_deref(), Some("b"));
    }

    #[test]
    fn a_shell_command_that_exited_non_zero_is_a_failure() {
        let failed = Event::parse(br#"{"hook_event_name":"PostToolUse","timestamp":"t","tool_name":"Bash","tool_input":{"command":"cargo test"},"tool_result":{"result_type":"success","text_result_for_llm":"test result: FAILED\n<shellId: 0 completed with exit code 101>"}}"#).unwrap();
        assert_eq!(failed.name(), EventName::PostToolUseFailure);
        assert_eq!(failed.error.as_deref(), Some("Exit code 101"));
        assert!(failed.tool_output_text().contains("test result: FAILED"));
        assert_eq!(
            exit_code("x\n<shellId: 0 completed with exit code 0>"),
            Some(0)
        );
    }

    #[test]
    fn a_stop_reads_its_answer_from_the_session_events_and_a_subagent_s_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session-state/s/events.jsonl");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "{\"type\":\"assistant.message\",\"data\":{\"content\":\"the answer\\nin two lines\"}}\n{\"type\":\"assistant.message\",\"data\":{\"content\":\"\",\"toolRequests\":[]}}\n{\"type\":\"assistant.turn_end\",\"data\":{}}\n",
        )
        .unwrap();
        let held = dir.path().join("held.jsonl");
        std::fs::write(
            &held,
            "{\"type\":\"assistant.message\",\"data\":{\"content\":\"old answer\"}}\n{\"type\":\"user.message\",\"data\":{\"content\":\"keep going\"}}\n",
        )
        .unwrap();
        assert!(
            matches!(newest(&held), Newest::NotYet),
            "the answer to the continuation is not written yet"
        );
        let stop = serde_json::json!({"hook_event_name": "Stop", "timestamp": "t", "session_id": "s",
            "transcript_path": path, "stop_reason": "end_turn", "stop_hook_active": false});
        let e = Event::parse(stop.to_string().as_bytes()).unwrap();
        assert_eq!(e.client, Client::Copilot);
        assert_eq!(
            e.last_assistant_message.as_deref(),
            Some("the answer\nin two lines")
        );
        let sub = Event::parse(
            br#"{"hook_event_name":"Stop","timestamp":"t","agent_id":"a1","agent_type":"task"}"#,
        )
        .unwrap();
        assert_eq!(sub.name(), EventName::Unknown(SUBAGENT_TURN_END.into()));
    }
}
