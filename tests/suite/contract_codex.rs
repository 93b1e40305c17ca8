//! The Codex contract: every answer a portcullis hook gives Codex validates against Codex's own output
//! schema for that event (read out of the pinned 0.169.0 binary) and passes its output parser's extra
//! rules. A field Codex does not know makes it ignore the whole answer and let the action run, so this is
//! what keeps a deny a deny in Codex.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use portcullis_core::{Client, EventName, Verdict};
use portcullis_suite::HOOKS;
use portcullis_testkit::codex_contract::{
    embedded_schemas, output_title, parser_refusals, unknown_keywords, validate,
};
use portcullis_testkit::e2e_codex::codex_or_skip;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

/// The schemas (read once per test binary: the client is 290 MB), or `None` when the client is skipped
/// locally.
fn schemas() -> Option<&'static std::collections::BTreeMap<String, Value>> {
    static SCHEMAS: std::sync::OnceLock<Option<std::collections::BTreeMap<String, Value>>> =
        std::sync::OnceLock::new();
    SCHEMAS
        .get_or_init(|| {
            let codex = codex_or_skip()?;
            Some(embedded_schemas(&codex).unwrap_or_else(|e| panic!("{e}")))
        })
        .as_ref()
}

/// Every way `answer` (to `event`) breaks Codex's contract; an event without an output schema takes no
/// answer at all.
fn breaks(
    schemas: &std::collections::BTreeMap<String, Value>,
    event: &str,
    answer: &Value,
) -> Vec<String> {
    let Some(schema) = schemas.get(&output_title(event)) else {
        return vec![format!(
            "{event} has no output schema in Codex, so it takes no answer"
        )];
    };
    let mut all = validate(schema, answer);
    all.extend(parser_refusals(event, answer));
    all
}

#[test]
fn codex_schemas_use_only_what_the_validator_checks() {
    let Some(schemas) = schemas() else { return };
    for event in portcullis_core::client::CODEX_EVENTS {
        let title = output_title(event);
        if *event == "SessionEnd" {
            assert!(
                !schemas.contains_key(&title),
                "SessionEnd gained an output schema"
            );
            continue;
        }
        let schema = schemas
            .get(&title)
            .unwrap_or_else(|| panic!("no schema {title}"));
        assert_eq!(unknown_keywords(schema), Vec::<String>::new(), "{title}");
        assert_eq!(
            schema["additionalProperties"], false,
            "{title}: Codex is strict"
        );
    }
}

#[test]
fn every_verdict_renders_what_codex_accepts_for_every_codex_event() {
    let Some(schemas) = schemas() else { return };
    let verdicts = [
        Verdict::deny("d"),
        Verdict::deny(""),
        Verdict::ask("a"),
        Verdict::block("b").with_context("c").with_user_message("u"),
        Verdict::allow().with_context("c"),
        Verdict::allow().with_user_message("u"),
        Verdict::allow().with_updated_input(json!({"command": "ls"})),
        Verdict::allow().with_updated_tool_output(json!({"stdout": "[REDACTED]", "stderr": "e"})),
        Verdict::allow()
            .with_updated_tool_output(json!("[REDACTED]\n"))
            .with_context("c"),
        Verdict::deny("d").with_updated_input(json!({"command": "ls"})),
    ];
    let mut rendered = 0;
    for event in portcullis_core::client::CODEX_EVENTS {
        let name = EventName::parse(event);
        for v in &verdicts {
            let Some(answer) = v.render_for(&name, Client::Codex) else {
                continue;
            };
            rendered += 1;
            let broken = breaks(schemas, event, &answer);
            assert!(
                broken.is_empty(),
                "{event}: {answer} breaks {broken:?} ({v:?})"
            );
        }
    }
    // Claude-only events get no answer from a Codex hook at all.
    for event in [
        "PostToolUseFailure",
        "Notification",
        "TaskCreated",
        "SessionEnd",
    ] {
        for v in &verdicts {
            assert_eq!(
                v.render_for(&EventName::parse(event), Client::Codex),
                None,
                "{event}"
            );
        }
    }
    assert!(rendered >= 50, "only {rendered} answers rendered");
}

/// A token of the shape GitHub issues, in a command's output.
const SECRET: &str = "ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5";

/// A scratch project where the hooks have something to say: a Rust crate (feedback-loop's tests apply),
/// a rollout at 93% of its window (compaction-gate), and a temp folder away from the project (the jail).
struct Scratch {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    elsewhere: PathBuf,
    rollout: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("proj");
        let elsewhere = root.join("tmp");
        std::fs::create_dir_all(project.join("src")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
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
        let rollout = root.join("rollout-2026-12-01T11-18-53-s.jsonl");
        let lines = [
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "task_started", "model_context_window": 258_400}}),
            json!({"timestamp": "t", "type": "token_usage_record", "payload": {"usage": {"input_tokens": 240_000, "output_tokens": 20, "total_tokens": 240_020}}}),
        ];
        let text: String = lines
            .iter()
            .flat_map(|l| [l.to_string(), "\n".into()])
            .collect();
        std::fs::write(&rollout, text).unwrap();
        Self {
            _tmp: tmp,
            project,
            elsewhere,
            rollout,
        }
    }

    /// A captured Codex event moved into this project, with `changes` applied on top.
    fn event(&self, capture: &str, changes: &Value) -> Value {
        portcullis_testkit::decide::captured_codex(
            capture,
            &self.project,
            "contract-session",
            &self.rollout,
            changes,
        )
    }

    /// A session as Codex runs it, with events that give the hooks something to say: a spawn at 93%
    /// context, a command writing outside the project, a patch adding a stray `NOTES.md` and Rust code, a
    /// command output holding a token, and the stops after it.
    fn session(&self) -> Vec<Value> {
        let notes_patch = "*** Begin Patch\n*** Add File: NOTES.md\n+# notes\n*** Add File: src/new.rs\n+pub fn f() {}\n*** End Patch\n";
        let s = self;
        vec![
            s.event("SessionStart-startup", &json!({})),
            s.event("UserPromptSubmit", &json!({})),
            s.event("PreToolUse-spawn_agent", &json!({})),
            s.event(
                "PreToolUse-Bash",
                &json!({"tool_input": {"command": "echo leaked > ../outside.txt"}}),
            ),
            s.event(
                "PreToolUse-apply_patch",
                &json!({"tool_input": {"command": notes_patch}}),
            ),
            s.event(
                "PostToolUse-apply_patch",
                &json!({"tool_input": {"command": notes_patch}}),
            ),
            s.event(
                "PostToolUse-Bash",
                &json!({"tool_response": format!("token: {SECRET}\n")}),
            ),
            s.event("PostToolUse-Bash-failed", &json!({})),
            s.event("PostToolUse-spawn_agent", &json!({})),
            s.event("PermissionRequest-Bash", &json!({})),
            s.event("PreToolUse-Bash-subagent", &json!({})),
            s.event("SubagentStart", &json!({})),
            s.event("SubagentStop", &json!({})),
            s.event("Stop", &json!({})),
            s.event("Stop-active", &json!({})),
            s.event("PreCompact-auto", &json!({})),
            s.event("PostCompact-auto", &json!({})),
            s.event("SessionStart-compact", &json!({})),
            s.event("SessionStart-resume", &json!({})),
            s.event("Interrupt", &json!({})),
            s.event("SessionEnd", &json!({})),
        ]
    }

    fn run(&self, bin: &Path, event: &Value) -> std::process::Output {
        let mut child = Command::new(bin)
            .args(["--client", "codex"])
            .current_dir(&self.project)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.elsewhere)
            .env("TMPDIR", &self.elsewhere)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Codex writes the event without a trailing newline.
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(event.to_string().as_bytes());
        child.wait_with_output().unwrap()
    }
}

#[test]
fn every_hook_answers_every_codex_event_in_codex_s_own_terms() {
    let Some(schemas) = schemas() else { return };
    let s = Scratch::new();
    let flow = s.session();
    let mut spoke: Vec<(String, String, String)> = Vec::new();
    for event in &flow {
        let name = event["hook_event_name"].as_str().unwrap();
        if name == "PostToolUse" && event["tool_name"] == "apply_patch" {
            // What the patch writes, as Codex applies it before PostToolUse.
            std::fs::write(s.project.join("NOTES.md"), "# notes\n").unwrap();
            std::fs::write(s.project.join("src/new.rs"), "pub fn f() {}\n").unwrap();
        }
        for hook in HOOKS {
            if !hook
                .registrations_for(Client::Codex)
                .any(|r| r.event == name)
            {
                continue;
            }
            let out = s.run(&workspace_bin(hook.name), event);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(out.status.code(), Some(0 | 2)),
                "{} on {name}: exit {:?} ({stderr})",
                hook.name,
                out.status.code()
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
            let broken = breaks(schemas, name, &answer);
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
                .unwrap_or(
                    if answer["hookSpecificOutput"]
                        .get("additionalContext")
                        .is_some()
                    {
                        "context"
                    } else {
                        "message"
                    },
                );
            spoke.push((hook.name.to_owned(), name.to_owned(), kind.to_owned()));
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
