//! `portcullis init` on a project shaped like users' (issue 36): a TypeScript front end in `web/`, a Go back
//! end in `api/`, Python scripts in `scripts/`, and the user's own `code-reviewer` and `test-runner`. After
//! init, the real hooks hold an edit in each domain for that domain's review and test; `npm test` in `web/`
//! clears only the front end, and `pytest` clears the Python files (with no pytest config anywhere) but not
//! the Go ones.

use std::fs;
use std::path::{Path, PathBuf};

use portcullis_testkit::decide::captured;
use portcullis_testkit::workspace_bin;
use serde_json::{Value, json};

use crate::support::{portcullis, run_hook};

const SESSION: &str = "5e551000-0000-4000-8000-000000000036";

/// The project as a user has it before init.
fn project() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let files: &[(&str, &str)] = &[
        (
            "web/package.json",
            r#"{"name":"web","scripts":{"test":"vitest run"},"dependencies":{"react":"^18.3.0"}}"#,
        ),
        ("web/src/App.tsx", "export const App = () => null;\n"),
        (
            "web/src/cart.ts",
            "export const total = (xs: number[]) => xs.length;\n",
        ),
        ("api/go.mod", "module example.com/api\n\ngo 1.22\n"),
        ("api/main.go", "package main\n\nfunc main() {}\n"),
        ("scripts/etl.py", "print('load')\n"),
        ("README.md", "# Shop\n"),
        (
            ".claude/agents/code-reviewer.md",
            "---\nname: code-reviewer\ndescription: Use when a change is ready; reviews it.\n---\nReview.\n",
        ),
        (
            ".claude/agents/test-runner.md",
            "---\nname: test-runner\ndescription: Use when a change is ready; runs the tests.\n---\nTest.\n",
        ),
    ];
    for (rel, text) in files {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    fs::create_dir_all(root.join(".git")).unwrap();
    (t, root)
}

fn bin_dir() -> String {
    workspace_bin("portcullis")
        .parent()
        .unwrap()
        .display()
        .to_string()
}

fn init(root: &Path, extra: &[&str]) -> String {
    let bins = bin_dir();
    let mut args = vec!["init", "--bin-dir", bins.as_str()];
    args.extend(extra);
    let out = portcullis(root, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file below `dir` with its bytes, `.git` and the fake home left out.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                fs::read(e.path()).unwrap(),
            )
        })
        .filter(|(rel, _)| !rel.starts_with(".git/") && !rel.starts_with("no-home/"))
        .collect();
    out.sort();
    out
}

fn hook_json(hook: &str, root: &Path, event: &Value) -> Value {
    let out = run_hook(hook, root, &serde_json::to_vec(event).unwrap());
    if out.stdout.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{hook}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A subagent's Write, as PostToolUse reports it.
fn subagent_write(root: &Path, agent: &str, rel: &str) -> Value {
    let path = root.join(rel);
    fs::write(&path, "// changed\n").unwrap();
    captured(
        "PostToolUse-Write-subagent",
        root,
        SESSION,
        &json!({
            "agent_type": agent,
            "tool_input": {"file_path": path, "content": "// changed\n"},
            "tool_response": {"type": "update", "filePath": path, "content": "// changed\n",
                "structuredPatch": [], "originalFile": null, "userModified": false},
        }),
    )
}

/// A main-thread Bash call that exited 0, run from `cwd`.
fn passing_bash(root: &Path, cwd: &Path, command: &str) -> Value {
    captured(
        "PostToolUse-Bash",
        root,
        SESSION,
        &json!({"cwd": cwd, "tool_input": {"command": command, "description": "run the tests"}}),
    )
}

fn stop_reason(root: &Path) -> String {
    let v = hook_json(
        "feedback-loop",
        root,
        &captured("Stop", root, SESSION, &json!({})),
    );
    assert_eq!(v["decision"], "block", "{v}");
    v["reason"].as_str().unwrap().to_owned()
}

/// The line of the block reason about `domain`, if it still lacks something.
fn domain_line<'a>(reason: &'a str, domain: &str) -> Option<&'a str> {
    reason
        .lines()
        .find(|l| l.starts_with(&format!("- {domain} (")))
}

/// The definitions init wrote pass the audit with no finding, the user's are as they were, and the main
/// thread's edit of the back end is sent to the new developer.
fn definitions_pass_and_the_main_thread_is_sent_to_them(root: &Path) {
    let root = root.to_path_buf();
    // The definitions it writes pass the audit with no finding; the user's are left as they were.
    let audit = portcullis(
        &root,
        &[
            "audit",
            "--json",
            ".claude/agents/backend-developer.md",
            ".claude/agents/frontend-developer.md",
        ],
    );
    let findings: Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(findings["findings"], json!([]), "{findings}");
    assert_eq!(
        fs::read_to_string(root.join(".claude/agents/code-reviewer.md")).unwrap(),
        "---\nname: code-reviewer\ndescription: Use when a change is ready; reviews it.\n---\nReview.\n"
    );

    // The main thread may not write the back end: the new developer is named.
    let deny = hook_json(
        "agent-first",
        &root,
        &captured(
            "PreToolUse-Write",
            &root,
            SESSION,
            &json!({"tool_input": {"file_path": root.join("api/main.go"), "content": "x"}}),
        ),
    );
    assert_eq!(deny["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(
        deny["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("backend-developer"),
        "{deny}"
    );
}

#[test]
fn init_makes_every_domain_wait_for_its_own_review_and_tests() {
    let (_t, root) = project();
    let report = init(&root, &[]);
    for expected in [
        "wrote        backend-developer.md",
        "wrote        frontend-developer.md",
        "kept         code-reviewer.md",
        "kept         test-runner.md",
        "`go test ./...` in `api/`",
        "`npm test` in `web/`",
        "`pytest`",
    ] {
        assert!(report.contains(expected), "{expected}\n{report}");
    }
    definitions_pass_and_the_main_thread_is_sent_to_them(&root);

    // The developers edit each domain: the turn is held for each domain's review and test.
    for (agent, rel) in [
        ("backend-developer", "api/main.go"),
        ("backend-developer", "scripts/etl.py"),
        ("frontend-developer", "web/src/cart.ts"),
    ] {
        hook_json("feedback-loop", &root, &subagent_write(&root, agent, rel));
    }
    let reason = stop_reason(&root);
    let backend = domain_line(&reason, "backend").expect(&reason);
    let frontend = domain_line(&reason, "frontend").expect(&reason);
    for line in [backend, frontend] {
        assert!(
            line.contains("review pending -> spawn `code-reviewer`"),
            "{line}"
        );
        assert!(
            line.contains("testing pending -> spawn `test-runner`"),
            "{line}"
        );
    }

    // `npm test` in web/ clears the front end's testing only.
    hook_json(
        "feedback-loop",
        &root,
        &passing_bash(&root, &root.join("web"), "npm test"),
    );
    let reason = stop_reason(&root);
    let frontend = domain_line(&reason, "frontend").expect(&reason);
    assert!(!frontend.contains("testing"), "{frontend}");
    assert!(
        domain_line(&reason, "backend")
            .unwrap()
            .contains("testing pending"),
        "{reason}"
    );

    // `pytest scripts/` (no pytest config anywhere) tests the Python file; the Go file still waits for
    // `go test`, and the hint says so.
    hook_json(
        "feedback-loop",
        &root,
        &passing_bash(&root, &root, "pytest scripts/"),
    );
    let reason = stop_reason(&root);
    let backend = domain_line(&reason, "backend").expect(&reason);
    assert!(
        backend
            .contains("testing pending -> spawn `test-runner`, or run `go test ./...` in `api/`"),
        "{backend}"
    );
    hook_json(
        "feedback-loop",
        &root,
        &passing_bash(&root, &root.join("api"), "go test ./..."),
    );
    let reason = stop_reason(&root);
    let backend = domain_line(&reason, "backend").expect(&reason);
    assert!(!backend.contains("testing"), "{backend}");
    assert!(backend.contains("review pending"), "{backend}");
}

#[test]
fn init_never_overwrites_and_its_dry_run_writes_nothing() {
    let (_t, root) = project();
    let before = snapshot(&root);
    let dry = init(&root, &["--dry-run"]);
    assert!(dry.contains("would write  backend-developer.md"), "{dry}");
    assert!(dry.contains("Dry run: nothing was written."), "{dry}");
    assert_eq!(snapshot(&root), before, "the dry run wrote");

    // A developer the user already has, under the pattern's name, is kept byte for byte.
    let mine = "---\nname: frontend-developer\ndescription: Use when the UI changes.\n---\nMine.\n";
    fs::write(root.join(".claude/agents/frontend-developer.md"), mine).unwrap();
    let first = init(&root, &[]);
    assert!(
        first.contains("kept         frontend-developer.md"),
        "{first}"
    );
    assert_eq!(
        fs::read_to_string(root.join(".claude/agents/frontend-developer.md")).unwrap(),
        mine
    );
    let after_first = snapshot(&root);
    let second = init(&root, &[]);
    assert!(
        second.contains("kept         backend-developer.md"),
        "{second}"
    );
    assert_eq!(snapshot(&root), after_first, "a second init changed files");
}

#[test]
fn init_writes_a_reviewer_and_a_tester_when_the_project_has_none() {
    let (_t, root) = project();
    fs::remove_dir_all(root.join(".claude/agents")).unwrap();
    let report = init(&root, &["--local"]);
    assert!(report.contains("wrote        code-reviewer.md"), "{report}");
    assert!(report.contains("wrote        test-runner.md"), "{report}");
    assert!(root.join(".claude/settings.local.json").is_file());
    assert!(!root.join(".claude/settings.json").exists());
    let audit = portcullis(&root, &["audit", "--json"]);
    let findings: Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(findings["findings"], json!([]), "{findings}");
    // doctor agrees on who reviews and tests.
    let doctor = portcullis(&root, &["doctor", "--bin-dir", &bin_dir()]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(text.contains("reviews by code-reviewer"), "{text}");
    assert!(text.contains("tests by test-runner"), "{text}");
}

#[test]
fn init_refuses_the_home_folder_and_the_root() {
    let (_t, root) = project();
    let home = root.join("no-home");
    fs::create_dir_all(&home).unwrap();
    for dir in [home.as_path(), Path::new("/")] {
        let out = portcullis(
            &root,
            &[
                "init",
                "--dry-run",
                "--bin-dir",
                &bin_dir(),
                "--project",
                dir.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", dir.display());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a project folder"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
