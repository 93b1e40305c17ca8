//! Odd Unicode as JavaScript clients send it: a lone UTF-16 surrogate escape must not switch a guard off.

use std::path::Path;
use std::process::Command;

use portcullis_core::child;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

use crate::bad_input::{Project, WATCHDOG, event};

/// A lone surrogate escape anywhere in the event changes no guard's verdict: agent-first still denies the
/// main thread's Go edit, workspace-guard still refuses a write outside the project, and secret-guard still
/// redacts the output it sits in (issue 35, item 21: each exited 1 with no verdict, and the call ran).
#[test]
fn a_lone_surrogate_switches_no_guard_off() {
    let run = |hook: &str, p: &Project, input: &[u8]| -> String {
        let mut cmd = Command::new(workspace_bin(hook));
        cmd.current_dir(&p.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", p.root.join("home"))
            .env("CLAUDE_PROJECT_DIR", &p.root);
        let out = child::run(cmd, input, WATCHDOG, 1 << 20).unwrap();
        assert_eq!(
            out.code,
            Some(0),
            "{hook}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let with_surrogate = |e: &Value| e.to_string().replace("LONE", "\\ud800").into_bytes();

    let p = Project::new();
    let mut write = serde_json::from_slice::<Value>(&event(&p, "agent-first", &json!({}))).unwrap();
    write["tool_input"]["content"] = json!("package api // LONE");
    let verdict = run("agent-first", &p, &with_surrogate(&write));
    assert!(verdict.contains("\"deny\""), "agent-first: {verdict}");

    let mut bash =
        serde_json::from_slice::<Value>(&event(&p, "iteration-limit", &json!({}))).unwrap();
    bash["tool_input"] =
        json!({"command": "echo pwned >> /etc/cron.d/x # LONE", "description": "LONE"});
    let verdict = run("workspace-guard", &p, &with_surrogate(&bash));
    assert!(verdict.contains("\"deny\""), "workspace-guard: {verdict}");

    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events/PostToolUse-Bash.json");
    let mut out: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    out["cwd"] = json!(p.root);
    out["session_id"] = json!("bad-input");
    out["tool_response"]["stdout"] =
        json!("LONE\nexport GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\nLONE");
    let verdict = run("secret-guard", &p, &with_surrogate(&out));
    assert!(
        verdict.contains("updatedToolOutput") || verdict.contains("updatedMCPToolOutput"),
        "secret-guard: {verdict}"
    );
    assert!(
        !verdict.contains("ghp_aBcDeFg"),
        "secret-guard leaked: {verdict}"
    );
}
