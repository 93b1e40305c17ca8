//! Never trapped: over random sequences of stops and prompts, no agent is blocked at Stop more times in a
//! row than `stop.max_consecutive_blocks` (6), for each Stop hook that can block and for all of them
//! together. The hooks are the real binaries, each set up to want to block every stop forever:
//! feedback-loop (an edited, unverified domain), output-location (a stray Markdown file), iteration-limit
//! (a completion-promise loop whose promise is never kept).
//!
//! The client is modelled as Claude Code behaves: a blocked stop makes the model answer again within the
//! same prompt, with `stop_hook_active: true`; an allowed stop ends the turn, and the next stop comes after a
//! new prompt. For each hook alone the client's known bug (the flag staying false) is also modelled. For all
//! hooks together the flag is taken as the client sends it: with it stuck at false and hooks taking turns,
//! the last bound is Claude Code's own cap of 8 (README, "No Stop hook traps an agent").

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::workspace_bin;

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
    let mut cmd = Command::new(workspace_bin(hook));
    cmd.current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("no-home"))
        .env("CLAUDE_PROJECT_DIR", root);
    let out = portcullis_testkit::run_with_stdin(&mut cmd, input.as_bytes()).unwrap();
    assert!(
        out.status.success(),
        "{hook}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
                let ok = Command::new(workspace_bin("iteration-limit"))
                    .args([
                        "loop",
                        "start",
                        "--promise",
                        "NEVER",
                        "--max-iterations",
                        "7",
                        "--session",
                        "trap",
                        "--project",
                    ])
                    .arg(&root)
                    .args(["--", "keep going"])
                    .env("HOME", root.join("no-home"))
                    .status()
                    .unwrap()
                    .success();
                assert!(ok);
            }
        }
    }
    (dir, root)
}

/// One random session against `hooks`; returns the longest run of blocked stops in a row.
fn longest_run(hooks: &[&str], rng: &mut Rng, stops: usize, buggy_flag: bool) -> u32 {
    let (_dir, root) = trap(hooks);
    let mut prompt = 0;
    let mut previous_blocked = false;
    let (mut run, mut longest) = (0, 0);
    for i in 0..stops {
        // A user may also type a new prompt at any time between turns (only after an allowed stop).
        if !previous_blocked && rng.below(3) == 0 {
            prompt += 1;
        }
        let active = previous_blocked && !buggy_flag;
        let input = event(
            &root,
            "Stop",
            &json!({
                "prompt_id": format!("prompt-{prompt}"),
                "stop_hook_active": active,
                "last_assistant_message": format!("answer {i}: still working"),
            }),
        );
        let blocked = hooks
            .iter()
            .fold(false, |any, hook| blocks(hook, &root, &input) | any);
        if blocked {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
            // The turn ended; the next stop belongs to a new prompt.
            prompt += 1;
        }
        previous_blocked = blocked;
    }
    longest
}

#[test]
fn no_stop_hook_alone_blocks_more_than_the_cap_even_with_the_client_flag_stuck() {
    let seed = seed();
    let mut rng = Rng(seed);
    for hook in BLOCKERS {
        for buggy in [false, true] {
            let longest = longest_run(&[hook], &mut rng, 20, buggy);
            assert!(
                longest <= MAX_BLOCKS,
                "seed {seed}: {hook} (flag stuck: {buggy}) blocked {longest} in a row"
            );
            assert!(
                longest >= 1,
                "seed {seed}: {hook} never blocked; the trap is not set"
            );
        }
    }
}

#[test]
fn all_stop_hooks_together_block_no_more_than_the_cap() {
    let seed = seed();
    let mut rng = Rng(seed);
    for _ in 0..2 {
        let longest = longest_run(&BLOCKERS, &mut rng, 24, false);
        assert!(
            longest <= MAX_BLOCKS,
            "seed {seed}: together they blocked {longest} in a row"
        );
        assert_eq!(
            longest, MAX_BLOCKS,
            "seed {seed}: the trap should reach the cap"
        );
    }
}
