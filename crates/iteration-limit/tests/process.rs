//! iteration-limit as a process on captured events (from `fixtures/events/`, re-pointed at a temp
//! project), and its command line: the attempt cap and its resets, and completion-promise loops.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_iteration-limit");
const SESSION: &str = "1te4-5e55";

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        Self { _dir: dir, root }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.join("no-home"));
        cmd
    }

    fn event(&self, name: &str, changes: &Value) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../fixtures/events/{name}.json"));
        let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        e["session_id"] = json!(SESSION);
        e["cwd"] = json!(self.root);
        e["prompt_id"] = json!("prompt-1");
        for (k, v) in changes.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    fn run(&self, event: &Value) -> Option<Value> {
        let out =
            portcullis_testkit::run_with_stdin(&mut self.command(), event.to_string().as_bytes())
                .unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
        (!out.stdout.is_empty()).then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    fn bash(&self, command: &str, extra: &Value) -> Option<Value> {
        let mut e = self.event("PreToolUse-Bash", extra);
        e["tool_input"] = json!({"command": command, "description": "try"});
        self.run(&e)
    }

    fn cli(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Arms a loop with promise `X` and prompt `go` for `session`, capped at `max` iterations.
    fn arm(&self, session: &str, max: &str) {
        let armed = self.cli(&[
            "loop",
            "start",
            "--session",
            session,
            "--promise",
            "X",
            "--max-iterations",
            max,
            "--",
            "go",
        ]);
        assert!(armed.status.success(), "{armed:?}");
    }

    fn stop(&self, session: &str, answer: &str) -> Option<Value> {
        self.run(&self.event(
            "Stop",
            &json!({"session_id": session, "last_assistant_message": answer}),
        ))
    }
}

fn denied(v: Option<&Value>) -> Option<&str> {
    let v = v?;
    (v["hookSpecificOutput"]["permissionDecision"] == "deny").then(|| {
        v["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
    })
}

#[test]
fn the_eleventh_attempt_of_one_command_is_denied() {
    let p = Project::new();
    for n in 1..=10 {
        // Whitespace does not make a new command.
        let cmd = if n % 2 == 0 {
            "cargo  test"
        } else {
            "cargo test "
        };
        assert_eq!(p.bash(cmd, &json!({})), None, "attempt {n}");
    }
    let v = p.bash("cargo test", &json!({}));
    let reason = denied(v.as_ref()).expect("denied");
    assert!(reason.contains("attempt 11"), "{reason}");
    assert!(reason.contains("`Bash: cargo test`"), "{reason}");
    assert!(reason.contains("the limit is 10"), "{reason}");
    assert!(
        denied(p.bash("cargo test", &json!({})).as_ref())
            .unwrap()
            .contains("attempt 12")
    );
    assert_eq!(
        p.bash("cargo test -p other", &json!({})),
        None,
        "another command"
    );
    // Another agent has its own count.
    assert_eq!(
        p.bash("cargo test", &json!({"agent_id": "a1", "agent_type": "t"})),
        None
    );
}

#[test]
fn reading_is_never_counted_and_new_prompts_reset() {
    let p = Project::new();
    for _ in 0..15 {
        assert_eq!(p.run(&p.event("PreToolUse-Read", &json!({}))), None);
    }
    for _ in 0..10 {
        p.bash("make", &json!({}));
    }
    assert!(denied(p.bash("make", &json!({})).as_ref()).is_some());
    assert_eq!(p.run(&p.event("UserPromptSubmit", &json!({}))), None);
    assert_eq!(p.bash("make", &json!({})), None, "a new prompt starts over");
    for _ in 0..9 {
        p.bash("make", &json!({}));
    }
    assert!(denied(p.bash("make", &json!({})).as_ref()).is_some());
    assert_eq!(
        p.bash("make", &json!({"prompt_id": "prompt-2"})),
        None,
        "a new prompt_id starts over too"
    );
}

#[test]
fn warn_mode_and_a_lower_cap() {
    let p = Project::new();
    std::fs::write(
        p.root.join(".claude/portcullis.json"),
        json!({"iteration_limit": {"mode": "warn", "max_attempts": 2}}).to_string(),
    )
    .unwrap();
    assert_eq!(p.bash("ls", &json!({})), None);
    assert_eq!(p.bash("ls", &json!({})), None);
    let v = p.bash("ls", &json!({})).unwrap();
    assert!(denied(Some(&v)).is_none());
    assert!(v["systemMessage"].as_str().unwrap().contains("attempt 3"));
}

#[test]
fn a_loop_feeds_the_prompt_back_until_the_promise_is_kept() {
    let p = Project::new();
    let out = p.cli(&[
        "loop",
        "start",
        "--session",
        SESSION,
        "--promise",
        "DONE",
        "--max-iterations",
        "4",
        "--",
        "Polish",
        "the docs.",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("session {SESSION}")));
    assert_eq!(
        p.stop("other-session", "ok"),
        None,
        "another session is not looped"
    );
    let v = p.stop(SESSION, "first pass").unwrap();
    assert_eq!(v["decision"], "block");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("Polish the docs.\n\n[iteration-limit] Loop iteration 2 of 4."),
        "{reason}"
    );
    let v = p
        .stop(
            SESSION,
            "I will answer <promise>DONE</promise> when finished",
        )
        .unwrap();
    assert_eq!(v["decision"], "block", "a mention in prose does not count");
    assert!(v["reason"].as_str().unwrap().contains("iteration 3 of 4"));
    let status = p.cli(&["loop", "status"]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("iteration 2 of 4"),
        "{status:?}"
    );
    let v = p.stop(SESSION, "  <promise>DONE</promise>\n").unwrap();
    assert!(v.get("decision").is_none(), "{v}");
    assert!(
        v["systemMessage"]
            .as_str()
            .unwrap()
            .contains("after 3 iterations"),
        "{v}"
    );
    assert_eq!(p.stop(SESSION, "anything"), None, "the loop is over");
}

#[test]
fn a_loop_ends_at_its_cap_and_the_cap_is_checked() {
    let p = Project::new();
    for bad in ["0", "10001"] {
        let refused = p.cli(&[
            "loop",
            "start",
            "--session",
            SESSION,
            "--promise",
            "X",
            "--max-iterations",
            bad,
            "--",
            "go",
        ]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("must be 1 to 10000"),
            "{refused:?}"
        );
    }
    let usage = p.cli(&["loop", "start", "--promise", "X"]);
    assert_eq!(
        usage.status.code(),
        Some(64),
        "no prompt: a usage error, never exit 2"
    );
    assert!(
        p.cli(&[
            "loop",
            "start",
            "--session",
            SESSION,
            "--promise",
            "X",
            "--max-iterations",
            "2",
            "--",
            "go"
        ])
        .status
        .success()
    );
    assert_eq!(p.stop(SESSION, "one").unwrap()["decision"], "block");
    let v = p.stop(SESSION, "two").unwrap();
    assert!(v.get("decision").is_none());
    assert!(
        v["systemMessage"]
            .as_str()
            .unwrap()
            .contains("cap of 2 iterations"),
        "{v}"
    );
}

#[test]
fn the_default_cap_is_ten_iterations() {
    let p = Project::new();
    let out = p.cli(&[
        "loop",
        "start",
        "--session",
        SESSION,
        "--promise",
        "X",
        "--",
        "go",
    ]);
    assert!(out.status.success(), "{out:?}");
    let status = String::from_utf8_lossy(&p.cli(&["loop", "status"]).stdout).into_owned();
    assert!(status.contains("of 10"), "{status}");
}

/// Iterations that do work (a tool call between two stops) run to the loop's own cap, however long; the
/// shared stop chain never cuts them.
#[test]
fn a_long_loop_with_work_between_its_stops_runs_to_its_own_cap() {
    let p = Project::new();
    p.arm(SESSION, "40");
    for i in 1..40 {
        let v = p.run(&p.event(
            "Stop",
            &json!({"last_assistant_message": format!("pass {i}"), "stop_hook_active": i > 1}),
        ));
        assert_eq!(
            v.as_ref().unwrap()["decision"],
            "block",
            "iteration {i}: {v:?}"
        );
        assert_eq!(p.bash(&format!("make step{i}"), &json!({})), None);
    }
    let v = p
        .run(&p.event(
            "Stop",
            &json!({"last_assistant_message": "pass 40", "stop_hook_active": true}),
        ))
        .unwrap();
    assert!(v.get("decision").is_none(), "{v}");
    assert!(
        v["systemMessage"]
            .as_str()
            .unwrap()
            .contains("cap of 40 iterations"),
        "{v}"
    );
}

/// An agent that only answers text makes no progress: the stop chain lets it go after six blocks, naming
/// what the loop still wanted, whatever the loop's own cap.
#[test]
fn a_loop_that_does_no_work_is_let_go_by_the_stop_chain() {
    let p = Project::new();
    p.arm(SESSION, "100");
    // The client's flag is correct in one session and stuck at false in another: the same count.
    for (session, stuck) in [(SESSION, false), ("stuck-flag", true)] {
        if stuck {
            p.arm(session, "100");
        }
        let stop = |i: u32| {
            let flag = i > 0 && !stuck;
            p.run(&p.event(
                "Stop",
                &json!({"session_id": session, "last_assistant_message": "thinking", "stop_hook_active": flag}),
            ))
            .unwrap()
        };
        for i in 0..6 {
            assert_eq!(stop(i)["decision"], "block", "{session}: stop {i}");
        }
        let v = stop(6);
        assert!(v.get("decision").is_none(), "{v}");
        let msg = v["systemMessage"].as_str().unwrap();
        assert!(
            msg.contains("after 6 blocked stops in a row with no tool call") && msg.contains("go"),
            "{msg}"
        );
    }
}

#[test]
fn the_clients_cap_setting_moves_the_let_go() {
    let p = Project::new();
    p.arm(SESSION, "100");
    // The first stop of the prompt carries no flag; the client sets it once a hook blocked.
    let first = std::cell::Cell::new(true);
    let stop = |cap: &str| {
        let e = p.event(
            "Stop",
            &json!({"last_assistant_message": "t", "stop_hook_active": !first.replace(false)}),
        );
        let out = portcullis_testkit::run_with_stdin(
            p.command().env("CLAUDE_CODE_STOP_HOOK_BLOCK_CAP", cap),
            e.to_string().as_bytes(),
        )
        .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    // A client cap of 3: portcullis honours two blocks and lets the third stop go, before the client would.
    assert_eq!(stop("3")["decision"], "block");
    assert_eq!(stop("3")["decision"], "block");
    let v = stop("3");
    assert!(v.get("decision").is_none(), "{v}");
    assert!(
        v["systemMessage"]
            .as_str()
            .unwrap()
            .contains("stops honouring blocks at 3"),
        "{v}"
    );
}

#[test]
fn a_pending_loop_is_claimed_by_exactly_one_session() {
    let p = Project::new();
    assert!(
        p.cli(&["loop", "start", "--promise", "OK", "--", "again"])
            .status
            .success()
    );
    let status = String::from_utf8_lossy(&p.cli(&["loop", "status"]).stdout).into_owned();
    assert!(status.contains("pending"), "{status}");
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let event = p.event(
                "Stop",
                &json!({"session_id": format!("s{n}"), "last_assistant_message": "x"}),
            );
            let mut cmd = p.command();
            std::thread::spawn(move || {
                let out =
                    portcullis_testkit::run_with_stdin(&mut cmd, event.to_string().as_bytes())
                        .unwrap();
                !out.stdout.is_empty()
            })
        })
        .collect();
    let blocked = handles
        .into_iter()
        .filter(|_| true)
        .map(|h| h.join().unwrap())
        .filter(|b| *b)
        .count();
    assert_eq!(blocked, 1, "exactly one session claims the loop");
    let cancel = p.cli(&["loop", "cancel"]);
    assert!(
        String::from_utf8_lossy(&cancel.stdout).contains("Cancelled the loop of session s"),
        "{cancel:?}"
    );
    let status = String::from_utf8_lossy(&p.cli(&["loop", "status"]).stdout).into_owned();
    assert_eq!(status, "No loop is armed.\n");
}

#[test]
fn the_agent_arms_its_own_loop_through_the_session_variable() {
    let p = Project::new();
    let out = p
        .command()
        .env("CLAUDE_CODE_SESSION_ID", SESSION)
        .args(["loop", "start", "--promise", "Z", "--", "go on"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(p.stop(SESSION, "not yet").unwrap()["decision"], "block");
}
