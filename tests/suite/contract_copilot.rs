//! The Copilot contract: every answer a portcullis hook gives Copilot CLI means in Copilot what the hook
//! means ([`portcullis_testkit::copilot_contract`]): Copilot ignores what it does not read (a
//! `hookSpecificOutput.additionalContext`, a PreToolUse `decision`), and a `decision` on a prompt ends the
//! run, so this is what keeps a deny a deny, and a held turn a held turn, there. And a hook that cannot
//! decide never denies the user's call (Copilot denies on exit 1).

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_core::{Client, EventName};
use portcullis_suite::HOOKS;
use portcullis_testkit::copilot_contract::breaks;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

#[test]
fn every_verdict_renders_what_copilot_accepts_for_every_copilot_event() {
    let verdicts = crate::support::sample_verdicts(&json!("[REDACTED]"));
    let mut rendered = 0;
    for event in portcullis_core::client::COPILOT_EVENTS {
        // Copilot fires PostToolUse for a failed call too; that is the event it reads the answer of.
        let native = if *event == "PostToolUseFailure" {
            "PostToolUse"
        } else {
            event
        };
        for v in &verdicts {
            let Some(answer) = v.render_for(&EventName::parse(event), Client::Copilot) else {
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
    for event in ["SubagentStart", "PermissionRequest", "PreCompact"] {
        for v in &verdicts {
            assert_eq!(
                v.render_for(&EventName::parse(event), Client::Copilot),
                None,
                "{event}"
            );
        }
    }
    assert!(rendered >= 40, "only {rendered} answers rendered");
}

/// A token of the shape GitHub issues, in a command's output.
const SECRET: &str = "ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5";

/// A scratch project where the hooks have something to say: a Rust crate, a Copilot event log at 93% of
/// the window (compaction-gate), and a home away from the project (the jail).
struct Scratch {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    home: PathBuf,
    events: PathBuf,
}

const SESSION: &str = "contract-session";

impl Scratch {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("proj");
        let home = root.join("home");
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
        let events = home
            .join(".copilot/session-state")
            .join(SESSION)
            .join("events.jsonl");
        std::fs::create_dir_all(events.parent().unwrap()).unwrap();
        let lines = [
            json!({"type": "session.start", "data": {"sessionId": SESSION}, "timestamp": "2026-12-07T01:00:00.000Z"}),
            json!({"type": "session.usage_record", "data": {"usage": {"model": "claude-sonnet-4.5", "inputTokens": 186_000, "outputTokens": 100, "cacheReadTokens": 0, "cacheWriteTokens": 0}}, "timestamp": "2026-12-07T01:00:01.000Z"}),
            json!({"type": "assistant.message", "data": {"content": "All done."}, "timestamp": "2026-12-07T01:40:00.000Z"}),
        ];
        let text: String = lines
            .iter()
            .flat_map(|l| [l.to_string(), "\n".into()])
            .collect();
        std::fs::write(&events, text).unwrap();
        Self {
            _tmp: tmp,
            project,
            home,
            events,
        }
    }

    fn event(&self, capture: &str, changes: &Value) -> Value {
        portcullis_testkit::decide::captured_copilot(
            capture,
            &self.project,
            SESSION,
            &self.events,
            changes,
        )
    }

    /// A session as Copilot runs it, with events that give the hooks something to say.
    fn session(&self) -> Vec<Value> {
        let p = |rel: &str| self.project.join(rel).display().to_string();
        let result = |text: &str| json!({"result_type": "success", "text_result_for_llm": text});
        let s = self;
        vec![
            s.event("copilotP-SessionStart-0", &json!({})),
            s.event("copilotP-UserPromptSubmit-0", &json!({"prompt": "add a feature"})),
            s.event("copilotP-PreToolUse-0", &json!({"tool_name": "Agent", "tool_input": {"description": "d", "prompt": "do it", "agent_type": "general-purpose"}})),
            s.event("copilotP-PreToolUse-0", &json!({"tool_input": {"command": "echo leaked > ../outside.txt", "description": "x"}})),
            s.event("copilotP-PreToolUse-0", &json!({"tool_name": "Write", "tool_input": {"path": p("NOTES.md"), "file_text": "# notes\n"}})),
            s.event("copilot5-PostToolUse-0", &json!({"tool_name": "Write", "tool_input": {"path": p("NOTES.md"), "file_text": "# notes\n"},
                "tool_result": result(&format!("Created file {}", p("NOTES.md")))})),
            s.event("copilot5-PostToolUse-0", &json!({"tool_name": "Edit", "tool_input": {"path": p("src/lib.rs"), "old_str": "\n", "new_str": "pub fn f() {}\n"},
                "tool_result": result("File updated")})),
            s.event("copilot5-PostToolUse-0", &json!({"tool_input": {"command": "cat token.txt"}, "tool_result": result(&format!("token: {SECRET}\n<shellId: 0 completed with exit code 0>"))})),
            s.event("copilot5-PostToolUse-0", &json!({"tool_input": {"command": "cargo test"}, "tool_result": result(&format!("test result: FAILED. {SECRET}\n<shellId: 1 completed with exit code 101>"))})),
            s.event("copilotP-Stop-0", &json!({})),
            s.event("copilotP-UserPromptSubmit-1", &json!({})),
            s.event("copilotP-Stop-1", &json!({})),
            s.event("copilotP-SessionEnd-0", &json!({})),
        ]
    }

    fn run(&self, bin: &Path, event: &Value, extra: &[(&str, &str)]) -> std::process::Output {
        let mut env: Vec<(&str, &std::ffi::OsStr)> = vec![
            ("HOME", self.home.as_os_str()),
            ("TMPDIR", self.home.as_os_str()),
            ("CLAUDE_PROJECT_DIR", self.project.as_os_str()),
            ("COPILOT_PROJECT_DIR", self.project.as_os_str()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, std::ffi::OsStr::new(*v))));
        crate::support::run_as_client(bin, "copilot", &self.project, &env, event)
    }
}

#[test]
fn every_hook_answers_every_copilot_event_in_copilot_s_own_terms() {
    let s = Scratch::new();
    let mut spoke: Vec<(String, String, String)> = Vec::new();
    for event in &s.session() {
        let name = event["hook_event_name"].as_str().unwrap().to_owned();
        if event["tool_name"] == "Write" && name == "PostToolUse" {
            std::fs::write(s.project.join("NOTES.md"), "# notes\n").unwrap();
        }
        if event["tool_name"] == "Edit" {
            std::fs::write(s.project.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        }
        for hook in HOOKS {
            let regs = portcullis::registrations::registrations(hook, Client::Copilot);
            if !regs.iter().any(|r| r.event == name) {
                continue;
            }
            let out = s.run(&workspace_bin(hook.name), event, &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} on {name}: Copilot reads no other exit code as meant ({stderr})",
                hook.name
            );
            if out.stdout.is_empty() {
                continue;
            }
            let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "{} on {name}: stdout is not one JSON object ({e})",
                    hook.name
                )
            });
            let broken = breaks(&name, &answer);
            assert!(
                broken.is_empty(),
                "{} on {name}: {answer} breaks {broken:?}",
                hook.name
            );
            assert!(
                !answer.to_string().contains(SECRET),
                "{} on {name} repeated the secret",
                hook.name
            );
            let kind = answer["hookSpecificOutput"]["permissionDecision"]
                .as_str()
                .or(answer["decision"].as_str())
                .unwrap_or(if answer.get("additionalContext").is_some() {
                    "context"
                } else {
                    "message"
                });
            spoke.push((hook.name.to_owned(), name.clone(), kind.to_owned()));
        }
    }
    // The flow is built to make the hooks speak; if it stops doing so, this test proves nothing.
    for (hook, event, kind) in [
        ("compaction-gate", "UserPromptSubmit", "context"),
        ("compaction-gate", "PreToolUse", "deny"),
        ("workspace-guard", "PreToolUse", "deny"),
        ("secret-guard", "PostToolUse", "block"),
        ("feedback-loop", "Stop", "block"),
        ("output-location", "Stop", "block"),
    ] {
        assert!(
            spoke
                .iter()
                .any(|(h, e, k)| h == hook && e == event && k == kind),
            "{hook} gave no {kind} on {event}; answers: {spoke:?}"
        );
    }
}

/// A hook that cannot decide (here: a broken config) exits 0 with nothing on stdout in Copilot, which
/// denies a call whose hook exits 1, and 1 in Claude Code, which goes on.
#[test]
fn a_hook_that_cannot_decide_never_denies_in_copilot() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.project.join(".claude")).unwrap();
    std::fs::write(
        s.project.join(".claude/portcullis.json"),
        "{ \"workspace_guard\": ",
    )
    .unwrap();
    let event = s.event(
        "copilotP-PreToolUse-0",
        &json!({"tool_input": {"command": "echo leaked > ../outside.txt"}}),
    );
    let out = s.run(&workspace_bin("workspace-guard"), &event, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("portcullis workspace-guard:"));
    let mut as_claude = event.clone();
    as_claude.as_object_mut().unwrap().remove("timestamp");
    let mut cmd = Command::new(workspace_bin("workspace-guard"));
    cmd.current_dir(&s.project)
        .env("HOME", &s.home)
        .env("CLAUDE_PROJECT_DIR", &s.project);
    let claude =
        portcullis_testkit::run_with_stdin(&mut cmd, as_claude.to_string().as_bytes()).unwrap();
    assert_eq!(
        claude.status.code(),
        Some(1),
        "Claude Code's fail-open exit"
    );
}
