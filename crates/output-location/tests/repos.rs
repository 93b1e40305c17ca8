//! output-location against real git repositories made in temp dirs (and one plain folder), the real
//! binary run as a process on captured events. The advice is not only read: its commands are run with
//! `sh`, and the next check must pass.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_output-location");
const SESSION: &str = "0123abcd-feed-4bad-beef-000000000001";

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn git(root: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(root)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Repo {
    /// A git repository with one commit holding `README.md`, `CONTRIBUTING.md` and `src/lib.rs`.
    fn git() -> Self {
        let r = Self::plain();
        git(&r.root, &["init", "-q"]);
        r.put("README.md", "# r\n");
        r.put("CONTRIBUTING.md", "be kind\n");
        r.put("src/lib.rs", "\n");
        git(&r.root, &["add", "-A"]);
        git(&r.root, &["commit", "-qm", "init"]);
        r
    }

    fn plain() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        Self { _dir: dir, root }
    }

    fn put(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn event(&self, name: &str, changes: &Value) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../fixtures/events/{name}.json"));
        let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        e["session_id"] = json!(SESSION);
        e["cwd"] = json!(self.root.display().to_string());
        e["transcript_path"] = json!(self.root.join("no-transcript.jsonl").display().to_string());
        for (k, v) in changes.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    fn run(&self, event: &Value) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.join("no-home"));
        portcullis_testkit::run_with_stdin(&mut cmd, event.to_string().as_bytes()).unwrap()
    }

    fn start(&self) {
        let out = self.run(&self.event("SessionStart-startup", &json!({})));
        assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    }

    /// The Stop verdict's reason, or `None` when the stop is allowed silently.
    fn stop(&self) -> Option<String> {
        verdict(&self.run(&self.event("Stop", &json!({"stop_hook_active": false}))))
    }

    fn subagent_stop(&self, transcript: &str) -> Option<String> {
        let path = self.root.join("agent.jsonl");
        std::fs::write(&path, transcript).unwrap();
        verdict(&self.run(&self.event(
            "SubagentStop-subagent",
            &json!({"agent_type": "backend-developer", "agent_transcript_path": path, "background_tasks": []}),
        )))
    }

    /// Runs every fix command of a reason from the project root.
    fn apply(&self, reason: &str) {
        for line in reason.lines().filter(|l| l.starts_with("  ")) {
            let out = Command::new("sh")
                .current_dir(&self.root)
                .arg("-c")
                .arg(line.trim())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{line}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn verdict(out: &Output) -> Option<String> {
    assert!(out.status.success(), "{out:?}");
    if out.stdout.is_empty() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "block", "{v}");
    Some(v["reason"].as_str().unwrap().to_owned())
}

#[test]
fn an_untracked_note_blocks_and_its_fix_works() {
    let r = Repo::git();
    r.start();
    assert_eq!(r.stop(), None);
    r.put("NOTES.md", "notes\n");
    let reason = r.stop().expect("blocked");
    assert!(
        reason.contains("`NOTES.md` (untracked: safe to move)"),
        "{reason}"
    );
    assert!(
        reason.contains("mkdir -p -- .claude/.output/session-0123abcd && mv -- NOTES.md .claude/.output/session-0123abcd/NOTES.md"),
        "{reason}"
    );
    r.apply(&reason);
    assert!(
        r.root
            .join(".claude/.output/session-0123abcd/NOTES.md")
            .exists()
    );
    assert_eq!(r.stop(), None);
}

#[test]
fn a_staged_new_file_is_unstaged_then_moved() {
    let r = Repo::git();
    r.start();
    r.put("plans/PLAN.md", "plan\n");
    git(&r.root, &["add", "plans/PLAN.md"]);
    let reason = r.stop().expect("blocked");
    assert!(
        reason.contains("(staged, never committed: unstage, then move)"),
        "{reason}"
    );
    assert!(
        reason.contains("git rm --cached --quiet -- plans/PLAN.md && mkdir -p"),
        "{reason}"
    );
    r.apply(&reason);
    assert_eq!(r.stop(), None);
    let status = Command::new("git")
        .current_dir(&r.root)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("PLAN.md"),
        "the index is clean again"
    );
}

#[test]
fn ignored_allowed_and_tracked_files_are_never_blamed() {
    let r = Repo::git();
    r.start();
    r.put(".gitignore", "scratch/\n*.local.md\n");
    r.put("scratch/NOTES.md", "x");
    r.put("me.local.md", "x");
    r.put("docs/design.md", "x");
    r.put("CHANGELOG.md", "x");
    r.put(".claude/agents/x.md", "x");
    r.put(".claude/skills/s/SKILL.md", "x");
    r.put("tools/SKILL.md", "x");
    r.put(".claude/.output/backend/report.md", "x");
    r.put("notes.txt", "not markdown");
    r.put("CONTRIBUTING.md", "changed\n");
    assert_eq!(
        r.stop(),
        None,
        "a modified tracked file alone blocks nothing"
    );
    r.put("ANALYSIS.md", "x");
    let reason = r.stop().expect("blocked");
    assert!(
        reason.contains("`CONTRIBUTING.md` is a tracked file with changes: not a new output"),
        "{reason}"
    );
    assert!(!reason.contains("mv -- CONTRIBUTING.md"), "{reason}");
    assert_eq!(reason.matches("mv --").count(), 1, "{reason}");
}

#[test]
fn files_in_new_folders_are_found() {
    let r = Repo::git();
    r.start();
    r.put("research/deep/er/FINDINGS.md", "x");
    let reason = r.stop().expect("blocked");
    assert!(
        reason.contains("`research/deep/er/FINDINGS.md`"),
        "{reason}"
    );
}

#[test]
fn what_existed_at_session_start_is_not_blamed() {
    let r = Repo::git();
    r.put("OLD_NOTES.md", "from before");
    r.start();
    assert_eq!(r.stop(), None);
    r.put("NEW_NOTES.md", "x");
    let reason = r.stop().expect("blocked");
    assert!(
        reason.contains("NEW_NOTES.md") && !reason.contains("OLD_NOTES.md"),
        "{reason}"
    );
}

#[test]
fn resume_keeps_the_first_baseline() {
    let r = Repo::git();
    r.start();
    r.put("NOTES.md", "x");
    let out = r.run(&r.event("SessionStart-resume", &json!({})));
    assert!(out.status.success());
    assert!(
        r.stop().is_some(),
        "a file of the first part of the session is still blamed"
    );
}

#[test]
fn spaces_quotes_and_unicode_survive_the_fix() {
    let r = Repo::git();
    r.start();
    for name in ["my notes.md", "it's done.md", "résumé – final.md", "-rf.md"] {
        r.put(name, "x");
    }
    let reason = r.stop().expect("blocked");
    r.apply(&reason);
    assert_eq!(r.stop(), None, "{reason}");
    for name in ["my notes.md", "it's done.md", "résumé – final.md", "-rf.md"] {
        assert!(
            r.root
                .join(".claude/.output/session-0123abcd")
                .join(name)
                .exists(),
            "{name}"
        );
    }
}

#[test]
fn a_subagent_is_blamed_for_its_own_files_only() {
    let r = Repo::git();
    r.start();
    r.put("MINE.md", "x");
    r.put("THEIRS.md", "x");
    // The client puts git status into a subagent's context: a mention there is not a write.
    let transcript = format!(
        "{{\"type\":\"user\",\"message\":{{\"content\":\"gitStatus: ?? THEIRS.md ?? MINE.md\"}}}}\n{{\"type\":\"assistant\",\"message\":{{\"content\":[{{\"type\":\"tool_use\",\"name\":\"Write\",\"input\":{{\"file_path\":\"{}\"}}}}]}}}}\n",
        r.root.join("MINE.md").display()
    );
    let reason = r.subagent_stop(&transcript).expect("blocked");
    assert!(
        reason.contains(".claude/.output/backend-developer/MINE.md"),
        "{reason}"
    );
    assert!(!reason.contains("THEIRS"), "{reason}");
    assert_eq!(
        r.subagent_stop("{}\n"),
        None,
        "a subagent that wrote nothing is not held up"
    );
}

#[test]
fn a_subagents_write_counts_before_its_transcript_shows_it() {
    // The client flushes a subagent's transcript lazily: at SubagentStop its last Write may be missing.
    // PostToolUse records the write, so the stop is blocked all the same.
    let r = Repo::git();
    r.start();
    r.put("LATE.md", "x");
    let write = r.event(
        "PostToolUse-Write-subagent",
        &json!({"agent_id": "agent-late", "tool_input": {"file_path": r.root.join("LATE.md"), "content": "x"}}),
    );
    let out = r.run(&write);
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    let stop_of = |agent: &str| {
        let path = r.root.join("agent.jsonl");
        std::fs::write(
            &path,
            "{\"type\":\"user\",\"message\":{\"content\":\"write it\"}}\n",
        )
        .unwrap();
        verdict(&r.run(&r.event(
            "SubagentStop-subagent",
            &json!({"agent_id": agent, "agent_type": "writer", "agent_transcript_path": path, "background_tasks": []}),
        )))
    };
    assert_eq!(
        stop_of("agent-other"),
        None,
        "another agent's write is not its own"
    );
    let reason = stop_of("agent-late").expect("blocked for the recorded write");
    assert!(
        reason.contains(".claude/.output/writer/LATE.md"),
        "{reason}"
    );
    r.apply(&reason);
    assert_eq!(stop_of("agent-late"), None);
    let writes = std::fs::read_dir(r.root.join(".claude/portcullis/sessions"))
        .unwrap()
        .map(|e| e.unwrap().path().join("output-location-writes.json"))
        .find(|p| p.exists())
        .expect("the write record");
    let record: Value = serde_json::from_slice(&std::fs::read(writes).unwrap()).unwrap();
    assert_eq!(
        record["state"]["by_agent"],
        json!({}),
        "a finished agent's record is dropped: {record}"
    );
}

#[test]
fn a_plain_folder_is_walked_with_the_time_fallback() {
    let r = Repo::plain();
    r.put("OLD.md", "x");
    r.put("node_modules/pkg/README_X.md", "x");
    // No baseline: the transcript's first timestamp says when the session started.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let started = chrono::Utc::now() - chrono::Duration::milliseconds(5);
    std::fs::write(
        r.root.join("no-transcript.jsonl"),
        format!(
            "{{\"type\":\"user\",\"timestamp\":\"{}\"}}\n",
            started.to_rfc3339()
        ),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    r.put("NEW.md", "x");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&r.root, r.root.join("loop")).unwrap();
    let reason = r.stop().expect("blocked");
    assert!(reason.contains("`NEW.md`"), "{reason}");
    assert!(
        !reason.contains("OLD.md") && !reason.contains("node_modules"),
        "{reason}"
    );
}

#[test]
fn a_symlink_loop_in_a_repository_is_harmless() {
    let r = Repo::git();
    r.start();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&r.root, r.root.join("loop")).unwrap();
    r.put("a/b/NOTES.md", "x");
    let reason = r.stop().expect("blocked");
    assert!(reason.contains("a/b/NOTES.md"), "{reason}");
}

#[test]
fn running_subagents_defer_the_stop_check() {
    let r = Repo::git();
    r.start();
    r.put("NOTES.md", "x");
    let out = r.run(&r.event(
        "Stop",
        &json!({"background_tasks": [{"id": "a", "type": "subagent", "status": "running", "description": "d"}]}),
    ));
    assert_eq!(verdict(&out), None);
}

#[test]
fn a_committed_file_renamed_with_git_mv_is_never_moved() {
    let r = Repo::git();
    r.put("plans/PLAN.md", "the plan\n");
    git(&r.root, &["add", "plans/PLAN.md"]);
    git(&r.root, &["commit", "-qm", "plan"]);
    r.start();
    git(&r.root, &["mv", "plans/PLAN.md", "plans/PLAN2.md"]);
    assert_eq!(
        r.stop(),
        None,
        "its content is committed: a rename is no new output, and unstaging it would stage a deletion"
    );
}

#[test]
fn a_committed_file_removed_from_the_index_is_never_moved() {
    let r = Repo::git();
    r.put("plans/PLAN.md", "the plan\n");
    git(&r.root, &["add", "plans/PLAN.md"]);
    git(&r.root, &["commit", "-qm", "plan"]);
    r.start();
    git(&r.root, &["rm", "--cached", "--quiet", "plans/PLAN.md"]);
    assert_eq!(
        r.stop(),
        None,
        "a committed file is not an untracked output"
    );
}

#[test]
fn an_output_dir_starting_with_a_dash_gets_a_working_fix() {
    let r = Repo::git();
    r.put(
        ".claude/portcullis.json",
        r#"{"output_location": {"output_dir": "-out"}}"#,
    );
    r.start();
    r.put("NOTES.md", "x");
    let reason = r.stop().expect("blocked");
    r.apply(&reason);
    assert!(
        r.root.join("-out").is_dir() && r.stop().is_none(),
        "{reason}"
    );
}
