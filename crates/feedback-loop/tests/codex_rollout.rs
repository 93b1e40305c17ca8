//! Codex: the patches a thread ran through the shell are read from its rollout (no `PostToolUse` shows
//! them), against the real binary on Codex's captured events (`fixtures/events-codex/`). The place read up
//! to moves after a patch, so a patch is counted once; a look that finds none writes no state until the
//! unread stretch is long.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::Output;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_feedback-loop");
const SESSION: &str = "c0de-5e55";

/// A Cargo project with a rollout beside it, as Codex writes one.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    rollout: PathBuf,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("proj");
        std::fs::create_dir_all(root.join("src")).unwrap();
        // Its own `.git`: the project root is found here, whatever lies above the temp folder.
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"p\"\n").unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        let rollout = root.parent().unwrap().join("rollout.jsonl");
        std::fs::write(&rollout, "").unwrap();
        Self {
            _dir: dir,
            root,
            rollout,
        }
    }

    fn event(&self, name: &str, changes: &Value) -> Value {
        portcullis_testkit::decide::captured_codex(
            name,
            &self.root,
            SESSION,
            &self.rollout,
            changes,
        )
    }

    /// Appends lines to the rollout.
    fn append(&self, lines: &[Value]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.rollout)
            .unwrap();
        for line in lines {
            writeln!(f, "{line}").unwrap();
        }
    }

    /// A patch of `src/lib.rs` applied by `apply_patch` run in the shell: only its `item_completed` line.
    fn shell_patch(&self) -> Value {
        portcullis_testkit::codex_shell_patch_line(&self.root.join("src/lib.rs"))
    }

    /// `bytes` of rollout with no patch in it: an answer and tool output.
    fn no_patch(bytes: usize) -> Vec<Value> {
        let line = json!({"timestamp": "t", "type": "response_item", "payload": {"type": "function_call_output",
                          "call_id": "c", "output": "x".repeat(1000)}});
        vec![line; bytes.div_ceil(1050)]
    }

    fn run(&self, event: &Value) -> Output {
        let mut c = portcullis_testkit::hook_command(BIN, &self.root);
        let out = portcullis_testkit::run_with_stdin(&mut c, event.to_string().as_bytes()).unwrap();
        assert!(out.status.success(), "{out:?}");
        out
    }

    /// The Stop's decision: `None` when it let the turn end silently.
    fn stop(&self) -> Option<String> {
        let out = self.run(&self.event("Stop", &json!({})));
        if out.stdout.is_empty() {
            return None;
        }
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        Some(v["decision"].as_str().unwrap_or("none").to_owned())
    }

    fn cargo_test_passed(&self) {
        let bash = self.event(
            "PostToolUse-Bash",
            &json!({"tool_input": {"command": "cargo test"},
                    "tool_response": "running 1 test\ntest t ... ok\n\ntest result: ok. 1 passed; 0 failed\n"}),
        );
        self.run(&bash);
    }

    fn state_dir(&self) -> PathBuf {
        self.root.join(".claude/portcullis/sessions").join(SESSION)
    }

    /// Where feedback-loop's place in the rollout is on record, if anywhere.
    fn place(&self) -> Option<u64> {
        let bytes = std::fs::read(self.state_dir().join("feedback-loop-rollout.json")).ok()?;
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        v["state"]["offsets"][self.rollout.display().to_string()].as_u64()
    }

    fn rollout_len(&self) -> u64 {
        std::fs::metadata(&self.rollout).unwrap().len()
    }
}

#[test]
fn a_stop_in_a_turn_that_patched_nothing_writes_no_state() {
    let p = Project::new();
    p.append(&Project::no_patch(20 * 1024));
    assert_eq!(p.stop(), None);
    assert!(
        !p.state_dir().exists(),
        "a Stop that found no patch wrote state: {:?}",
        std::fs::read_dir(p.state_dir()).map(Iterator::count)
    );
}

#[test]
fn a_shell_patch_in_a_stretch_read_before_is_still_found() {
    let p = Project::new();
    p.append(&Project::no_patch(20 * 1024));
    assert_eq!(p.stop(), None);
    // The next turn patches through the shell: its Stop reads the earlier stretch again, and the patch.
    p.append(&[p.shell_patch()]);
    p.append(&Project::no_patch(2 * 1024));
    assert_eq!(p.stop().as_deref(), Some("block"));
    assert_eq!(p.place(), Some(p.rollout_len()), "a patch moves the place");
}

#[test]
fn a_patch_is_counted_once() {
    let p = Project::new();
    p.append(&[p.shell_patch()]);
    assert_eq!(p.stop().as_deref(), Some("block"));
    p.cargo_test_passed();
    assert_eq!(p.stop(), None, "verified");
    // Later turns read on from after the patch: it is not put on record again.
    p.append(&Project::no_patch(4 * 1024));
    assert_eq!(p.stop(), None, "the verified patch was read again");
}

#[test]
fn a_long_stretch_with_no_patch_moves_the_place() {
    let p = Project::new();
    p.append(&Project::no_patch(100 * 1024));
    assert_eq!(p.stop(), None);
    assert_eq!(p.place(), None, "100 KB is read again rather than written");
    p.append(&Project::no_patch(200 * 1024));
    assert_eq!(p.stop(), None);
    assert_eq!(p.place(), Some(p.rollout_len()));
}
