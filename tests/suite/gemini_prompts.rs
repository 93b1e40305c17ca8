//! Gemini re-fires `BeforeAgent` when a hook holds the turn, with the hold's reason as the prompt. The real
//! binaries, on Gemini's captured events: that continuation is not a prompt (iteration-limit's count of
//! repeated calls survives it), while a user's next prompt is one (the count starts over, and the main
//! thread's stop chain with it). Copilot does the same with `UserPromptSubmit`, passing on one of the
//! reasons of the hooks that held the stop.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

impl Project {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let root = base.join("proj");
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        Command::new("git")
            .args(["init", "-q"])
            .current_dir(&root)
            .status()
            .unwrap();
        std::fs::write(
            root.join(".claude/portcullis.json"),
            r#"{"iteration_limit": {"max_attempts": 2}}"#,
        )
        .unwrap();
        Self {
            root,
            home: base.join("home"),
            _tmp: tmp,
        }
    }

    fn event(&self, capture: &str, changes: &Value) -> Value {
        portcullis_testkit::decide::captured_gemini(
            capture,
            &self.root,
            "gemini-prompts",
            &self.home.join(".gemini/tmp/proj/chats/session-x.jsonl"),
            changes,
        )
    }

    /// Runs `hook --client gemini` on `event`; its stdout as JSON (`Null` for silence).
    fn run(&self, hook: &str, event: &Value) -> Value {
        let mut child = Command::new(workspace_bin(hook))
            .args(["--client", "gemini"])
            .current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("CLAUDE_PROJECT_DIR", &self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(event.to_string().as_bytes());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{hook}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if out.stdout.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out.stdout).unwrap()
        }
    }

    /// The same shell call again: iteration-limit's verdict.
    fn same_call(&self) -> Value {
        self.run(
            "iteration-limit",
            &self.event(
                "gemini-BeforeTool-0",
                &json!({"tool_input": {"command": "cargo build"}}),
            ),
        )
    }
}

fn is_deny(v: &Value) -> bool {
    v["decision"] == "deny"
}

#[test]
fn a_held_turn_s_continuation_is_no_prompt_but_the_user_s_next_prompt_is() {
    let p = Project::new();
    p.run(
        "output-location",
        &p.event("gemini-SessionStart-0", &json!({})),
    );
    assert!(!is_deny(&p.same_call()) && !is_deny(&p.same_call()));
    assert!(
        is_deny(&p.same_call()),
        "the third attempt is over the cap of 2"
    );
    // A stray note makes output-location hold the turn; Gemini sends its reason back as the prompt.
    std::fs::write(p.root.join("NOTES.md"), "# notes\n").unwrap();
    let note = p.root.join("NOTES.md").display().to_string();
    p.run(
        "output-location",
        &p.event("gemini6-AfterTool-0", &json!({"tool_name": "write_file",
            "tool_input": {"file_path": note, "content": "# notes\n"},
            "tool_response": {"llmContent": "Successfully created and wrote to new file.", "returnDisplay": ""}})),
    );
    let held = p.run(
        "output-location",
        &p.event(
            "gemini2-AfterAgent-0",
            &json!({"prompt_response": "notes written"}),
        ),
    );
    assert_eq!(held["decision"], "block", "{held}");
    let reason = held["reason"].as_str().unwrap();
    // Gemini merges the reasons of every hook that held the turn, one per line.
    let continuation = format!("[another hook] finish the task\n{reason}");
    let prompt = p.event("gemini-BeforeAgent-0", &json!({"prompt": continuation}));
    assert_eq!(p.run("iteration-limit", &prompt), Value::Null);
    assert!(
        is_deny(&p.same_call()),
        "the continuation did not reset the count"
    );
    // The user's own next prompt does.
    let prompt = p.event(
        "gemini-BeforeAgent-0",
        &json!({"prompt": "now add the tests"}),
    );
    assert_eq!(p.run("iteration-limit", &prompt), Value::Null);
    assert!(
        !is_deny(&p.same_call()),
        "a new prompt starts the count over"
    );
}

/// Runs `hook --client copilot` on `event` in `p`; its stdout as JSON (`Null` for silence).
fn run_copilot(p: &Project, hook: &str, event: &Value) -> Value {
    let env = [
        ("HOME", p.home.as_os_str()),
        ("CLAUDE_PROJECT_DIR", p.root.as_os_str()),
    ];
    let out = crate::support::run_as_client(&workspace_bin(hook), "copilot", &p.root, &env, event);
    assert!(
        out.status.success(),
        "{hook}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Copilot passes on one reason when several hooks hold the same turn end, not always the last one
/// recorded: a continuation carrying the first hook's reason is still no prompt.
#[test]
fn a_copilot_continuation_with_either_hold_s_reason_is_no_prompt() {
    let p = Project::new();
    let events = p
        .home
        .join(".copilot/session-state/copilot-prompts/events.jsonl");
    std::fs::create_dir_all(events.parent().unwrap()).unwrap();
    std::fs::write(
        &events,
        "{\"type\":\"assistant.message\",\"timestamp\":\"2026-12-07T01:40:00.000Z\",\"data\":{\"content\":\"done\"}}\n",
    )
    .unwrap();
    let event = |capture: &str, changes: &Value| {
        portcullis_testkit::decide::captured_copilot(
            capture,
            &p.root,
            "copilot-prompts",
            &events,
            changes,
        )
    };
    let same_call = || {
        run_copilot(
            &p,
            "iteration-limit",
            &event(
                "copilotP-PreToolUse-0",
                &json!({"tool_input": {"command": "cargo build"}}),
            ),
        )
    };
    run_copilot(
        &p,
        "output-location",
        &event("copilotP-SessionStart-0", &json!({})),
    );
    for _ in 0..2 {
        assert!(!is_deny_copilot(&same_call()));
    }
    assert!(is_deny_copilot(&same_call()), "over the cap of 2");
    // A stray note and an edit: output-location and feedback-loop both hold the same stop.
    std::fs::create_dir_all(p.root.join("src")).unwrap();
    std::fs::write(
        p.root.join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(p.root.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    std::fs::write(p.root.join("NOTES.md"), "# notes\n").unwrap();
    let edit = event(
        "copilot5-PostToolUse-0",
        &json!({"tool_name": "Edit", "tool_input": {"path": p.root.join("src/lib.rs"), "old_str": "a", "new_str": "b"},
                "tool_result": {"result_type": "success", "text_result_for_llm": "File updated"}}),
    );
    run_copilot(&p, "feedback-loop", &edit);
    let stop = event("copilotP-Stop-0", &json!({}));
    let first = run_copilot(&p, "feedback-loop", &stop);
    let second = run_copilot(&p, "output-location", &stop);
    assert_eq!(first["decision"], "block", "{first}");
    assert_eq!(second["decision"], "block", "{second}");
    // Copilot passes on the first hook's reason alone; output-location recorded its hold after it.
    let prompt = event(
        "copilotP-UserPromptSubmit-1",
        &json!({"prompt": first["reason"]}),
    );
    assert_eq!(run_copilot(&p, "iteration-limit", &prompt), Value::Null);
    assert!(
        is_deny_copilot(&same_call()),
        "the continuation did not reset the count"
    );
}

fn is_deny_copilot(v: &Value) -> bool {
    v["hookSpecificOutput"]["permissionDecision"] == "deny"
}
