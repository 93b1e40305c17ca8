//! The Codex dialect's common paths, each beside its Claude Code twin in the same run: the same hooks on
//! Codex's captured events (recognised from the payload, rendered in Codex's fields), so a cost of the
//! second dialect shows as the difference between the two lines.

use std::io::Write;
use std::path::Path;

use super::Case;
use super::cases::{agent_project, fixture};

/// A captured Codex event moved into `project`, with `changes` on top.
fn codex_event(name: &str, project: &Path, changes: &serde_json::Value) -> Vec<u8> {
    let mut e: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("fixtures/events-codex/{name}.json"))).unwrap();
    e["cwd"] = project.display().to_string().into();
    e["session_id"] = "bench".into();
    for (k, v) in changes.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string().into_bytes()
}

/// A rollout of about 1 MB laid out as Codex writes one: per model response a call, its usage record, its
/// output and a `token_count` naming the window; the last usage says 40% of the window.
fn rollout(path: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let line = |v: serde_json::Value| v.to_string();
    let usage = |total: u64| {
        line(
            serde_json::json!({"timestamp": "t", "type": "token_usage_record", "payload": {"usage": {"input_tokens": total - 20, "output_tokens": 20, "total_tokens": total}}}),
        )
    };
    let call = line(
        serde_json::json!({"timestamp": "t", "type": "response_item", "payload": {"type": "function_call", "name": "exec_command", "call_id": "c", "arguments": "{\"cmd\":\"cargo test\"}"}}),
    );
    let output = line(
        serde_json::json!({"timestamp": "t", "type": "response_item", "payload": {"type": "function_call_output", "call_id": "c", "output": "x".repeat(900)}}),
    );
    let count = line(
        serde_json::json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "token_count", "info": {"model_context_window": 258_400}}}),
    );
    writeln!(f, "{}", line(serde_json::json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "task_started", "model_context_window": 258_400}}))).unwrap();
    for i in 0..1_000 {
        writeln!(f, "{call}\n{}\n{output}\n{count}", usage(1_000 + i * 99)).unwrap();
    }
    writeln!(f, "{call}\n{}", usage(100_020)).unwrap();
    f.flush().unwrap();
}

/// Appends the line a patch run through the shell leaves in a rollout (its only record): `file` updated.
fn shell_patch(rollout: &Path, file: &Path) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(rollout)
        .unwrap();
    writeln!(f, "{}", portcullis_testkit::codex_shell_patch_line(file)).unwrap();
}

/// The Codex cases: a patch and a command through feedback-loop and workspace-guard, a spawn measured
/// against a rollout, tool output through secret-guard and loop-detect, a counted call.
pub(crate) fn codex_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("codex");
    agent_project(&project, 50, 0);
    let transcript = tmp.join("rollout-2026-12-01T11-18-53-bench.jsonl");
    rollout(&transcript);
    let patch = |file: &str| serde_json::json!({"tool_input": {"command": format!("*** Begin Patch\n*** Add File: {file}\n+package api\n*** End Patch\n")}});
    let subagent_patch = |file: &str| {
        let mut changes = patch(file);
        changes["agent_id"] = "a1".into();
        changes["agent_type"] = "default".into();
        changes
    };
    // The command and output of the Claude Code twins' captured event (the Codex capture's writes a file).
    let same_command = serde_json::json!({"tool_input": {"command": "echo hi; echo ENVFILE=$FOO_FROM_ENVFILE"},
                                          "tool_response": "hi\nENVFILE=envfile-works"});
    let claims = workspace_guard::Claims::new(&project, std::time::Duration::from_secs(3600));
    let case = |name, bin: &str, stdin| Case::plain(name, &rel.join(bin), &project, stdin);
    let state = project.join(".claude/portcullis/sessions/bench");
    let [stop_clean, stop_patched] = stop_cases(rel, tmp, &project, &transcript);
    vec![
        case(
            "Codex / noop-hook (chassis) / PreToolUse apply_patch",
            "noop_hook",
            codex_event("PreToolUse-apply_patch", &project, &patch("api/x.go")),
        ),
        case(
            "Codex / feedback-loop / Bash, nothing modified",
            "feedback-loop",
            codex_event("PostToolUse-Bash", &project, &same_command),
        ),
        stop_clean,
        stop_patched,
        Case {
            reset: vec![state.join("feedback-loop.json")],
            ..case(
                "Codex / feedback-loop / apply_patch, first edit (locked write)",
                "feedback-loop",
                codex_event("PostToolUse-apply_patch", &project, &patch("api/x.go")),
            )
        },
        case(
            "Codex / workspace-guard / Bash that writes nothing",
            "workspace-guard",
            codex_event(
                "PreToolUse-Bash",
                &project,
                &serde_json::json!({"tool_input": {"command": "cargo test --workspace"}}),
            ),
        ),
        Case {
            reset: vec![claims.file_for("api/y.go")],
            ..case(
                "Codex / workspace-guard / subagent apply_patch, first write: new claim",
                "workspace-guard",
                codex_event(
                    "PreToolUse-apply_patch",
                    &project,
                    &subagent_patch("api/y.go"),
                ),
            )
        },
        case(
            "Codex / compaction-gate / spawn_agent, 1 MB rollout",
            "compaction-gate",
            codex_event(
                "PreToolUse-spawn_agent",
                &project,
                &serde_json::json!({"transcript_path": transcript}),
            ),
        ),
        case(
            "Codex / loop-detect / PostToolUse, no failure on record",
            "loop-detect",
            codex_event("PostToolUse-Bash", &project, &same_command),
        ),
        case(
            "Codex / secret-guard / output, small, no secret",
            "secret-guard",
            codex_event("PostToolUse-Bash", &project, &same_command),
        ),
    ]
}

/// feedback-loop's two Codex Stops, each finding 20 KB of rollout written since its last look: one with
/// no patch in it, one with a patch run through the shell.
fn stop_cases(rel: &Path, tmp: &Path, project: &Path, transcript: &Path) -> [Case; 2] {
    let case = |name, stdin| Case::plain(name, &rel.join("feedback-loop"), project, stdin);
    let state = project.join(".claude/portcullis/sessions/bench");
    // Every Codex Stop finds the rollout grown since the last look (the turn's answers, tool output):
    // feedback-loop reads what is new for patches. With none in it, its place stays (no write); a patch
    // run through the shell goes on record, the place moves, and the turn is held.
    let cursor_20k_back = |rollout: &Path| {
        let len = std::fs::metadata(rollout).unwrap().len();
        serde_json::json!({"schema_version": 1, "state": {"offsets": {
            rollout.display().to_string(): len - 20 * 1024}}})
        .to_string()
        .into_bytes()
    };
    let patched = tmp.join("rollout-2026-12-01T11-18-53-bench-patched.jsonl");
    std::fs::copy(transcript, &patched).unwrap();
    shell_patch(&patched, &project.join("api/x.go"));
    [
        Case {
            restore: vec![(
                state.join("feedback-loop-rollout.json"),
                cursor_20k_back(transcript),
            )],
            ..case(
                "Codex / feedback-loop / Stop, nothing modified, 20 KB of new rollout",
                codex_event(
                    "Stop",
                    project,
                    &serde_json::json!({"transcript_path": transcript}),
                ),
            )
        },
        Case {
            reset: vec![state.join("feedback-loop.json")],
            restore: vec![(
                state.join("feedback-loop-rollout.json"),
                cursor_20k_back(&patched),
            )],
            ..case(
                "Codex / feedback-loop / Stop, a shell-run patch in 20 KB of new rollout: block",
                codex_event(
                    "Stop",
                    project,
                    &serde_json::json!({"transcript_path": patched}),
                ),
            )
        },
    ]
}
