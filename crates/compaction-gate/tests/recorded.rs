//! compaction-gate on transcripts recorded from the real client (`tests/replay/gate-*`, `compact`; made by
//! the e2e scenarios): the hook and `status` agree with what the scenarios set up.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_compaction-gate");

fn recorded(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/replay")
        .join(name);
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap()
}

fn run(args: &[&str], stdin: &[u8], home: &Path) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .current_dir(home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn status(transcript: &Path) -> Value {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "status",
            "--json",
            "--transcript",
            transcript.to_str().unwrap(),
        ],
        b"",
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn agent_event(transcript: &Path, agent_id: Option<&str>, cwd: &Path) -> Vec<u8> {
    let mut e: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/events/PreToolUse-Agent.json"),
        )
        .unwrap(),
    )
    .unwrap();
    e["transcript_path"] = json!(transcript);
    e["cwd"] = json!(cwd);
    if let Some(id) = agent_id {
        e["agent_id"] = json!(id);
        e["agent_type"] = json!("general-purpose");
    }
    e.to_string().into_bytes()
}

#[test]
fn status_reads_the_recorded_sessions_as_the_scenarios_set_them_up() {
    // Two-block responses (text + tool): one usage, counted once.
    let deny = status(&recorded("gate-deny"));
    assert_eq!(deny["used_tokens"], 800 + 176_000 + 50);
    assert_eq!(deny["window_tokens"], 200_000);
    assert_eq!(deny["band"], "block");
    assert_eq!(deny["model"], "claude-sonnet-4-5");
    assert_eq!(deny["autocompact_tokens"], 167_000);
    // The subagent used 191K in its own file; the main thread's figure ignores it.
    let warn = status(&recorded("gate-warn"));
    assert_eq!(warn["used_tokens"], 1000 + 156_000 + 10);
    assert_eq!(warn["band"], "warn");
    // A [1m] session: the window is 1M although usage never passed 200K.
    let one_m = status(&recorded("gate-1m"));
    assert_eq!(one_m["window_tokens"], 1_000_000);
    assert_eq!(one_m["window_source"], "1M session");
    assert_eq!(one_m["band"], "ok");
    assert_eq!(one_m["autocompact_tokens"], 967_000);
}

#[test]
fn after_a_recorded_compaction_the_post_compaction_size_counts() {
    let full = recorded("compact");
    let text = std::fs::read_to_string(&full).unwrap();
    // Cut the session right after the compaction summary: no response since the boundary.
    let mut cut = text
        .lines()
        .take_while(|l| !l.contains("E2E-RC-AFTER"))
        .collect::<Vec<_>>()
        .join("\n");
    cut.push('\n');
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, cut).unwrap();
    let s = status(&path);
    assert_eq!(s["after_compaction"], true, "{s}");
    let boundary_post = text
        .lines()
        .find(|l| l.contains("compact_boundary"))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap()["compactMetadata"]["postTokens"]
        .clone();
    assert_eq!(s["used_tokens"], boundary_post);
    // With the later work, the newest response counts again.
    let s = status(&full);
    assert_eq!(s["after_compaction"], false);
    assert_eq!(s["used_tokens"], 3100 + 10);
}

#[test]
fn a_truncated_last_line_falls_back_to_the_previous_response() {
    let mut bytes = std::fs::read(recorded("gate-deny")).unwrap();
    bytes.extend_from_slice(br#"{"type":"assistant","message":{"usage":{"input_tokens":1"#);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, bytes).unwrap();
    let s = status(&path);
    assert_eq!(s["used_tokens"], 176_850);
    assert_eq!(s["skipped_lines"], 1);
}

#[test]
fn the_hook_denies_on_the_recorded_session_and_measures_a_subagent_on_its_own_file() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        &[],
        &agent_event(&recorded("gate-deny"), None, home.path()),
        home.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");

    let main = recorded("gate-warn");
    let sub_dir = main.with_extension("").join("subagents");
    let agent_id = std::fs::read_dir(&sub_dir)
        .unwrap()
        .flatten()
        .find_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_prefix("agent-")?
                .strip_suffix(".jsonl")
                .map(str::to_owned)
        })
        .unwrap();
    // The main thread at 78.5%: allowed with figures.
    let out = run(&[], &agent_event(&main, None, home.path()), home.path());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("78.5%")
    );
    // The same session's subagent, at 95.6% in its own transcript: denied.
    let out = run(
        &[],
        &agent_event(&main, Some(&agent_id), home.path()),
        home.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(
        v["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("This subagent's context is at 95.6%")
    );
}

#[test]
fn status_finds_the_newest_session_of_the_project_and_check_exits_3() {
    let home = tempfile::tempdir().unwrap();
    let project = home.path().join("my proj");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let project = project.canonicalize().unwrap();
    let encoded: String = project
        .display()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let sessions = home.path().join(".claude/projects").join(encoded);
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::copy(recorded("gate-warn"), sessions.join("old.jsonl")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::copy(recorded("gate-deny"), sessions.join("new.jsonl")).unwrap();
    let p = project.to_str().unwrap();
    let out = run(&["status", "--project", p], b"", home.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("176850 of 200000 tokens (88.4%): block"),
        "{text}"
    );
    assert!(text.contains("new.jsonl"), "{text}");
    let out = run(
        &["status", "--project", p, "--session", "old", "--check"],
        b"",
        home.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warn"));
    let out = run(&["status", "--project", p, "--check"], b"", home.path());
    assert_eq!(out.status.code(), Some(3));
    let out = run(
        &["status", "--project", "/nonexistent-project"],
        b"",
        home.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session transcript"));
}

#[test]
fn statusline_measures_the_transcript_when_the_client_gives_no_figures() {
    let home = tempfile::tempdir().unwrap();
    let input =
        json!({"model": {"display_name": "Sonnet 4.5"}, "transcript_path": recorded("gate-deny")});
    let out = run(&["statusline"], input.to_string().as_bytes(), home.path());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Sonnet 4.5 █████████░ 88% 177K/200K ⛔ /compact\n"
    );
}
