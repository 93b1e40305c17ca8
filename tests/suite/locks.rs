//! `portcullis locks` on claims the real workspace-guard binary made: listing (text and JSON), and each
//! way of releasing by hand, which the hook then sees.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use portcullis_testkit::decide::captured;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

fn portcullis(args: &[&str], project: &Path) -> Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .arg("--project")
        .arg(project)
        .current_dir(project)
        .env("HOME", project.join("home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("CLAUDE_PROJECT_DIR")
        .output()
        .unwrap()
}

/// Runs workspace-guard on a Write of `rel` by subagent `agent`; true when it was denied.
fn write(project: &Path, rel: &str, agent: &str) -> bool {
    let event = captured(
        "PreToolUse-Write",
        project,
        "locks-session",
        &json!({"agent_id": agent, "tool_input": {"file_path": project.join(rel), "content": "x"}}),
    );
    let mut child = Command::new(workspace_bin("workspace-guard"))
        .current_dir(project)
        .env("HOME", project.join("home"))
        .env("CLAUDE_PROJECT_DIR", project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("\"deny\"")
}

#[test]
fn claims_are_listed_and_released_by_path_agent_and_staleness() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    let none = portcullis(&["locks"], &p);
    assert!(String::from_utf8_lossy(&none.stdout).contains("no file claims"));
    assert!(!write(&p, "src/a.rs", "a1"));
    assert!(!write(&p, "src/b.rs", "a1"));
    assert!(!write(&p, "src/c.rs", "a2"));
    assert!(write(&p, "src/a.rs", "a2"));
    let text = String::from_utf8_lossy(&portcullis(&["locks"], &p).stdout).into_owned();
    assert!(
        text.contains("src/a.rs  held by a1, session locks-session, since "),
        "{text}"
    );
    let listed: Value =
        serde_json::from_slice(&portcullis(&["locks", "--json"], &p).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let out = portcullis(&["locks", "release", "src/a.rs"], &p);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("released src/a.rs (held by a1"));
    assert!(
        !write(&p, "src/a.rs", "a2"),
        "a2 may write once the claim is freed"
    );
    let out = portcullis(&["locks", "release", "--agent", "a2"], &p);
    assert!(String::from_utf8_lossy(&out.stdout).contains("released src/c.rs"));
    let out = portcullis(&["locks", "release", "nothing.rs"], &p);
    assert_eq!(out.status.code(), Some(1), "nothing matched");
    let out = portcullis(&["locks", "release", "--stale"], &p);
    assert_eq!(out.status.code(), Some(1), "a1's claim on b.rs is fresh");
    let out = portcullis(&["locks", "release"], &p);
    assert_eq!(
        out.status.code(),
        Some(64),
        "a usage error names what is missing"
    );
}
