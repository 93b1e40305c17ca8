//! The Gemini CLI dialect on the way in (PROTOCOL-GEMINI.md, Gemini CLI 0.61): an event read into the
//! shape every hook's `decide` knows, so no hook has a Gemini branch.
//!
//! | Gemini | read as |
//! |---|---|
//! | `BeforeTool`, `AfterTool` | `PreToolUse`, `PostToolUse`; an `AfterTool` of a shell command that exited non-zero (its `Exit Code: N` line) or of a tool that reports an `error` is `PostToolUseFailure`, with `error` set as Claude Code sets it |
//! | `BeforeAgent`, `AfterAgent`, `PreCompress` | `UserPromptSubmit`, `Stop`, `PreCompact` |
//! | `run_shell_command {command, dir_path}` | `Bash {command}`, run in `dir_path` (the event's `cwd` becomes it) |
//! | `write_file`, `replace`, `read_file` | `Write`, `Edit`, `Read` (the same `file_path`, `content`, `old_string`, `new_string`) |
//! | `invoke_agent {agent_name, prompt}` | `Agent {subagent_type, prompt}` |
//! | `glob`, `grep_search`, `list_directory` `{dir_path}` | `Glob`, `Grep`, `LS` `{path}` |
//! | `web_fetch`, `google_web_search`, `activate_skill`, `write_todos` | `WebFetch`, `WebSearch`, `Skill`, `TodoWrite` |
//! | `AfterAgent.prompt_response` (every answer of the prompt so far) | `last_assistant_message`: the answer that just ended the turn, from the transcript's last `gemini` record when the field ends with it, else the field's last paragraph after the first held stop |
//! | no prompt id | none: no other event carries the prompt, and an id on some events only would split what belongs together (a prompt's tool calls from its stops). The main thread's stop chain ends at each user prompt instead ([`crate::continuation`]) |
//!
//! [`native_event`] maps a name back for the answer's `hookEventName`.

use std::path::Path;

use serde_json::{Map, Value};

use crate::budget;
use crate::event::{Event, absolutize};
use crate::transcript::{ReverseLines, contains_quoted};

/// Gemini's event names and the names they are read as; the rest (`SessionStart`, `SessionEnd`,
/// `Notification`) are the same in both.
const RENAMED_EVENTS: &[(&str, &str)] = &[
    ("BeforeTool", "PreToolUse"),
    ("AfterTool", "PostToolUse"),
    ("BeforeAgent", "UserPromptSubmit"),
    ("AfterAgent", "Stop"),
    ("PreCompress", "PreCompact"),
];

/// Gemini's events with no Claude Code counterpart: read under their own names, which no hook handles.
const GEMINI_ONLY_EVENTS: &[&str] = &["BeforeModel", "AfterModel", "BeforeToolSelection"];

/// Gemini's tool names and the names hooks match on.
pub const TOOL_NAMES: &[(&str, &str)] = &[
    ("run_shell_command", "Bash"),
    ("write_file", "Write"),
    ("replace", "Edit"),
    ("read_file", "Read"),
    ("glob", "Glob"),
    ("grep_search", "Grep"),
    ("list_directory", "LS"),
    ("web_fetch", "WebFetch"),
    ("google_web_search", "WebSearch"),
    ("invoke_agent", "Agent"),
    ("activate_skill", "Skill"),
    ("write_todos", "TodoWrite"),
];

/// How much of a Gemini transcript's end is read for the last answer.
const ANSWER_SCAN_BYTES: u64 = 512 * 1024;

/// True for a name only Gemini sends (`BeforeTool`, `AfterAgent`, `BeforeModel`, …).
#[must_use]
pub fn is_native_event(name: &str) -> bool {
    RENAMED_EVENTS.iter().any(|(g, _)| *g == name) || GEMINI_ONLY_EVENTS.contains(&name)
}

/// True for a Gemini session file: `…/.gemini/tmp/<project>/chats/…jsonl` (PROTOCOL-GEMINI.md §8).
#[must_use]
pub fn is_transcript_path(path: &str) -> bool {
    path.contains("/.gemini/tmp/") && path.contains("/chats/")
}

/// The name a Gemini event is read as (itself when the two clients share it).
#[must_use]
pub fn canonical_event(native: &str) -> &str {
    RENAMED_EVENTS
        .iter()
        .find(|(g, _)| *g == native)
        .map_or(native, |(_, c)| c)
}

/// The Gemini name of an event portcullis reads as `canonical`, or `None` when Gemini has no such event.
#[must_use]
pub fn native_event(canonical: &str) -> Option<&'static str> {
    if canonical == "PostToolUseFailure" {
        return Some("AfterTool");
    }
    RENAMED_EVENTS
        .iter()
        .find(|(_, c)| *c == canonical)
        .map(|(g, _)| *g)
        .or_else(|| {
            ["SessionStart", "SessionEnd", "Notification"]
                .into_iter()
                .find(|n| *n == canonical)
        })
}

/// The name hooks match a Gemini tool by (itself for a tool with no counterpart, MCP tools included).
#[must_use]
pub fn canonical_tool(native: &str) -> &str {
    TOOL_NAMES
        .iter()
        .find(|(g, _)| *g == native)
        .map_or(native, |(_, c)| c)
}

/// The Gemini tool names of a canonical one (`Bash` → `run_shell_command`); empty when Gemini has none.
#[must_use]
pub fn native_tools(canonical: &str) -> Vec<&'static str> {
    TOOL_NAMES
        .iter()
        .filter(|(_, c)| *c == canonical)
        .map(|(g, _)| *g)
        .collect()
}

/// Reads a Gemini event into the common shape (the table in the module docs). Never fails: a field that
/// is not as expected is left as it came.
pub(crate) fn normalise(event: &mut Event) {
    let native = event.hook_event_name.clone().unwrap_or_default();
    let canonical = canonical_event(&native).to_owned();
    if let Some(tool) = event.tool_name.clone() {
        let name = canonical_tool(&tool).to_owned();
        normalise_input(event, &tool);
        event.tool_name = Some(name);
        event.native_tool_name = Some(tool);
    }
    event.native_event_name = Some(native);
    match canonical.as_str() {
        "PostToolUse" => {
            if let Some(error) = failure(event) {
                event.error = Some(error);
                event.hook_event_name = Some("PostToolUseFailure".to_owned());
                return;
            }
        }
        "Stop" => event.last_assistant_message = Some(last_answer(event)),
        _ => {}
    }
    event.hook_event_name = Some(canonical);
}

/// Renames a tool input's fields to the ones hooks read, and runs a shell command's `dir_path` as its `cwd`.
fn normalise_input(event: &mut Event, tool: &str) {
    let renames: &[(&str, &str)] = match tool {
        "invoke_agent" => &[("agent_name", "subagent_type")],
        "read_file" => &[("absolute_path", "file_path")],
        "glob" | "grep_search" | "list_directory" => &[("dir_path", "path")],
        "run_shell_command" => &[],
        _ => return,
    };
    let Some(raw) = &event.tool_input else { return };
    let Ok(Value::Object(mut input)) = serde_json::from_str::<Value>(raw.get()) else {
        return;
    };
    if tool == "run_shell_command" {
        if let (Some(dir), Some(cwd)) = (
            input.get("dir_path").and_then(Value::as_str),
            event.cwd.as_deref(),
        ) && !dir.is_empty()
        {
            event.cwd = Some(
                absolutize(Path::new(dir), Path::new(cwd))
                    .display()
                    .to_string(),
            );
        }
        return;
    }
    let mut changed = false;
    for (from, to) in renames {
        if !input.contains_key(*to)
            && let Some(v) = input.remove(*from)
        {
            input.insert((*to).to_owned(), v);
            changed = true;
        }
    }
    if changed
        && let Ok(text) = serde_json::to_string(&Value::Object(input))
        && let Ok(raw) = serde_json::value::RawValue::from_string(text)
    {
        event.tool_input = Some(raw);
    }
}

/// The text a Gemini tool result gives the model: `llmContent` as a string, or its parts' `text` joined.
#[must_use]
pub fn response_text(response: &Map<String, Value>) -> Option<String> {
    match response.get("llmContent")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => None,
    }
}

/// Why a tool call failed, as Claude Code's `PostToolUseFailure.error` says it (`Exit code 3`), or `None`
/// for a success: a shell result's `Exit Code: N` line (Gemini writes it only when N is not 0), or the
/// result's own `error`.
fn failure(event: &Event) -> Option<String> {
    let raw = event.tool_response.as_deref()?;
    let Ok(Value::Object(response)) = serde_json::from_str::<Value>(raw.get()) else {
        return None;
    };
    if let Some(error) = response.get("error").filter(|e| !e.is_null()) {
        return Some(match error {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_owned),
            other => other.to_string(),
        });
    }
    if event.tool_name.as_deref() != Some("Bash") {
        return None;
    }
    let text = response_text(&response)?;
    exit_code(&text)
        .filter(|c| *c != 0)
        .map(|c| format!("Exit code {c}"))
}

/// The exit code in a Gemini shell result: its last `Exit Code: N` line (the command's own output comes
/// before it).
fn exit_code(text: &str) -> Option<i64> {
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Exit Code: "))
        .and_then(|n| n.trim().parse().ok())
}

/// The answer that just ended the turn (see the module docs). `prompt_response` holds every answer of the
/// prompt so far, joined by newlines.
fn last_answer(event: &Event) -> String {
    let all = event.prompt_response.as_deref().unwrap_or_default();
    if let Some(path) = event.transcript_path.as_deref()
        && let Some(last) = last_transcript_answer(Path::new(path))
        && !last.trim().is_empty()
        && all.trim_end().ends_with(last.trim_end())
    {
        return last;
    }
    if !event.stop_hook_active.unwrap_or(false) {
        return all.to_owned();
    }
    // A re-fire: earlier answers come first. The last paragraph is the newest answer's end, where a
    // promise or a verdict is written.
    let trimmed = all.trim_end();
    trimmed
        .rfind("\n\n")
        .or_else(|| trimmed.rfind('\n'))
        .map_or(trimmed, |at| &trimmed[at..])
        .trim()
        .to_owned()
}

/// The text of the newest `gemini` record of a Gemini session file with any text (a record rewritten
/// later is appended again, so the newest line is the record's last state).
fn last_transcript_answer(path: &Path) -> Option<String> {
    let file = crate::files::open_regular(path).ok()?;
    let lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, ANSWER_SCAN_BYTES).ok()?;
    for line in lines {
        let line = line.ok()?;
        if !contains_quoted(&line, "gemini") {
            continue;
        }
        let Ok(record) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        if record["type"] != "gemini" {
            continue;
        }
        if let Some(text) = record["content"].as_str().filter(|t| !t.trim().is_empty()) {
            return Some(text.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::event::{EventName, ToolInput};
    use std::path::PathBuf;

    fn capture(name: &str) -> Event {
        let path = format!(
            "{}/../../fixtures/events-gemini/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Event::parse(&text).unwrap()
    }

    #[test]
    fn a_shell_call_is_bash_and_runs_in_its_dir_path() {
        let e = capture("gemini-BeforeTool-0");
        assert_eq!(e.client, Client::Gemini);
        assert_eq!(e.name(), EventName::PreToolUse);
        assert_eq!(e.tool(), Some("Bash"));
        let ToolInput::Bash(b) = e.tool_input().unwrap() else {
            panic!("not bash")
        };
        assert_eq!(b.command.as_deref(), Some("echo pwned > pwned.txt"));
        let moved = Event::parse(br#"{"hook_event_name":"BeforeTool","cwd":"/p","tool_name":"run_shell_command","tool_input":{"command":"ls","dir_path":"sub/../api"}}"#).unwrap();
        assert_eq!(moved.cwd.as_deref(), Some("/p/api"));
    }

    #[test]
    fn file_tools_are_writes_with_their_paths() {
        let w = Event::parse(br#"{"hook_event_name":"BeforeTool","cwd":"/p","tool_name":"write_file","tool_input":{"file_path":"/p/a.rs","content":"x"}}"#).unwrap();
        assert!(w.tool_input().unwrap().is_file_edit());
        assert_eq!(w.touched_paths().unwrap(), vec![PathBuf::from("/p/a.rs")]);
        let r = Event::parse(br#"{"hook_event_name":"AfterTool","tool_name":"replace","tool_input":{"file_path":"/p/b.rs","old_string":"a","new_string":"b"},"tool_response":{"llmContent":"Successfully modified file: /p/b.rs (1 replacements).","returnDisplay":""}}"#).unwrap();
        assert_eq!(r.name(), EventName::PostToolUse);
        assert_eq!(r.tool(), Some("Edit"));
        assert_eq!(r.touched_paths().unwrap(), vec![PathBuf::from("/p/b.rs")]);
        let a = Event::parse(br#"{"hook_event_name":"BeforeTool","tool_name":"invoke_agent","tool_input":{"agent_name":"generalist","prompt":"do it"}}"#).unwrap();
        let ToolInput::Agent(agent) = a.tool_input().unwrap() else {
            panic!("not an agent call")
        };
        assert_eq!(agent.subagent_type.as_deref(), Some("generalist"));
    }

    #[test]
    fn a_shell_result_with_an_exit_code_is_a_failure() {
        let ok = capture("gemini2-AfterTool-0");
        assert_eq!(ok.name(), EventName::PostToolUse);
        assert!(ok.tool_output_text().contains("original-cmd-was-rewritten"));
        assert!(ok.exit_status_known());
        let failed = Event::parse(br#"{"hook_event_name":"AfterTool","tool_name":"run_shell_command","tool_input":{"command":"cargo test"},"tool_response":{"llmContent":"<untrusted_context>\nOutput: test result: FAILED\nExit Code: 101\nProcess Group PGID: 7\n</untrusted_context>","returnDisplay":"x"}}"#).unwrap();
        assert_eq!(failed.name(), EventName::PostToolUseFailure);
        assert_eq!(failed.error.as_deref(), Some("Exit code 101"));
        assert!(failed.tool_output_text().contains("test result: FAILED"));
        assert_eq!(
            exit_code("Output: Exit Code: 1 said\nExit Code: 0"),
            Some(0)
        );
    }

    #[test]
    fn after_agent_is_a_stop_whose_answer_is_the_newest() {
        let first = capture("gemini2-AfterAgent-0");
        assert_eq!(first.name(), EventName::Stop);
        assert!(
            first
                .last_assistant_message
                .as_deref()
                .unwrap()
                .starts_with("FINAL-ANSWER: the tool said")
        );
        let again = capture("gemini2-AfterAgent-1");
        assert_eq!(
            again.last_assistant_message.as_deref(),
            Some("FINAL-ANSWER: continuation acknowledged")
        );
        assert_eq!(
            first.prompt_id, None,
            "Gemini sends none, and none is made up"
        );
        let prompt = capture("gemini-BeforeAgent-0");
        assert_eq!(prompt.name(), EventName::UserPromptSubmit);
    }

    #[test]
    fn the_transcript_gives_a_multi_line_answer_whole() {
        let dir = tempfile::tempdir().unwrap();
        let chats = dir.path().join(".gemini/tmp/p/chats");
        std::fs::create_dir_all(&chats).unwrap();
        let path = chats.join("session-x.jsonl");
        std::fs::write(
            &path,
            "{\"sessionId\":\"s\",\"kind\":\"main\"}\n{\"id\":\"1\",\"type\":\"gemini\",\"content\":\"\"}\n{\"id\":\"1\",\"type\":\"gemini\",\"content\":\"line one\\n\\nline two\"}\n",
        )
        .unwrap();
        let event = serde_json::json!({"hook_event_name": "AfterAgent", "session_id": "s", "transcript_path": path,
            "prompt": "p", "prompt_response": "earlier answer\nline one\n\nline two", "stop_hook_active": true});
        let e = Event::parse(event.to_string().as_bytes()).unwrap();
        assert_eq!(
            e.last_assistant_message.as_deref(),
            Some("line one\n\nline two")
        );
    }

    #[test]
    fn names_map_both_ways() {
        for (g, c) in RENAMED_EVENTS {
            assert_eq!(canonical_event(g), *c);
            assert_eq!(native_event(c), Some(*g));
        }
        assert_eq!(native_event("PostToolUseFailure"), Some("AfterTool"));
        assert_eq!(native_event("SubagentStop"), None);
        assert_eq!(native_tools("Bash"), vec!["run_shell_command"]);
        assert_eq!(canonical_tool("mcp_github_list"), "mcp_github_list");
    }
}
