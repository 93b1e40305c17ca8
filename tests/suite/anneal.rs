//! `portcullis anneal` (issue 38, part 2) on a real repository: four feedback-loop blocks of
//! `backend-developer`, each after it claimed the tests passed without running them, become an
//! Anti-patterns entry committed on a new branch; the current branch and the working tree are unchanged,
//! and the patched definition passes `portcullis audit`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::portcullis;

const SESSION: &str = "1cd3cad7-180d-4c9a-b13e-381be2c051af";
const AGENT: &str = "---
name: backend-developer
description: Use when code of the backend domain (api/) is to be written or changed. Implements features and fixes there.
tools: Read, Edit, Write, Bash, Grep, Glob
---

You are the backend developer of this project. You change the code in api/ and nothing else.

- Run the tests of what you changed before you report.
";

fn git(root: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(root)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository with the agent committed, a recorded session (the replay fixture's real transcript) and
/// four subagents of it that each claimed passing tests and were blocked by feedback-loop.
fn project(blocks: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap().join("repo");
    std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
    std::fs::create_dir_all(root.join("api")).unwrap();
    std::fs::write(root.join(".claude/agents/backend-developer.md"), AGENT).unwrap();
    std::fs::write(root.join("api/main.go"), "package main\n").unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "start"]);
    // The session's transcripts, where Claude Code keeps them.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/replay/subagent");
    let transcripts = t
        .path()
        .canonicalize()
        .unwrap()
        .join("home/.claude/projects/-repo");
    std::fs::create_dir_all(transcripts.join(SESSION).join("subagents")).unwrap();
    let main = transcripts.join(format!("{SESSION}.jsonl"));
    std::fs::copy(fixture.join(format!("{SESSION}.jsonl")), &main).unwrap();
    let mut log = String::new();
    for i in 0..blocks {
        let agent = format!("b{i}");
        let said = json!({"type": "assistant", "timestamp": format!("2026-12-0{}T10:00:00.000Z", i + 1), "isSidechain": true,
            "message": {"role": "assistant", "content": [{"type": "text", "text": "Implemented the handler. All tests pass."}]}});
        std::fs::write(
            transcripts
                .join(SESSION)
                .join(format!("subagents/agent-{agent}.jsonl")),
            format!("{said}\n"),
        )
        .unwrap();
        let entry = json!({"time": format!("2026-12-0{}T10:00:05.000Z", i + 1), "session": SESSION, "agent": agent,
            "agent_type": "backend-developer", "transcript": main, "hook": "feedback-loop", "event": "SubagentStop",
            "verdict": "block", "reason": "[feedback-loop] This turn changed code that has not passed testing yet.\nmore", "micros": 900});
        let _ = writeln!(log, "{entry}");
    }
    std::fs::create_dir_all(root.join(".claude/portcullis")).unwrap();
    std::fs::write(root.join(".claude/portcullis/log.jsonl"), log).unwrap();
    (t, root, main)
}

/// `portcullis anneal ARGS` in `root`, which must succeed; its stdout.
fn anneal(root: &Path, args: &[&str]) -> String {
    let out = portcullis(root, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn four_blocks_become_a_commit_on_a_new_branch_and_nothing_else_changes() {
    let (_t, root, _) = project(4);
    let head = git(&root, &["rev-parse", "HEAD"]);
    let text = anneal(&root, &["anneal", "--dry-run"]);
    assert!(
        text.contains("feedback-loop held `backend-developer` 4 times"),
        "{text}"
    );
    assert!(
        text.contains("Claiming the tests pass without running them"),
        "{text}"
    );
    assert!(
        text.contains("claims: all tests pass") && text.contains("no test command run before it"),
        "{text}"
    );
    assert!(text.contains("+## Anti-patterns"), "{text}");
    assert_eq!(
        git(&root, &["branch", "--list", "portcullis/*"]),
        "",
        "a dry run makes no branch"
    );
    assert!(
        !root.join(".claude/.output").exists(),
        "a dry run writes no report"
    );

    let text = anneal(&root, &["anneal"]);
    assert!(
        text.contains("replay of"),
        "the session was replayed: {text}"
    );
    let branches = git(
        &root,
        &[
            "branch",
            "--list",
            "portcullis/anneal-*",
            "--format=%(refname:short)",
        ],
    );
    assert!(
        branches.starts_with("portcullis/anneal-") && branches.ends_with("-1"),
        "{branches}"
    );
    // The current branch, HEAD and the working tree are as they were (the report is the one new file).
    assert_eq!(git(&root, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert_eq!(git(&root, &["rev-parse", "HEAD"]), head);
    assert_eq!(
        std::fs::read_to_string(root.join(".claude/agents/backend-developer.md")).unwrap(),
        AGENT
    );
    let status = git(&root, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        status
            .lines()
            .all(|l| l.starts_with("?? .claude/.output/annealing/")
                || l.starts_with("?? .claude/portcullis/")),
        "{status}"
    );
    // The commit: from HEAD, labelled, holding the entry.
    assert_eq!(git(&root, &["rev-parse", &format!("{branches}^")]), head);
    assert!(git(&root, &["log", "-1", "--format=%s", &branches]).starts_with("[Self-Annealing]"));
    let patched = git(
        &root,
        &[
            "show",
            &format!("{branches}:.claude/agents/backend-developer.md"),
        ],
    );
    assert!(patched.starts_with(AGENT.trim_end()), "{patched}");
    assert!(patched.contains("## Anti-patterns\n\n- **Claiming the tests pass without running them** (feedback-loop held this 4 times, 2026-12-01 to 2026-12-04)"), "{patched}");
    // The patched definition passes the audit, in a project of its own.
    let check = tempfile::tempdir().unwrap();
    let check_root = check.path().canonicalize().unwrap();
    std::fs::create_dir_all(check_root.join(".git")).unwrap();
    std::fs::create_dir_all(check_root.join(".claude/agents")).unwrap();
    std::fs::write(
        check_root.join(".claude/agents/backend-developer.md"),
        format!("{patched}\n"),
    )
    .unwrap();
    let audit = portcullis(&check_root, &["audit", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(report["findings"], json!([]), "{report}");
    // A report for the reviewer.
    let reports: Vec<_> = std::fs::read_dir(root.join(".claude/.output/annealing"))
        .unwrap()
        .collect();
    assert_eq!(reports.len(), 1);
    // A second run makes the next branch, never moving the first.
    let again = portcullis(&root, &["anneal"]);
    assert!(again.status.success());
    assert!(git(&root, &["branch", "--list", "portcullis/anneal-*"]).contains("-2"));
}

#[test]
fn three_blocks_are_not_a_pattern_and_a_bad_date_is_refused() {
    let (_t, root, _) = project(3);
    let out = portcullis(&root, &["anneal"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to anneal"));
    assert_eq!(git(&root, &["branch", "--list", "portcullis/*"]), "");
    let bad = portcullis(&root, &["anneal", "--since", "last week"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
    let (_t2, root4, _) = project(4);
    let later = portcullis(&root4, &["anneal", "--since", "2026-12-02", "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&later.stdout).contains("nothing to anneal"),
        "only 3 blocks from the 2nd on"
    );
}

#[test]
fn the_advisor_sums_a_diagnosis_up_when_asked() {
    let (_t, root, _) = project(4);
    let asked = root.join("asked.txt");
    let command = json!([
        "sh",
        "-c",
        format!(
            "cat > '{}'; echo 'It reports passing tests it never ran: run them and quote the summary.'",
            asked.display()
        )
    ]);
    std::fs::write(
        root.join(".claude/portcullis.json"),
        json!({"escalation_advisor": {"command": command}}).to_string(),
    )
    .unwrap();
    let text = anneal(&root, &["anneal", "--dry-run", "--advisor"]);
    assert!(
        text.contains("Advisor's summary: It reports passing tests it never ran"),
        "{text}"
    );
    let sent = std::fs::read_to_string(&asked).unwrap();
    assert!(
        sent.contains("feedback-loop held `backend-developer` 4 times"),
        "{sent}"
    );
    // Without --advisor it is not asked.
    std::fs::remove_file(&asked).unwrap();
    let plain = portcullis(&root, &["anneal", "--dry-run"]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("Advisor's summary"));
    assert!(!asked.exists());
}
