//! The client writes the transcript asynchronously: the response asking for the `Agent` call may reach the
//! file after the hook started. The gate waits (bounded) for the call's id, so that response's usage is
//! measured. The real binary, a real file, a writer that appends the response 30 ms into the run.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_compaction-gate");

fn assistant(id: &str, input_tokens: u64, tool_use: Option<&str>) -> String {
    let content = tool_use.map_or_else(
        || r#"[{"type":"text","text":"ok"}]"#.to_owned(),
        |t| {
            format!(r#"[{{"type":"tool_use","id":"{t}","name":"Agent","input":{{"prompt":"p"}}}}]"#)
        },
    );
    format!(
        r#"{{"type":"assistant","isSidechain":false,"message":{{"id":"{id}","model":"claude-sonnet-4-5","content":{content},"usage":{{"input_tokens":{input_tokens},"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":100}}}}}}"#
    ) + "\n"
}

#[test]
fn a_response_written_after_the_hook_started_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    let transcript = project.join("t.jsonl");
    // Before: 10% in use. The response with the Agent call brings it to 90%.
    std::fs::write(&transcript, assistant("m0", 20_000, None)).unwrap();
    let event = serde_json::json!({
        "session_id": "s", "transcript_path": transcript, "cwd": project,
        "permission_mode": "bypassPermissions", "hook_event_name": "PreToolUse", "tool_name": "Agent",
        "tool_input": {"description": "d", "prompt": "p", "subagent_type": "general-purpose"},
        "tool_use_id": "toolu_late",
    });
    let mut child = Command::new(BIN)
        .current_dir(&project)
        .env("CLAUDE_PROJECT_DIR", &project)
        .env("HOME", project.join("no-home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&transcript)
        .unwrap();
    file.write_all(assistant("m1", 180_000, Some("toolu_late")).as_bytes())
        .unwrap();
    drop(file);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\"permissionDecision\":\"deny\""),
        "the late response's usage was measured: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
