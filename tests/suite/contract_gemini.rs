//! The Gemini contract: every answer a portcullis hook gives Gemini CLI means in Gemini what the hook
//! means ([`portcullis_testkit::gemini_contract`]): Gemini reads any JSON, and ignores what it does not
//! know (a Claude-style `permissionDecision` deny runs the tool), so this is what keeps a deny a deny there.

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_core::{Client, EventName};
use portcullis_suite::HOOKS;
use portcullis_testkit::gemini_contract::breaks;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

#[test]
fn every_verdict_renders_what_gemini_accepts_for_every_gemini_event() {
    let verdicts =
        crate::support::sample_verdicts(&json!({"llmContent": "[REDACTED]", "returnDisplay": "x"}));
    let mut rendered = 0;
    for event in portcullis_core::client::GEMINI_EVENTS {
        let native = portcullis_core::gemini::native_event(event).unwrap();
        for v in &verdicts {
            let Some(answer) = v.render_for(&EventName::parse(event), Client::Gemini) else {
                continue;
            };
            rendered += 1;
            let broken = breaks(native, &answer);
            assert!(
                broken.is_empty(),
                "{event}: {answer} breaks {broken:?} ({v:?})"
            );
        }
    }
    for event in ["SubagentStop", "PermissionRequest", "TaskCreated"] {
        for v in &verdicts {
            assert_eq!(
                v.render_for(&EventName::parse(event), Client::Gemini),
                None,
                "{event}"
            );
        }
    }
    assert!(rendered >= 40, "only {rendered} answers rendered");
}

/// A token of the shape GitHub issues, in a command's output.
const SECRET: &str = "ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5";

/// A scratch project where the hooks have something to say: a Rust crate, a Gemini session file at 93% of
/// the window (compaction-gate), and a home away from the project (the jail).
struct Scratch {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    elsewhere: PathBuf,
    session_file: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("proj");
        let elsewhere = root.join("home");
        std::fs::create_dir_all(project.join("src")).unwrap();
        std::fs::write(
            project.join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        std::fs::write(project.join("src/lib.rs"), "\n").unwrap();
        Command::new("git")
            .args(["init", "-q"])
            .current_dir(&project)
            .status()
            .unwrap();
        let chats = elsewhere.join(".gemini/tmp/proj/chats");
        std::fs::create_dir_all(&chats).unwrap();
        let session_file = chats.join("session-2026-12-07T01-37-contract.jsonl");
        let lines = [
            json!({"sessionId": "contract-session", "kind": "main"}),
            json!({"id": "1", "type": "gemini", "content": "working", "model": "gemini-2.5-pro",
                   "tokens": {"input": 975_000, "output": 100, "cached": 0, "thoughts": 0, "tool": 0, "total": 975_100}}),
        ];
        let text: String = lines
            .iter()
            .flat_map(|l| [l.to_string(), "\n".into()])
            .collect();
        std::fs::write(&session_file, text).unwrap();
        Self {
            _tmp: tmp,
            project,
            elsewhere,
            session_file,
        }
    }

    fn event(&self, capture: &str, changes: &Value) -> Value {
        portcullis_testkit::decide::captured_gemini(
            capture,
            &self.project,
            "contract-session",
            &self.session_file,
            changes,
        )
    }

    /// A session as Gemini runs it, with events that give the hooks something to say.
    fn session(&self) -> Vec<Value> {
        let p = |rel: &str| self.project.join(rel).display().to_string();
        let shell = |command: &str, output: &str| {
            json!({"tool_name": "run_shell_command", "tool_input": {"command": command},
                   "tool_response": {"llmContent": format!("<untrusted_context>\nOutput: {output}\n</untrusted_context>"), "returnDisplay": output}})
        };
        let s = self;
        vec![
            s.event("gemini-SessionStart-0", &json!({})),
            s.event("gemini-BeforeAgent-0", &json!({"prompt": "add a feature"})),
            s.event("gemini-BeforeTool-0", &json!({"tool_name": "invoke_agent", "tool_input": {"agent_name": "generalist", "prompt": "do it"}})),
            s.event("gemini-BeforeTool-0", &json!({"tool_input": {"command": "echo leaked > ../outside.txt"}})),
            s.event("gemini-BeforeTool-0", &json!({"tool_name": "write_file", "tool_input": {"file_path": p("NOTES.md"), "content": "# notes\n"}})),
            s.event("gemini6-AfterTool-0", &json!({"tool_name": "write_file", "tool_input": {"file_path": p("NOTES.md"), "content": "# notes\n"},
                "tool_response": {"llmContent": format!("Successfully created and wrote to new file: {}.", p("NOTES.md")), "returnDisplay": ""}})),
            s.event("gemini6-AfterTool-0", &json!({"tool_name": "replace", "tool_input": {"file_path": p("src/lib.rs"), "old_string": "\n", "new_string": "pub fn f() {}\n"},
                "tool_response": {"llmContent": format!("Successfully modified file: {} (1 replacements).", p("src/lib.rs")), "returnDisplay": ""}})),
            s.event("gemini6-AfterTool-0", &shell("cat token.txt", &format!("token: {SECRET}"))),
            s.event("gemini6-AfterTool-0", &shell("false", "\nExit Code: 1")),
            s.event("gemini6-AfterTool-0", &shell("cargo test", &format!("test result: FAILED. {SECRET}\nExit Code: 101"))),
            s.event("gemini2-AfterAgent-0", &json!({"prompt_response": "All done."})),
            s.event("gemini2-AfterAgent-1", &json!({"prompt_response": "All done.\nReally done."})),
            s.event("gemini-SessionEnd-0", &json!({})),
        ]
    }

    fn run(&self, bin: &Path, event: &Value) -> std::process::Output {
        let env: [(&str, &std::ffi::OsStr); 4] = [
            ("HOME", self.elsewhere.as_os_str()),
            ("TMPDIR", self.elsewhere.as_os_str()),
            ("GEMINI_PROJECT_DIR", self.project.as_os_str()),
            ("CLAUDE_PROJECT_DIR", self.project.as_os_str()),
        ];
        crate::support::run_as_client(bin, "gemini", &self.project, &env, event)
    }
}

#[test]
fn every_hook_answers_every_gemini_event_in_gemini_s_own_terms() {
    let s = Scratch::new();
    let mut spoke: Vec<(String, String, String)> = Vec::new();
    for event in &s.session() {
        let native = event["hook_event_name"].as_str().unwrap().to_owned();
        if event["tool_name"] == "write_file" && native == "AfterTool" {
            std::fs::write(s.project.join("NOTES.md"), "# notes\n").unwrap();
        }
        if event["tool_name"] == "replace" {
            std::fs::write(s.project.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        }
        for hook in HOOKS {
            if !portcullis::registrations::registrations(hook, Client::Gemini)
                .iter()
                .any(|r| r.event == native)
            {
                continue;
            }
            let out = s.run(&workspace_bin(hook.name), event);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(out.status.code(), Some(0 | 2)),
                "{} on {native}: exit {:?} ({stderr})",
                hook.name,
                out.status.code()
            );
            if out.status.code() == Some(2) {
                assert!(
                    !stderr.trim().is_empty(),
                    "{}: exit 2 with no reason fails open in Gemini",
                    hook.name
                );
            }
            if out.stdout.is_empty() {
                continue;
            }
            let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "{} on {native}: stdout is not one JSON object ({e})",
                    hook.name
                )
            });
            let broken = breaks(&native, &answer);
            assert!(
                broken.is_empty(),
                "{} on {native}: {answer} breaks {broken:?}",
                hook.name
            );
            assert!(
                !answer.to_string().contains(SECRET),
                "{} on {native} repeated the secret",
                hook.name
            );
            let kind = answer["decision"].as_str().unwrap_or(
                if answer["hookSpecificOutput"]
                    .get("additionalContext")
                    .is_some()
                {
                    "context"
                } else {
                    "message"
                },
            );
            spoke.push((hook.name.to_owned(), native.clone(), kind.to_owned()));
        }
    }
    // The flow is built to make the hooks speak; if it stops doing so, this test proves nothing.
    for (hook, event, kind) in [
        ("compaction-gate", "BeforeAgent", "context"),
        ("compaction-gate", "BeforeTool", "deny"),
        ("workspace-guard", "BeforeTool", "deny"),
        ("secret-guard", "AfterTool", "deny"),
        ("feedback-loop", "AfterAgent", "block"),
        ("output-location", "AfterAgent", "block"),
    ] {
        assert!(
            spoke
                .iter()
                .any(|(h, e, k)| h == hook && e == event && k == kind),
            "{hook} gave no {kind} on {event}; answers: {spoke:?}"
        );
    }
}
