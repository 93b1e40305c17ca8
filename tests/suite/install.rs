//! `portcullis install`/`uninstall` on real settings files: foreign parts stay byte-identical, install is
//! idempotent, invalid JSON is refused and left untouched, `doctor` passes after install.

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::workspace_bin;

/// A settings file as a user might keep it: 4-space indent, foreign hooks on the same events, other keys.
const FOREIGN: &str = r#"{
    "permissions": {
        "allow": ["Bash(git status)"]
    },
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [
                    { "type": "command", "command": "/usr/local/bin/my-guard", "timeout": 5 }
                ]
            }
        ],
        "Stop": [
            {
                "hooks": [{ "type": "command", "command": "echo stop >> /tmp/log" }]
            }
        ]
    },
    "model": "sonnet"
}
"#;

fn portcullis(args: &[&str], project: &Path) -> std::process::Output {
    let bin = workspace_bin("portcullis");
    let bin_dir = bin.parent().unwrap().to_path_buf();
    Command::new(&bin)
        .args(args)
        .arg("--project")
        .arg(project)
        .args(if args[0] == "install" || args[0] == "doctor" {
            vec!["--bin-dir".into(), bin_dir]
        } else {
            vec![]
        })
        .env("HOME", project.join("home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("PORTCULLIS_STATE_DIR")
        .env_remove("CLAUDE_PROJECT_DIR")
        .output()
        .unwrap()
}

fn settings(project: &Path) -> String {
    std::fs::read_to_string(project.join(".claude/settings.json")).unwrap()
}

#[test]
fn round_trip_keeps_foreign_parts_byte_identical() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    std::fs::write(p.join(".claude/settings.json"), FOREIGN).unwrap();

    let out = portcullis(&["install"], p);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = settings(p);
    let v: serde_json::Value = serde_json::from_str(&installed).unwrap();
    // Foreign hooks are still first and untouched; ours were added after them.
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "/usr/local/bin/my-guard"
    );
    let ours = &v["hooks"]["PreToolUse"][1]["hooks"][0];
    assert!(Path::new(ours["command"].as_str().unwrap()).is_absolute());
    assert!(ours["command"].as_str().unwrap().ends_with("/agent-first"));
    assert_eq!(ours["args"], serde_json::json!([]));
    // Every foreign line is still there, verbatim.
    for line in FOREIGN.lines() {
        assert!(installed.contains(line), "lost foreign line {line:?}");
    }

    let again = portcullis(&["install"], p);
    assert!(again.status.success());
    assert_eq!(settings(p), installed, "a second install changed the file");

    let out = portcullis(&["uninstall"], p);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        settings(p),
        FOREIGN,
        "uninstall did not restore the original bytes"
    );
}

/// A settings file written on one line (as tools that minify JSON leave it): the second install must
/// not touch a byte, and uninstall must still restore the original.
#[test]
fn a_one_line_settings_file_is_byte_identical_after_a_second_install() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    let one_line = r#"{"permissions":{"allow":["Bash(ls)"]},"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"echo hi"}]}]}}"#;
    std::fs::write(p.join(".claude/settings.json"), one_line).unwrap();
    assert!(portcullis(&["install"], p).status.success());
    let installed = settings(p);
    assert!(portcullis(&["install"], p).status.success());
    assert_eq!(settings(p), installed, "a second install changed the file");
    assert!(portcullis(&["uninstall"], p).status.success());
    let restored: serde_json::Value = serde_json::from_str(&settings(p)).unwrap();
    assert_eq!(
        restored,
        serde_json::from_str::<serde_json::Value>(one_line).unwrap()
    );
}

#[test]
fn install_into_a_fresh_project_then_doctor_passes() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path();
    let out = portcullis(&["install", "--dry-run"], p);
    assert!(out.status.success());
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.lines()
            .any(|l| l.starts_with('+') && l.contains("/agent-first\"")),
        "dry run shows the diff: {diff}"
    );
    assert!(
        !p.join(".claude/settings.json").exists(),
        "dry run wrote the file"
    );

    assert!(portcullis(&["install"], p).status.success());
    let doctor = portcullis(&["doctor"], p);
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{report}");
    assert_eq!(
        report
            .lines()
            .filter(|l| l.starts_with("ok ") && !l.contains("advisor"))
            .count(),
        4,
        "{report}"
    );
    // The advisor line says whether the advisor programs (Claude Code's, Codex's, Gemini's, Copilot's) are there;
    // none is a note, not a failure.
    std::fs::write(
        p.join(".claude/portcullis.json"),
        r#"{"escalation_advisor": {"command": ["/nonexistent/claude"], "codex_command": ["/nonexistent/codex"], "gemini_command": ["/nonexistent/gemini"], "copilot_command": ["/nonexistent/copilot"]}}"#,
    )
    .unwrap();
    let doctor = portcullis(&["doctor"], p);
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{report}");
    assert!(
        report.contains(
            "note  advisor: `/nonexistent/claude` (`escalation_advisor.command`), `/nonexistent/codex` \
             (`escalation_advisor.codex_command`), `/nonexistent/gemini` (`escalation_advisor.gemini_command`) \
             and `/nonexistent/copilot` (`escalation_advisor.copilot_command`) not found"
        ),
        "{report}"
    );
    // One client's advisor is enough for an ok; the other's absence is said.
    std::fs::write(
        p.join(".claude/portcullis.json"),
        r#"{"escalation_advisor": {"command": ["sh", "-c", "echo hint"], "codex_command": ["/nonexistent/codex"]}}"#,
    )
    .unwrap();
    let report = String::from_utf8_lossy(&portcullis(&["doctor"], p).stdout).into_owned();
    assert!(report.contains("ok    advisor: `/"), "{report}");
    assert!(
        report.contains("(Claude Code); not found: `/nonexistent/codex`"),
        "{report}"
    );
    std::fs::remove_file(p.join(".claude/portcullis.json")).unwrap();

    assert!(portcullis(&["uninstall"], p).status.success());
    let doctor = portcullis(&["doctor"], p);
    assert!(
        !doctor.status.success(),
        "doctor passed with nothing registered"
    );
    assert!(String::from_utf8_lossy(&doctor.stdout).contains("FAIL  settings"));
}

#[test]
fn invalid_settings_are_refused_and_untouched() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    let broken = "{ \"hooks\": { \"PreToolUse\": [ }\n";
    std::fs::write(p.join(".claude/settings.json"), broken).unwrap();
    for cmd in ["install", "uninstall"] {
        let out = portcullis(&[cmd], p);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not valid JSON") && err.contains("settings.json"),
            "{err}"
        );
        assert_eq!(settings(p), broken);
    }
}

#[test]
fn doctor_reports_a_bad_config_with_its_key() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path();
    assert!(portcullis(&["install"], p).status.success());
    std::fs::write(
        p.join(".claude/portcullis.json"),
        r#"{"agent_first": {"shell_write": false}}"#,
    )
    .unwrap();
    let out = portcullis(&["doctor"], p);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        report.contains("FAIL  config")
            && report.contains("did you mean `agent_first.shell_writes`"),
        "{report}"
    );
}

#[test]
// One story from start to end (explain, the same event live, then the log of it): split, each part would
// set the project up again.
#[allow(clippy::too_many_lines)]
fn explain_runs_the_installed_hooks_and_log_shows_the_verdict() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".claude/agents")).unwrap();
    std::fs::write(
        p.join(".claude/agents/backend-developer.md"),
        "---\nname: backend-developer\n---\n",
    )
    .unwrap();
    assert!(portcullis(&["install"], &p).status.success());
    let event = format!(
        r#"{{"session_id":"sess-explain","transcript_path":"/x.jsonl","cwd":"{d}","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{{"file_path":"{d}/api/x.go","content":"x"}},"tool_use_id":"t1"}}"#,
        d = p.display()
    );
    // A live state folder with a counter in it, and a claim: explain must leave both as they are.
    let state = p.join(".claude/portcullis");
    std::fs::create_dir_all(state.join("sessions/sess-explain")).unwrap();
    std::fs::write(state.join("log.jsonl"), "").unwrap();
    std::fs::write(
        state.join("sessions/sess-explain/attempts.json"),
        r#"{"schema_version":1,"state":{}}"#,
    )
    .unwrap();
    let snapshot = |dir: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push((e.path(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        out.sort();
        out
    };
    let before = (snapshot(&state), snapshot(&p.join(".claude/locks")));
    let mut child = Command::new(workspace_bin("portcullis"))
        .args(["explain", "--project"])
        .arg(&p)
        .env("HOME", p.join("home"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), event.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PreToolUse Write: 3 portcullis hook(s) match"),
        "{text}"
    );
    assert!(
        text.contains("agent-first") && text.contains("deny") && text.contains("backend-developer"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("overall: deny"), "{text}");
    // Issue 36, item 4: explain changed no live state (no log line, no count, no claim).
    assert!(
        before == (snapshot(&state), snapshot(&p.join(".claude/locks"))),
        "explain changed the live state or claims"
    );
    // The same event through the installed hook itself is logged, as a real call is.
    let mut hook = Command::new(workspace_bin("agent-first"))
        .current_dir(&p)
        .env("CLAUDE_PROJECT_DIR", &p)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut hook.stdin.take().unwrap(), event.as_bytes()).unwrap();
    assert!(hook.wait_with_output().unwrap().status.success());

    // A tool no portcullis hook registers for (Read is workspace-guard's, for `jail_reads`).
    let read = event.replace("\"Write\"", "\"TodoWrite\"");
    let mut child = Command::new(workspace_bin("portcullis"))
        .args(["explain", "--project"])
        .arg(&p)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), read.as_bytes()).unwrap();
    let text = String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned();
    assert!(
        text.contains("no installed portcullis hook matches"),
        "{text}"
    );

    let log = portcullis(&["log", "--blocked", "--session", "sess-exp"], &p);
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(log.status.success());
    // One entry: its header line, then its reason wrapped between words under it (issue 36, item 8).
    let headers: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(headers.len(), 1, "{text}");
    assert!(
        headers[0].contains("agent-first")
            && headers[0].contains("PreToolUse Write")
            && headers[0].contains("deny"),
        "{text}"
    );
    assert!(
        text.contains("backend-developer"),
        "the reason is shown: {text}"
    );
    let full = portcullis(&["log", "--blocked", "--full"], &p);
    let full_text = String::from_utf8_lossy(&full.stdout);
    assert!(
        full_text.contains("`agent_first`, `domains`.)"),
        "--full shows the whole reason: {full_text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.starts_with(' '))
            .all(|l| l.chars().count() <= 100),
        "reasons wrapped, not cut or run on: {text}"
    );
    // A misspelt hook is refused with the nearest name, not answered with "no decisions logged".
    let typo = portcullis(&["log", "--hook", "agent-frist"], &p);
    assert_eq!(typo.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("did you mean `agent-first`"),
        "{typo:?}"
    );
}

/// Issue 36, item 7: `install --local` registers in `.claude/settings.local.json`; the committed
/// `settings.json` names the hooks by their bare names when this machine finds those very binaries on
/// PATH (so the file works on a teammate's machine), and by path, with a note, when it does not.
#[test]
fn settings_a_team_can_commit_and_a_local_install() {
    let bin = workspace_bin("portcullis");
    let bin_dir = bin.parent().unwrap().to_path_buf();
    let run = |project: &Path, args: &[&str], path: &std::ffi::OsStr| {
        let bin_args: Vec<&std::ffi::OsStr> = if args[0] == "install" {
            vec!["--bin-dir".as_ref(), bin_dir.as_os_str()]
        } else {
            vec![]
        };
        Command::new(&bin)
            .args(args)
            .arg("--project")
            .arg(project)
            .args(bin_args)
            .env("HOME", project.join("home"))
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    let with_bins = std::env::join_paths(
        std::iter::once(bin_dir.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = run(&p, &["install"], &with_bins);
    assert!(out.status.success(), "{out:?}");
    let shared = std::fs::read_to_string(p.join(".claude/settings.json")).unwrap();
    assert!(
        shared.contains("\"command\": \"agent-first\""),
        "bare names: {shared}"
    );
    assert!(!shared.contains(&bin_dir.display().to_string()), "{shared}");

    let q = tempfile::tempdir().unwrap();
    let q = q.path().canonicalize().unwrap();
    let out = run(&q, &["install"], std::ffi::OsStr::new("/usr/bin:/bin"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--local"),
        "the note names the alternative: {text}"
    );
    let out = run(
        &q,
        &["install", "--local"],
        std::ffi::OsStr::new("/usr/bin:/bin"),
    );
    assert!(out.status.success(), "{out:?}");
    let local = std::fs::read_to_string(q.join(".claude/settings.local.json")).unwrap();
    assert!(
        local.contains(&bin_dir.join("agent-first").display().to_string()),
        "{local}"
    );
    let out = run(
        &q,
        &["uninstall", "--local"],
        std::ffi::OsStr::new("/usr/bin:/bin"),
    );
    assert!(out.status.success(), "{out:?}");
    let local = std::fs::read_to_string(q.join(".claude/settings.local.json")).unwrap();
    assert!(!local.contains("agent-first"), "{local}");
}

/// Issue 36, item 5: doctor tells the truth. A summary line comes first; a gate that would enforce nothing
/// (no developer agent, no reviewer) is a warning that says why and where it looked; a test command that
/// cannot compile is a failure; `--json` gives every check with its status.
#[test]
fn doctor_says_what_will_and_will_not_be_enforced() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".git")).unwrap();
    let doctor = portcullis(&["doctor"], &p);
    let text = String::from_utf8_lossy(&doctor.stdout);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "doctor: 0 of {} hooks registered",
            portcullis_suite::HOOKS.len()
        )),
        "{text}"
    );
    assert!(first.contains("portcullis install"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("warn  agent-first: enforces nothing")
                && l.contains(".claude/agents")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("warn  feedback-loop: no review is required")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("warn  handoff-router: asks no subagent for a status")),
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.len() < 600),
        "no line runs on: {text}"
    );

    assert!(portcullis(&["install"], &p).status.success());
    for a in ["backend-developer", "code-reviewer", "test-runner"] {
        std::fs::create_dir_all(p.join(".claude/agents")).unwrap();
        std::fs::write(
            p.join(format!(".claude/agents/{a}.md")),
            format!("---\nname: {a}\ndescription: {a}\n---\n"),
        )
        .unwrap();
    }
    std::fs::write(
        p.join(".claude/portcullis.json"),
        r#"{"feedback_loop": {"test_commands": [{"pattern": "(unclosed"}]}}"#,
    )
    .unwrap();
    let doctor = portcullis(&["doctor", "--json"], &p);
    assert_eq!(doctor.status.code(), Some(1), "a bad test command fails");
    let v: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert!(
        v["summary"].as_str().unwrap().starts_with(&format!(
            "{n} of {n} hooks registered",
            n = portcullis_suite::HOOKS.len()
        )),
        "{v}"
    );
    let checks = v["checks"].as_array().unwrap();
    let find = |name: &str, status: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name && c["status"] == status)
            .map(|c| c["message"].as_str().unwrap().to_owned())
    };
    assert!(
        find("agent-first", "ok")
            .unwrap()
            .contains("backend-developer"),
        "{v}"
    );
    assert!(
        find("feedback-loop", "ok").is_some_and(|m| m.contains("code-reviewer")),
        "{v}"
    );
    assert!(
        find("handoff-router", "ok").is_some_and(|m| m.contains("backend-developer")
            && m.contains("test-runner")
            && m.contains("default table")),
        "{v}"
    );
    assert!(
        find("feedback-loop", "fail")
            .unwrap()
            .contains("test_commands[0]"),
        "{v}"
    );
    for c in checks {
        assert!(
            ["ok", "note", "warn", "fail"].contains(&c["status"].as_str().unwrap()),
            "{c}"
        );
    }
}
