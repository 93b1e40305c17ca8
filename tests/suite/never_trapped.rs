//! Never trapped, never cut short: over random sequences of stops, tool calls and prompts, no agent is
//! blocked at Stop more times in a row **with no tool call between** than `stop.max_consecutive_blocks` (6),
//! and no stop that follows a tool call is let go, for each Stop hook that can block and for all of them
//! together (in a random order at each stop, as parallel hooks finish in any order). The hooks are the real
//! binaries, each set up to want to block every stop forever: feedback-loop (an edited, unverified domain),
//! output-location (a stray Markdown file), iteration-limit (a completion-promise loop whose promise is never
//! kept and whose cap is never reached).
//!
//! The client is modelled as Claude Code 2.1.329 behaves (PROTOCOL.md §1 item 7): after a blocked stop the
//! model may make a tool call (seen by loop-detect, registered for every `PostToolUse`) before it answers
//! again; `stop_hook_active` is true on every stop of a prompt after the first block, tool calls or not; an
//! allowed stop ends the turn, and the next stop comes after a new prompt. Every case runs with the flag as
//! the client sends it and with it stuck at false (a known client bug).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Rng, seed};
use serde_json::{Value, json};

const MAX_BLOCKS: u32 = 6;
const BLOCKERS: [&str; 3] = ["feedback-loop", "output-location", "iteration-limit"];

fn git(root: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(root)
        .args(["-c", "user.email=t@t", "-c", "user.name=t"])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn event(root: &Path, name: &str, changes: &Value) -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/events/{name}.json"));
    let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    e["session_id"] = json!("trap");
    e["cwd"] = json!(root);
    e["transcript_path"] = json!(root.join("none.jsonl"));
    for (k, v) in changes.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string()
}

/// Runs `hook` on `input`; true when it blocked.
fn blocks(hook: &str, root: &Path, input: &str) -> bool {
    let out = crate::support::run_hook(hook, root, input.as_bytes());
    !out.stdout.is_empty()
        && serde_json::from_slice::<Value>(&out.stdout).unwrap()["decision"] == "block"
}

/// A project where every hook in `hooks` wants to block every stop of session `trap`.
fn trap(hooks: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
    std::fs::create_dir_all(root.join("api")).unwrap();
    for agent in ["backend-developer", "backend-reviewer", "backend-tester"] {
        std::fs::write(
            root.join(format!(".claude/agents/{agent}.md")),
            format!("---\nname: {agent}\n---\n"),
        )
        .unwrap();
    }
    std::fs::write(root.join("api/x.go"), "package api\n").unwrap();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "init"]);
    for hook in hooks {
        match *hook {
            "feedback-loop" => {
                let write = event(
                    &root,
                    "PostToolUse-Write-subagent",
                    &json!({
                    "tool_input": {"file_path": root.join("api/x.go"), "content": "package api\n"}}),
                );
                assert!(!blocks("feedback-loop", &root, &write));
            }
            "output-location" => {
                assert!(!blocks(
                    "output-location",
                    &root,
                    &event(&root, "SessionStart-startup", &json!({}))
                ));
                std::fs::write(root.join("NOTES.md"), "# notes\n").unwrap();
            }
            _ => {
                crate::support::arm_promise_loop(&root, "trap", "NEVER", 10_000, "keep going");
            }
        }
    }
    (dir, root)
}

/// What one random session showed.
#[derive(Debug, Default)]
struct Outcome {
    /// The longest run of blocked stops with no tool call between them.
    longest: u32,
    /// Stops that followed a tool call and were let go anyway.
    cut_short: u32,
    /// Stops blocked right after a tool call (the progressing loop went on).
    progressed: u32,
}

/// A tool call of the main thread, as loop-detect (registered for every `PostToolUse`) receives it.
fn tool_call(root: &Path, prompt: u32, i: usize) {
    let input = event(
        root,
        "PostToolUse-Bash",
        &json!({"prompt_id": format!("prompt-{prompt}"),
                "tool_input": {"command": format!("make step{i}"), "description": "work"}}),
    );
    assert!(!blocks("loop-detect", root, &input));
}

/// One random session against `hooks`.
fn session(hooks: &[&str], rng: &mut Rng, stops: usize, stuck_flag: bool) -> Outcome {
    let (_dir, root) = trap(hooks);
    let mut out = Outcome::default();
    let (mut prompt, mut blocked_in_prompt, mut run) = (0u32, false, 0u32);
    for i in 0..stops {
        // After a block the model works (a tool call) before answering again, or answers text only.
        let worked = blocked_in_prompt && rng.below(2) == 0;
        if worked {
            tool_call(&root, prompt, i);
            run = 0;
        }
        let input = event(
            &root,
            "Stop",
            &json!({
                "prompt_id": format!("prompt-{prompt}"),
                "stop_hook_active": blocked_in_prompt && !stuck_flag,
                "last_assistant_message": format!("answer {i}: still working"),
            }),
        );
        let mut order: Vec<&str> = hooks.to_vec();
        for k in (1..order.len()).rev() {
            order.swap(k, usize::try_from(rng.below(k as u64 + 1)).unwrap());
        }
        let blocked = order
            .iter()
            .fold(false, |any, hook| blocks(hook, &root, &input) | any);
        if blocked {
            run += 1;
            out.longest = out.longest.max(run);
            out.progressed += u32::from(worked);
            blocked_in_prompt = true;
        } else {
            out.cut_short += u32::from(worked);
            // The turn ended; the next stop belongs to a new prompt.
            run = 0;
            prompt += 1;
            blocked_in_prompt = false;
        }
    }
    out
}

#[test]
fn no_stop_hook_alone_traps_or_cuts_short_even_with_the_client_flag_stuck() {
    let seed = seed();
    let mut rng = Rng(seed);
    for hook in BLOCKERS {
        for stuck in [false, true] {
            let o = session(&[hook], &mut rng, 30, stuck);
            let what = format!("seed {seed}: {hook} (flag stuck: {stuck}): {o:?}");
            assert!(o.longest <= MAX_BLOCKS, "{what}");
            assert_eq!(o.cut_short, 0, "{what}");
            assert!(
                o.longest >= 1 && o.progressed >= 1,
                "the trap is not set: {what}"
            );
        }
    }
}

#[test]
fn all_stop_hooks_together_neither_trap_nor_cut_short() {
    let seed = seed();
    let mut rng = Rng(seed);
    for stuck in [false, true] {
        let o = session(&BLOCKERS, &mut rng, 30, stuck);
        let what = format!("seed {seed} (flag stuck: {stuck}): {o:?}");
        assert!(o.longest <= MAX_BLOCKS, "{what}");
        assert_eq!(o.cut_short, 0, "{what}");
    }
}

/// A loop that works between all its stops runs as long as its hooks want, far past the client's cap of 8;
/// one that only answers text is let go after exactly six blocks, with all hooks taking part.
#[test]
fn a_progressing_loop_runs_long_and_a_stuck_one_is_let_go_at_six() {
    let (_dir, root) = trap(&BLOCKERS);
    let stop = |i: usize, active: bool| {
        let input = event(
            &root,
            "Stop",
            &json!({"prompt_id": "prompt-0", "stop_hook_active": active,
                    "last_assistant_message": format!("answer {i}")}),
        );
        BLOCKERS
            .iter()
            .fold(false, |any, hook| blocks(hook, &root, &input) | any)
    };
    for i in 0..20 {
        assert!(stop(i, i > 0), "stop {i} after work is blocked");
        tool_call(&root, 0, i);
    }
    for i in 20..26 {
        assert!(stop(i, true), "no-progress stop {i} is still blocked");
    }
    assert!(
        !stop(26, true),
        "the seventh stop with no tool call is let go"
    );
}

/// Codex has no cap of its own: when the stop chain cannot be written (here its lock is held by another
/// process for the whole test, as a read-only or full state folder would fail it), a hook that wants to
/// block must still be bounded. The first stop of a turn is held; every re-fire (`stop_hook_active`) is let
/// go with the reason for the user (issue 35, item 22: it blocked without end).
#[test]
fn without_a_writable_stop_chain_a_codex_turn_is_held_once_at_most() {
    let (_dir, root) = trap(&["output-location"]);
    let session = root.join(".claude/portcullis/sessions/trap");
    std::fs::create_dir_all(&session).unwrap();
    let mut holder = Command::new("flock")
        .arg(session.join("stop-chains.lock"))
        .args(["sleep", "120"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stop = |active: bool| -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/events-codex/Stop-active.json");
        let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        e["session_id"] = json!("trap");
        e["cwd"] = json!(root);
        e["transcript_path"] = json!(root.join("none.jsonl"));
        e["stop_hook_active"] = json!(active);
        let out = crate::support::run_hook("output-location", &root, e.to_string().as_bytes());
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    let first = stop(false);
    let refires: Vec<Value> = (0..2).map(|_| stop(true)).collect();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(
        first["decision"], "block",
        "the first stop is held: {first}"
    );
    for r in refires {
        assert_ne!(
            r["decision"], "block",
            "a re-fire without a stop chain is let go: {r}"
        );
        assert!(
            r.to_string().contains("NOTES.md"),
            "the user is told what was still open: {r}"
        );
    }
}
