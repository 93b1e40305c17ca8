//! Gemini re-fires `BeforeAgent` when a hook holds the turn, with the hold's reason as the prompt. The real
//! binaries, on Gemini's captured events: that continuation is not a prompt (iteration-limit's count of
//! repeated calls survives it), while a user's next prompt is one (the count starts over, and the main
//! thread's stop chain with it).

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
