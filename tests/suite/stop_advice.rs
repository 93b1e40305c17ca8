//! Advice at a stop (a hook's context, such as loop-detect's "you look stuck") keeps the client answering,
//! as a block does. It may only reach the agent when the stop is held anyway: at a stop every gate lets
//! end, it goes to the user (issue 35, item 26: a kept promise was followed by one more answer).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// A project with a promise loop armed for session `advice`.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    crate::support::arm_promise_loop(&root, "advice", "DONE", 50, "migrate the modules");
    (dir, root)
}

fn stop(root: &Path, answer: &str, active: bool) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events/Stop.json");
    let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    e["session_id"] = json!("advice");
    e["cwd"] = json!(root);
    e["transcript_path"] = json!(root.join("none.jsonl"));
    e["prompt_id"] = json!("p1");
    e["stop_hook_active"] = json!(active);
    e["last_assistant_message"] = json!(answer);
    e.to_string()
}

fn verdict(hook: &str, root: &Path, input: &str) -> Value {
    let out = crate::support::run_hook(hook, root, input.as_bytes());
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

#[test]
fn advice_at_a_stop_no_gate_holds_goes_to_the_user() {
    let (_dir, root) = project();
    // Two near-identical answers that do not keep the promise: the loop holds both stops.
    for (i, active) in [(0, false), (1, true)] {
        let input = stop(&root, "<promise>DONE</promise>!", active);
        assert_eq!(
            verdict("iteration-limit", &root, &input)["decision"],
            "block",
            "stop {i}"
        );
        let _ = verdict("loop-detect", &root, &input);
    }
    // The third keeps the promise: iteration-limit lets the turn end, and loop-detect, which finds three
    // near-identical answers, must not continue it.
    let input = stop(&root, "<promise>DONE</promise>", true);
    let ended = verdict("iteration-limit", &root, &input);
    assert_ne!(ended["decision"], "block", "the promise is kept: {ended}");
    let advice = verdict("loop-detect", &root, &input);
    assert!(
        advice["hookSpecificOutput"]["additionalContext"].is_null(),
        "{advice}"
    );
    assert!(
        advice["systemMessage"]
            .as_str()
            .is_some_and(|m| m.contains("near-identical")),
        "the user is told: {advice}"
    );
}

#[test]
fn advice_at_a_stop_a_gate_holds_reaches_the_agent() {
    let (_dir, root) = project();
    let mut advice = Value::Null;
    for (i, active) in [(0, false), (1, true), (2, true)] {
        let input = stop(&root, "Still working on the modules, attempt 7.", active);
        assert_eq!(
            verdict("iteration-limit", &root, &input)["decision"],
            "block",
            "stop {i}"
        );
        advice = verdict("loop-detect", &root, &input);
    }
    assert!(
        advice["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .is_some_and(|c| c.contains("near-identical")),
        "{advice}"
    );
}
