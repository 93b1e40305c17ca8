//! The suite's own files (decision log, state, locks) cannot be used to hang a hook or to make it write
//! outside the project: a FIFO, a symlink or a symlinked session folder planted there is set aside or
//! refused, within the deadline, and every hook still decides. Each registered hook runs on its main
//! event (its first registration), so a new hook is covered without an edit here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use portcullis_core::child;
use portcullis_suite::HOOKS;
use portcullis_testkit::decide::captured;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

/// Far inside the client's 10 s timeout; a hang would run to it.
const WATCHDOG: Duration = Duration::from_secs(8);

/// The names of the state files the hooks keep, each with its `.lock`.
const STATE: &[&str] = &[
    "stop-chains",
    "feedback-loop",
    "output-location",
    "output-location-writes",
    "loop-detect",
    "attempts",
    "promise-loop",
    "escalation",
];

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("project");
    let outside = base.join("outside");
    std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        root.join(".claude/agents/backend-developer.md"),
        "---\nname: backend-developer\n---\n",
    )
    .unwrap();
    Setup {
        _dir: dir,
        root,
        outside,
    }
}

/// The hook's main event, re-pointed at the project.
fn home_event(root: &Path, hook: &str) -> Vec<u8> {
    let spec = portcullis_suite::hook(hook).unwrap();
    let reg = spec.registrations[0];
    let name = match reg.event {
        "PreToolUse"
            if reg.matcher.is_some_and(|m| m.contains("Agent"))
                && !reg.matcher.unwrap().contains("Bash") =>
        {
            "PreToolUse-Agent"
        }
        "PreToolUse" => "PreToolUse-Bash",
        "PostToolUse" => "PostToolUse-Write",
        "SessionStart" => "SessionStart-startup",
        other => other,
    };
    let mut changes = json!({"prompt_id": "p", "stop_hook_active": true});
    if name.ends_with("Write") {
        changes["tool_input"] = json!({"file_path": root.join("api/x.go"), "content": "x"});
    }
    if name.ends_with("Bash") {
        changes["tool_input"] = json!({"command": "echo hi > api/x.go"});
    }
    captured(name, root, "own", &changes)
        .to_string()
        .into_bytes()
}

/// Runs `hook` on its main event; returns (exit code, stdout, stderr) and fails on a hang.
fn run(s: &Setup, hook: &str) -> (Option<i32>, String, String) {
    run_on(s, hook, &home_event(&s.root, hook))
}

/// Runs `hook` on `event` in the project; fails on a hang.
fn run_on(s: &Setup, hook: &str, event: &[u8]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(workspace_bin(hook));
    cmd.current_dir(&s.root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", s.root.join("no-home"))
        .env("CLAUDE_PROJECT_DIR", &s.root);
    let out = child::run(cmd, event, WATCHDOG, 1 << 20).unwrap();
    assert!(!out.timed_out, "{hook} hung");
    (
        out.code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn state(s: &Setup) -> PathBuf {
    s.root.join(".claude/portcullis")
}

fn session(s: &Setup) -> PathBuf {
    state(s).join("sessions/own")
}

/// Fails when anything appeared in the folder outside the project.
fn assert_nothing_outside(s: &Setup, hook: &str) {
    let written: Vec<_> = std::fs::read_dir(&s.outside)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        written.is_empty(),
        "{hook}: wrote outside the project: {written:?}"
    );
}

fn assert_decides(hook: &str, (code, stdout, stderr): &(Option<i32>, String, String)) {
    assert_eq!(*code, Some(0), "{hook}: {stderr}");
    assert!(
        stdout.is_empty() || serde_json::from_str::<Value>(stdout).is_ok_and(|v| v.is_object()),
        "{hook}: {stdout}"
    );
    assert!(stderr.lines().count() <= 1, "{hook}: {stderr}");
}

#[test]
fn fifos_at_the_log_state_and_locks_hang_nothing() {
    for hook in HOOKS {
        let s = setup();
        portcullis_testkit::mkfifo(&state(&s).join("log.jsonl"));
        for name in STATE {
            portcullis_testkit::mkfifo(&session(&s).join(format!("{name}.lock")));
            portcullis_testkit::mkfifo(&session(&s).join(format!("{name}.json")));
        }
        let out = run(&s, hook.name);
        assert_decides(hook.name, &out);
    }
}

#[test]
fn symlinks_at_the_log_state_and_locks_write_nothing_outside() {
    for hook in HOOKS {
        let s = setup();
        let target = |n: &str| s.outside.join(n);
        std::fs::create_dir_all(session(&s)).unwrap();
        std::os::unix::fs::symlink(target("log"), state(&s).join("log.jsonl")).unwrap();
        for name in STATE {
            for ext in ["lock", "json"] {
                std::os::unix::fs::symlink(
                    target(&format!("{name}.{ext}")),
                    session(&s).join(format!("{name}.{ext}")),
                )
                .unwrap();
            }
        }
        let out = run(&s, hook.name);
        assert_decides(hook.name, &out);
        assert_nothing_outside(&s, hook.name);
    }
}

#[test]
fn a_symlinked_session_folder_is_never_written_through() {
    for hook in HOOKS {
        let s = setup();
        std::fs::create_dir_all(state(&s).join("sessions")).unwrap();
        std::os::unix::fs::symlink(&s.outside, session(&s)).unwrap();
        let out = run(&s, hook.name);
        assert!(!out.1.contains("panicked"), "{}: {out:?}", hook.name);
        assert_nothing_outside(&s, hook.name);
    }
}

/// A link in an agent folder to the root of the file system is not walked (it made every domain check
/// walk `/`, seconds and ~1,300 log lines per call): every hook decides, the agent beside the link is
/// still found, and the decision log holds at most one line about skipped agent files per run.
#[test]
fn a_link_to_the_root_in_an_agent_folder_is_not_walked() {
    let s = setup();
    std::os::unix::fs::symlink("/", s.root.join(".claude/agents/everything")).unwrap();
    // A linked agent file (agents kept in a dotfiles repository) is still read.
    std::fs::write(
        s.outside.join("frontend-developer.md"),
        "---\nname: frontend-developer\n---\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        s.outside.join("frontend-developer.md"),
        s.root.join(".claude/agents/frontend-developer.md"),
    )
    .unwrap();
    for hook in HOOKS {
        let out = run(&s, hook.name);
        assert_decides(hook.name, &out);
    }
    let (_, stdout, _) = run(&s, "agent-first");
    assert!(
        stdout.contains("backend-developer"),
        "the agent beside the link still gets its domain: {stdout}"
    );
    let log = std::fs::read_to_string(state(&s).join("log.jsonl")).unwrap_or_default();
    let skipped_lines = log.lines().filter(|l| l.contains("skipped")).count();
    assert!(
        skipped_lines <= HOOKS.len() + 1,
        "{skipped_lines} log lines about skipped agent files"
    );
    let catalog = portcullis_domains::AgentCatalog::discover(&s.root, None);
    assert!(
        catalog.find("frontend-developer").is_some(),
        "a linked agent file is read"
    );
}

/// A Write to a path of hundreds of thousands of components (one canonicalize per ancestor took 8-27 s)
/// is decided well inside the client's timeout: past `PATH_MAX` the path is taken as written.
#[test]
fn a_path_of_300_000_components_is_decided_in_time() {
    let s = setup();
    let long = "d/".repeat(300_000) + "x.go";
    let event = captured(
        "PreToolUse-Write",
        &s.root,
        "own",
        &json!({"tool_input": {"file_path": s.root.join(long), "content": "x"}}),
    );
    for hook in ["agent-first", "feedback-loop", "output-location"] {
        let out = run_on(&s, hook, event.to_string().as_bytes());
        assert_eq!(out.0, Some(0), "{hook}");
    }
}

/// Every file below `dir`, as paths relative to it.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    walkdir_like(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
        .collect()
}

fn walkdir_like(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walkdir_like(&p));
        }
    }
    out
}

/// A hook run on an event whose `cwd` is gone, or with no `cwd` at all from a folder that is no project (a
/// run by hand from `/tmp`), makes no `.claude/` anywhere: neither the missing folder nor its own working
/// folder becomes a project (issue 35, item 25: a stray `/tmp/.claude` then made every temp project below
/// it take `/tmp` for its root).
#[test]
fn no_hook_makes_a_project_of_a_missing_cwd_or_its_own_folder() {
    for hook in HOOKS {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().canonicalize().unwrap();
        let gone = here.join("gone/project");
        let name = crate::support::home_event(hook.name);
        for cwd in [Some(gone.clone()), None] {
            let mut e = captured(&name, &gone, "no-project", &json!({}));
            match &cwd {
                Some(c) => e["cwd"] = json!(c),
                None => {
                    e.as_object_mut().unwrap().remove("cwd");
                }
            }
            let mut cmd = Command::new(workspace_bin(hook.name));
            cmd.current_dir(&here)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", here.join("no-home"));
            let out = child::run(cmd, e.to_string().as_bytes(), WATCHDOG, 1 << 20).unwrap();
            assert!(!out.timed_out, "{}", hook.name);
            let made = files_below(&here);
            assert!(
                made.is_empty(),
                "{} (cwd {cwd:?}) made {made:?}; stderr {}",
                hook.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
