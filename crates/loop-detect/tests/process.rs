//! loop-detect as a process on captured events (from `fixtures/events/`, re-pointed at a temp project):
//! the stuck rule, per-agent and per-prompt separation, repeated failures, modes, and bad state.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_loop-detect");

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// What one run printed: the verdict JSON, if any.
fn verdict(out: &std::process::Output) -> Option<Value> {
    assert!(out.status.success(), "{out:?}");
    // Only a warning (e.g. a corrupt state file set aside) may be written, on one line.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.is_empty()
            || (err.starts_with("portcullis loop-detect: warning:") && err.lines().count() == 1),
        "{err}"
    );
    (!out.stdout.is_empty()).then(|| serde_json::from_slice(&out.stdout).unwrap())
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        Self { _dir: dir, root }
    }

    fn config(&self, value: &Value) {
        std::fs::write(self.root.join(".claude/portcullis.json"), value.to_string()).unwrap();
    }

    fn event(&self, name: &str, changes: &Value) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../fixtures/events/{name}.json"));
        let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        e["session_id"] = json!("10op-5e55");
        e["cwd"] = json!(self.root);
        e["transcript_path"] = json!(self.root.join("none.jsonl"));
        e["prompt_id"] = json!("prompt-1");
        for (k, v) in changes.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    fn run(&self, event: &Value) -> Option<Value> {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.join("no-home"));
        verdict(
            &portcullis_testkit::run_with_stdin(&mut cmd, event.to_string().as_bytes()).unwrap(),
        )
    }

    fn stop(&self, text: &str) -> Option<Value> {
        self.run(&self.event(
            "Stop",
            &json!({"last_assistant_message": text, "stop_hook_active": true}),
        ))
    }

    fn subagent_stop(&self, agent: &str, text: &str) -> Option<Value> {
        self.run(&self.event(
            "SubagentStop-subagent",
            &json!({"agent_id": agent, "agent_type": "backend-developer", "last_assistant_message": text}),
        ))
    }

    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.root.join(".claude/portcullis/log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn answer(attempt: u32) -> String {
    format!(
        "I ran the tests again (attempt {attempt}, at 2026-11-21T10:0{attempt}:00Z). The build in \
         target/run-{attempt} still fails with error E0{attempt}42 in src/lib.rs; I will try again."
    )
}

fn context(v: &Value) -> &str {
    v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn three_answers_that_differ_only_in_counters_are_stuck() {
    let p = Project::new();
    assert_eq!(p.stop(&answer(1)), None);
    assert_eq!(p.stop(&answer(2)), None);
    let v = p.stop(&answer(3)).expect("stuck");
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "Stop");
    assert!(
        context(&v).contains("last 3 answers were near-identical"),
        "{v}"
    );
    assert!(v.get("decision").is_none(), "loop-detect never blocks: {v}");
    assert!(
        v["systemMessage"]
            .as_str()
            .unwrap()
            .contains("The main thread gave 3 near-identical answers"),
        "{v}"
    );
    let log = p.log();
    let stuck: Vec<&Value> = log.iter().filter(|e| e["verdict"] == "stuck").collect();
    assert_eq!(stuck.len(), 1, "{log:?}");
    assert_eq!(stuck[0]["agent"], "main");
    assert_eq!(stuck[0]["hook"], "loop-detect");
    assert_eq!(stuck[0]["detail"]["times"], 1);
    // The window restarts from the latest answer: one more repeat is not yet a new report, two are.
    assert_eq!(p.stop(&answer(4)), None);
    let again = p.stop(&answer(5)).expect("still stuck");
    assert!(again["systemMessage"].as_str().unwrap().contains("time 2"));
}

#[test]
fn two_alike_then_a_different_answer_is_not_stuck() {
    let p = Project::new();
    assert_eq!(p.stop(&answer(1)), None);
    assert_eq!(p.stop(&answer(2)), None);
    assert_eq!(
        p.stop("Found it: the feature flag was off. Turned it on, all 112 tests pass now, done."),
        None
    );
    assert_eq!(
        p.stop(&answer(3)),
        None,
        "the different answer broke the run"
    );
    assert!(p.log().iter().all(|e| e["verdict"] != "stuck"));
}

#[test]
fn agents_and_prompts_are_counted_apart() {
    let p = Project::new();
    assert_eq!(p.stop(&answer(1)), None);
    assert_eq!(p.subagent_stop("agent-a", &answer(2)), None);
    assert_eq!(p.subagent_stop("agent-b", &answer(3)), None);
    assert_eq!(p.stop(&answer(4)), None, "main has two answers, not three");
    let v = p.subagent_stop("agent-a", &answer(5));
    assert_eq!(v, None, "agent-a has two");
    let v = p
        .subagent_stop("agent-a", &answer(6))
        .expect("agent-a stuck");
    assert!(
        v["systemMessage"]
            .as_str()
            .unwrap()
            .contains("subagent `backend-developer`")
    );
    // A new prompt starts the main thread's window again.
    let next = |text: &str| {
        p.run(&p.event(
            "Stop",
            &json!({"last_assistant_message": text, "prompt_id": "prompt-2"}),
        ))
    };
    assert_eq!(next(&answer(7)), None);
    assert_eq!(next(&answer(8)), None);
    assert!(next(&answer(9)).is_some());
}

#[test]
fn without_last_assistant_message_the_transcript_is_read() {
    let p = Project::new();
    let t = p.root.join("t.jsonl");
    let write = |text: &str| {
        let line = json!({"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": text}]}});
        std::fs::write(&t, format!("{line}\n{{\"type\":\"user\"\n")).unwrap();
    };
    for n in 1..=3 {
        write(&answer(n));
        let mut e = p.event("Stop", &json!({"transcript_path": t}));
        e.as_object_mut().unwrap().remove("last_assistant_message");
        let v = p.run(&e);
        assert_eq!(v.is_some(), n == 3, "answer {n}: {v:?}");
    }
}

#[test]
fn warn_mode_tells_the_user_only_and_off_says_nothing() {
    let p = Project::new();
    p.config(&json!({"loop_detect": {"mode": "warn"}}));
    for n in 1..=2 {
        assert_eq!(p.stop(&answer(n)), None);
    }
    let v = p.stop(&answer(3)).unwrap();
    assert_eq!(context(&v), "");
    assert!(v["systemMessage"].as_str().is_some());
    p.config(&json!({"loop_detect": {"mode": "off"}}));
    for n in 1..=3 {
        assert_eq!(p.stop(&answer(n)), None);
    }
}

#[test]
fn the_window_and_threshold_are_configurable() {
    let p = Project::new();
    p.config(&json!({"loop_detect": {"window": 2, "threshold": 0.99}}));
    assert_eq!(
        p.stop("abcdefghijklmnopqrstuvwxyz and more words here"),
        None
    );
    assert_eq!(
        p.stop("abcdefghijklmnopqrstuvwxyZ and more words here"),
        None,
        "97% alike is not above 99%"
    );
    assert!(
        p.stop("abcdefghijklmnopqrstuvwxyZ and more words here")
            .is_some()
    );
}

fn bash(p: &Project, failed: bool, command: &str) -> Option<Value> {
    let (name, extra) = if failed {
        ("PostToolUseFailure-Bash", json!({"error": "Exit code 1"}))
    } else {
        ("PostToolUse-Bash", json!({}))
    };
    let mut e = p.event(name, &extra);
    e["tool_input"] = json!({"command": command, "description": "build"});
    p.run(&e)
}

#[test]
fn one_exact_call_failing_three_times_gets_a_note() {
    let p = Project::new();
    assert_eq!(bash(&p, true, "cargo build"), None);
    assert_eq!(
        bash(&p, true, "cargo build --release"),
        None,
        "another call"
    );
    assert_eq!(bash(&p, true, "cargo build"), None);
    let v = bash(&p, true, "cargo build").expect("third failure");
    assert_eq!(
        v["hookSpecificOutput"]["hookEventName"],
        "PostToolUseFailure"
    );
    assert!(context(&v).contains("failed 3 times in a row"), "{v}");
    assert!(p.log().iter().any(|e| e["verdict"] == "repeated-failure"));
    // A success of that call clears it.
    assert_eq!(bash(&p, false, "cargo build"), None);
    assert_eq!(bash(&p, true, "cargo build"), None);
    assert_eq!(bash(&p, true, "cargo build"), None);
    assert!(bash(&p, true, "cargo build").is_some());
}

#[test]
fn interrupted_calls_are_not_failures() {
    let p = Project::new();
    for _ in 0..4 {
        let mut e = p.event(
            "PostToolUseFailure-Bash",
            &json!({"error": "Interrupted", "is_interrupt": true}),
        );
        e["tool_input"] = json!({"command": "cargo build", "description": "build"});
        assert_eq!(
            p.run(&e),
            None,
            "the user stopped it; the call did not fail"
        );
    }
    assert_eq!(
        bash(&p, true, "cargo build"),
        None,
        "counting starts at the first real failure"
    );
}

#[test]
fn a_corrupt_state_file_is_set_aside_and_counting_starts_again() {
    let p = Project::new();
    assert_eq!(p.stop(&answer(1)), None);
    let state = std::fs::read_dir(p.root.join(".claude/portcullis/sessions"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("loop-detect.json");
    std::fs::write(&state, b"{\"schema_version\":1,\"state\":{\"agents\":[tor").unwrap();
    assert_eq!(p.stop(&answer(2)), None);
    assert_eq!(p.stop(&answer(3)), None, "the window restarted");
    assert!(p.stop(&answer(4)).is_some());
}
