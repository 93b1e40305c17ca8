//! One replacement per tool call (issue 37): secret-guard and context-filter both answer a PostToolUse,
//! and the client takes one of them. For a large output they must give the same bytes, filtered and
//! redacted, so which one the client takes does not matter; a small one is secret-guard's alone, and a
//! large Read is never filtered.

use std::fmt::Write as _;
use std::path::Path;

use portcullis_testkit::decide::captured;
use serde_json::{Value, json};

use crate::support::run_hook;

const SESSION: &str = "0e0e0e0e-0000-4000-8000-000000000037";
const TOKEN: &str = "ghp_R8v2kLq9ZxWm4Tn7Yp3Hs6Jd1Fg5Ac0Eb2Ku";

fn answer(hook: &str, root: &Path, event: &Value) -> Value {
    let out = run_hook(hook, root, &serde_json::to_vec(event).unwrap());
    if out.stdout.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap()
}

fn updated(v: &Value) -> &Value {
    &v["hookSpecificOutput"]["updatedToolOutput"]
}

#[test]
fn both_hooks_give_a_large_output_the_same_filtered_and_redacted_bytes() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let mut out = format!("GITHUB_TOKEN={TOKEN}\n");
    for i in 0..2000 {
        let _ = writeln!(out, "test tests::case_{i} ... ok");
    }
    out.push_str("test tests::broken ... FAILED\ntest result: FAILED. 2000 passed; 1 failed\n");
    let event = captured(
        "PostToolUse-Bash",
        &root,
        SESSION,
        &json!({"tool_input": {"command": "cargo test"}, "tool_response": {"stdout": out, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
    );
    let filter = answer("context-filter", &root, &event);
    let guard = answer("secret-guard", &root, &event);
    assert_eq!(updated(&filter), updated(&guard), "the two answers differ");
    let text = updated(&filter)["stdout"].as_str().unwrap();
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("[REDACTED"), "{text}");
    assert!(text.contains("test tests::broken ... FAILED"), "{text}");
    assert!(text.len() < out.len() / 5, "{}", text.len());

    // A small output with a secret: secret-guard redacts, context-filter says nothing.
    let small = captured(
        "PostToolUse-Bash",
        &root,
        SESSION,
        &json!({"tool_input": {"command": "env"}, "tool_response": {"stdout": format!("GITHUB_TOKEN={TOKEN}\n"), "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
    );
    assert_eq!(answer("context-filter", &root, &small), Value::Null);
    let redacted = answer("secret-guard", &root, &small);
    assert!(
        !updated(&redacted)["stdout"]
            .as_str()
            .unwrap()
            .contains(TOKEN)
    );

    // A large file the agent reads is what it asked for: no hook filters it.
    let body = (0..3000).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "row {i}");
        s
    });
    let read = captured(
        "PostToolUse-Read",
        &root,
        SESSION,
        &json!({"tool_response": {"type": "text", "file": {"filePath": root.join("data.csv"), "content": body, "numLines": 3000, "startLine": 1, "totalLines": 3000}}}),
    );
    assert_eq!(answer("secret-guard", &root, &read), Value::Null);
}

/// `portcullis filter stats` sums what the decision log recorded of each filtering: per kind, per session.
#[test]
fn filter_stats_sums_the_logged_filterings() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let mut log = String::new();
    for i in 0..3000 {
        let _ = writeln!(log, "test tests::case_{i} ... ok");
    }
    log.push_str("test result: ok. 3000 passed; 0 failed\n");
    for (session, command) in [
        (SESSION, "cargo test"),
        ("0e0e0e0e-0000-4000-8000-000000000038", "cargo test"),
    ] {
        let event = captured(
            "PostToolUse-Bash",
            &root,
            session,
            &json!({"tool_input": {"command": command}, "tool_response": {"stdout": log, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
        );
        assert_ne!(answer("context-filter", &root, &event), Value::Null);
    }
    let out = std::process::Command::new(portcullis_testkit::workspace_bin("portcullis"))
        .args(["filter", "stats", "--json", "--project"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["outputs"], 2, "{v}");
    assert_eq!(v["total"]["bytes_before"], 2 * log.len(), "{v}");
    assert_eq!(v["by_kind"]["tests"]["outputs"], 2, "{v}");
    assert_eq!(v["by_session"][SESSION]["outputs"], 1, "{v}");
    let after = v["total"]["bytes_after"].as_u64().unwrap();
    assert!(after > 0 && after * 10 < 2 * log.len() as u64, "{v}");
}
