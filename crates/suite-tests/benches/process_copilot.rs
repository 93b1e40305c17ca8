//! The Copilot dialect's common paths: the same hooks on Copilot's captured events (recognised from the
//! payload, its inputs read as Claude Code's, rendered in Copilot's fields), each with the budget of its
//! Claude Code twin, so a cost of the fourth dialect shows as a ratio over budget.

use std::io::Write;
use std::path::Path;

use super::Case;
use super::cases::{agent_project, fixture};

/// A captured Copilot event moved into `project`, with `changes` on top.
fn copilot_event(name: &str, project: &Path, changes: &serde_json::Value) -> Vec<u8> {
    let mut e: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("fixtures/events-copilot/{name}.json"))).unwrap();
    e["cwd"] = project.display().to_string().into();
    e["session_id"] = "bench".into();
    for (k, v) in changes.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string().into_bytes()
}

/// An event log of about 1 MB laid out as Copilot writes one: per turn a usage record, the answer with its
/// tool request and the tool's result; the newest line stamped after the bench's Stop, as Copilot's log is
/// by the time its Stop hook reads it.
fn event_log(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let t = "2026-12-07T01:00:00.000Z";
    for i in 0..1_000_u64 {
        let usage = serde_json::json!({"type": "session.usage_record", "timestamp": t, "data": {"usage": {"model": "claude-sonnet-4.5", "inputTokens": 1_000 + i * 80, "outputTokens": 20, "cacheReadTokens": 0, "cacheWriteTokens": 0}}});
        let answer = serde_json::json!({"type": "assistant.message", "timestamp": t, "data": {"content": "", "toolRequests": [{"toolCallId": format!("c{i}"), "name": "bash", "arguments": {"command": "cargo test"}}]}});
        let result = serde_json::json!({"type": "tool.execution_complete", "timestamp": t, "data": {"toolCallId": format!("c{i}"), "success": true, "result": {"content": "x".repeat(600)}}});
        writeln!(f, "{usage}\n{answer}\n{result}").unwrap();
    }
    let last = serde_json::json!({"type": "assistant.message", "timestamp": t, "data": {"content": "All done.", "toolRequests": []}});
    let end = serde_json::json!({"type": "assistant.turn_end", "timestamp": "2026-12-07T01:38:31.200Z", "data": {}});
    writeln!(f, "{last}\n{end}").unwrap();
    f.flush().unwrap();
}

/// The Copilot cases: a shell call and a file edit through feedback-loop and workspace-guard, a subagent
/// spawn measured against the event log, tool output through secret-guard and loop-detect, a stop.
pub(crate) fn copilot_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("copilot");
    agent_project(&project, 50, 0);
    let home = tmp.join("copilot-home");
    let log = home.join(".copilot/session-state/bench/events.jsonl");
    event_log(&log);
    let file = |rel: &str| project.join(rel).display().to_string();
    let shell_output = serde_json::json!({"tool_input": {"command": "echo hi"},
        "tool_result": {"result_type": "success", "text_result_for_llm": "hi\n<shellId: 0 completed with exit code 0>"}});
    let write = serde_json::json!({"tool_name": "Write", "tool_input": {"path": file("api/x.go"), "file_text": "package api\n"},
        "tool_result": {"result_type": "success", "text_result_for_llm": "Created file"}});
    let case = |name, bin: &str, stdin| Case::plain(name, &rel.join(bin), &project, stdin);
    let state = project.join(".claude/portcullis/sessions/bench");
    vec![
        case(
            "Copilot / noop-hook (chassis) / PreToolUse Bash",
            "noop_hook",
            copilot_event("copilotP-PreToolUse-0", &project, &serde_json::json!({})),
        ),
        case(
            "Copilot / feedback-loop / Bash, nothing modified",
            "feedback-loop",
            copilot_event("copilot5-PostToolUse-0", &project, &shell_output),
        ),
        Case {
            reset: vec![state.join("feedback-loop.json")],
            ..case(
                "Copilot / feedback-loop / Write, first edit (locked write)",
                "feedback-loop",
                copilot_event("copilot5-PostToolUse-0", &project, &write),
            )
        },
        case(
            "Copilot / feedback-loop / Stop, nothing modified, answer from a 1 MB event log",
            "feedback-loop",
            copilot_event(
                "copilotP-Stop-0",
                &project,
                &serde_json::json!({"transcript_path": log}),
            ),
        ),
        case(
            "Copilot / workspace-guard / Bash that writes nothing",
            "workspace-guard",
            copilot_event(
                "copilotP-PreToolUse-0",
                &project,
                &serde_json::json!({"tool_input": {"command": "cargo test --workspace"}}),
            ),
        ),
        case(
            "Copilot / loop-detect / PostToolUse, no failure on record",
            "loop-detect",
            copilot_event("copilot5-PostToolUse-0", &project, &shell_output),
        ),
        case(
            "Copilot / secret-guard / output, small, no secret",
            "secret-guard",
            copilot_event("copilot5-PostToolUse-0", &project, &shell_output),
        ),
    ]
}
