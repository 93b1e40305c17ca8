//! The Gemini dialect's common paths: the same hooks on Gemini's captured events (recognised from the
//! payload, read into Claude Code's names, rendered in Gemini's fields), each with the budget of its Claude
//! Code twin, so a cost of the third dialect shows as a ratio over budget.

use std::io::Write;
use std::path::Path;

use super::Case;
use super::cases::{agent_project, fixture};

/// A captured Gemini event moved into `project`, with `changes` on top.
fn gemini_event(name: &str, project: &Path, changes: &serde_json::Value) -> Vec<u8> {
    let mut e: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("fixtures/events-gemini/{name}.json"))).unwrap();
    e["cwd"] = project.display().to_string().into();
    e["session_id"] = "bench".into();
    for (k, v) in changes.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string().into_bytes()
}

/// A Gemini session file of about 1 MB: per turn a user record, the model's record (once empty, then
/// again with its tool call, as Gemini rewrites a record by appending it) and its tokens; the last at 40%
/// of the window.
fn session_file(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "{}",
        serde_json::json!({"sessionId": "bench", "kind": "main"})
    )
    .unwrap();
    let answer = |id: usize, input: u64| {
        serde_json::json!({"id": format!("g{id}"), "type": "gemini", "content": "x".repeat(300), "model": "gemini-2.5-pro",
            "tokens": {"input": input, "output": 20, "cached": 0, "thoughts": 0, "tool": 0, "total": input + 20},
            "toolCalls": [{"id": "c", "name": "run_shell_command", "args": {"command": "cargo test"}, "status": "success", "resultDisplay": "y".repeat(400)}]})
    };
    for i in 0..1_000 {
        let user = serde_json::json!({"id": format!("u{i}"), "type": "user", "content": [{"text": "go on"}]});
        writeln!(f, "{user}\n{}", answer(i, 1_000 + i as u64 * 400)).unwrap();
    }
    writeln!(f, "{}", answer(1_000, 419_410)).unwrap();
    f.flush().unwrap();
}

/// The Gemini cases: a shell call and a file edit through feedback-loop and workspace-guard, a subagent
/// spawn measured against a session file, tool output through secret-guard and loop-detect, a stop.
pub(crate) fn gemini_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("gemini");
    agent_project(&project, 50, 0);
    let transcript = tmp.join("home/.gemini/tmp/gemini/chats/session-2026-12-07T01-37-bench.jsonl");
    session_file(&transcript);
    let file = |rel: &str| project.join(rel).display().to_string();
    let shell_output = serde_json::json!({"tool_input": {"command": "echo hi"},
        "tool_response": {"llmContent": "<untrusted_context>\nOutput: hi\nProcess Group PGID: 7\n</untrusted_context>", "returnDisplay": "hi"}});
    let write = serde_json::json!({"tool_name": "write_file", "tool_input": {"file_path": file("api/x.go"), "content": "package api\n"},
        "tool_response": {"llmContent": format!("Successfully created and wrote to new file: {}.", file("api/x.go")), "returnDisplay": ""}});
    let case = |name, bin: &str, stdin| Case::plain(name, &rel.join(bin), &project, stdin);
    let state = project.join(".claude/portcullis/sessions/bench");
    vec![
        case(
            "Gemini / noop-hook (chassis) / BeforeTool run_shell_command",
            "noop_hook",
            gemini_event("gemini-BeforeTool-0", &project, &serde_json::json!({})),
        ),
        case(
            "Gemini / feedback-loop / shell, nothing modified",
            "feedback-loop",
            gemini_event("gemini6-AfterTool-0", &project, &shell_output),
        ),
        Case {
            reset: vec![state.join("feedback-loop.json")],
            ..case(
                "Gemini / feedback-loop / write_file, first edit (locked write)",
                "feedback-loop",
                gemini_event("gemini6-AfterTool-0", &project, &write),
            )
        },
        case(
            "Gemini / feedback-loop / AfterAgent, nothing modified",
            "feedback-loop",
            gemini_event(
                "gemini2-AfterAgent-0",
                &project,
                &serde_json::json!({"transcript_path": transcript}),
            ),
        ),
        case(
            "Gemini / workspace-guard / shell that writes nothing",
            "workspace-guard",
            gemini_event(
                "gemini-BeforeTool-0",
                &project,
                &serde_json::json!({"tool_input": {"command": "cargo test --workspace"}}),
            ),
        ),
        case(
            "Gemini / compaction-gate / invoke_agent, 1 MB session file",
            "compaction-gate",
            gemini_event(
                "gemini-BeforeTool-0",
                &project,
                &serde_json::json!({"transcript_path": transcript, "tool_name": "invoke_agent",
                                    "tool_input": {"agent_name": "generalist", "prompt": "do it"}}),
            ),
        ),
        case(
            "Gemini / loop-detect / AfterTool, no failure on record",
            "loop-detect",
            gemini_event("gemini6-AfterTool-0", &project, &shell_output),
        ),
        case(
            "Gemini / secret-guard / output, small, no secret",
            "secret-guard",
            gemini_event("gemini6-AfterTool-0", &project, &shell_output),
        ),
    ]
}
