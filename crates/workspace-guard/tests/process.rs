//! workspace-guard as a process on captured events, re-pointed at temp projects: the answers the client
//! reads, and the claims under a storm of agents — one holder per file at any time, none lost, none
//! leaked, and none stuck after a holder's client is killed.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_testkit::decide::captured;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_workspace-guard");

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// What one run answered.
struct Answer {
    code: i32,
    stdout: String,
}

impl Answer {
    fn denied(&self) -> bool {
        self.stdout.contains("\"permissionDecision\":\"deny\"")
    }
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        Self { _dir: dir, root }
    }

    fn run(&self, event: &Value, env: &[(&str, String)]) -> Answer {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.join("no-home"))
            .env("CLAUDE_PROJECT_DIR", &self.root)
            // The temp folder elsewhere, so that the tests' temp dirs lie outside the workspace.
            .env("TMPDIR", "/nonexistent-portcullis-tmp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, event.to_string().as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        Answer {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        }
    }

    /// A Write of `rel` by `agent` (`main` for the main thread) of session `session`.
    fn write(&self, rel: &str, session: &str, agent: &str) -> Value {
        let mut changes = json!({"tool_input": {"file_path": self.root.join(rel), "content": "x"}});
        if agent != "main" {
            changes["agent_id"] = json!(agent);
            changes["agent_type"] = json!("backend-developer");
        }
        captured("PreToolUse-Write", &self.root, session, &changes)
    }

    fn subagent_stop(&self, session: &str, agent: &str) -> Value {
        captured(
            "SubagentStop-subagent",
            &self.root,
            session,
            &json!({"agent_id": agent, "agent_type": "backend-developer", "agent_transcript_path": null}),
        )
    }

    fn claim_files(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.root.join(".claude/locks")) else {
            return Vec::new();
        };
        dir.flatten()
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.ends_with(".lock") && !n.starts_with('.')
            })
            .collect()
    }
}

#[test]
fn a_second_agents_write_is_denied_in_the_clients_dialect() {
    let p = Project::new();
    let first = p.run(&p.write("src/a.rs", "s1", "a1"), &[]);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (0, ""),
        "a free file: silent allow"
    );
    let second = p.run(&p.write("src/a.rs", "s1", "a2"), &[]);
    assert_eq!(second.code, 0);
    let v: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PreToolUse");
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    let reason = v["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("subagent `a1` (backend-developer)"),
        "{reason}"
    );
    // The claim is a whole JSON file naming its holder, and the folder keeps itself out of git.
    let files = p.claim_files();
    assert_eq!(files.len(), 1);
    let claim: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(
        (claim["path"].as_str(), claim["agent"].as_str()),
        (Some("src/a.rs"), Some("a1"))
    );
    assert!(p.root.join(".claude/locks/.gitignore").is_file());
}

#[test]
fn a_write_outside_the_project_is_denied_and_names_the_resolved_target() {
    let p = Project::new();
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let outside = tempfile::tempdir_in(base).unwrap();
    let target = outside.path().canonicalize().unwrap().join("escape.txt");
    let a = p.run(&p.write("x", "s1", "main"), &[]);
    assert_eq!(a.code, 0);
    let mut event = p.write("x", "s1", "main");
    event["tool_input"]["file_path"] = json!(target);
    let a = p.run(&event, &[]);
    assert!(a.denied(), "{}", a.stdout);
    assert!(a.stdout.contains(&target.display().to_string()));
    assert!(!target.exists());
}

/// 100 agents race for 10 files, each trying until it gets one, holding it over a second write, then
/// stopping. At every moment a file has at most one holder (checked against a shared table the holders
/// fill in and empty, and against the claim file itself); every claim made is still there when its holder
/// looks again; when all have stopped, no claim is left.
#[test]
fn a_hundred_agents_racing_for_ten_files_never_share_one() {
    let p = Arc::new(Project::new());
    let holders: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let violations: Arc<Mutex<Vec<String>>> = Arc::default();
    let wins: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let (p, holders, violations, wins) =
                (p.clone(), holders.clone(), violations.clone(), wins.clone());
            std::thread::spawn(move || {
                let agent = format!("a{i}");
                // Sessions too: a third of the agents belong to two other sessions.
                let session = format!("s{}", i % 3);
                let file = format!("src/f{}.rs", i % 10);
                for attempt in 0..400 {
                    let answer = p.run(&p.write(&file, &session, &agent), &[]);
                    if answer.denied() {
                        std::thread::sleep(Duration::from_millis(5 + (attempt % 7) * 3));
                        continue;
                    }
                    assert_eq!(answer.code, 0, "{}", answer.stdout);
                    if let Some(other) = holders.lock().unwrap().insert(file.clone(), agent.clone())
                    {
                        violations
                            .lock()
                            .unwrap()
                            .push(format!("{agent} and {other} both held {file}"));
                    }
                    *wins.lock().unwrap().entry(file.clone()).or_default() += 1;
                    // The holder writes on, and its claim is still its own.
                    let again = p.run(&p.write(&file, &session, &agent), &[]);
                    if again.denied() {
                        violations
                            .lock()
                            .unwrap()
                            .push(format!("{agent} lost its claim on {file}"));
                    }
                    holders.lock().unwrap().remove(&file);
                    let stop = p.run(&p.subagent_stop(&session, &agent), &[]);
                    assert_eq!(stop.code, 0);
                    return;
                }
                violations
                    .lock()
                    .unwrap()
                    .push(format!("{agent} never got {file}"));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let violations = violations.lock().unwrap();
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(wins.lock().unwrap().values().sum::<usize>(), 100);
    assert_eq!(p.claim_files(), Vec::<PathBuf>::new(), "no claim leaked");
}

/// A holder whose client is killed (`kill -9`) leaves a claim that is stale at once: the next agent
/// takes it. While the client lives, the claim holds.
#[test]
fn a_killed_holders_claim_is_stale_and_taken_over() {
    let p = Project::new();
    let mut client = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = [("CLAUDE_PID", client.id().to_string())];
    assert!(!p.run(&p.write("f.rs", "dead-session", "a1"), &pid).denied());
    assert!(p.run(&p.write("f.rs", "s2", "b1"), &[]).denied());
    client.kill().unwrap();
    client.wait().unwrap();
    let next = p.run(&p.write("f.rs", "s2", "b1"), &[]);
    assert!(!next.denied(), "{}", next.stdout);
    let claim: Value =
        serde_json::from_slice(&std::fs::read(&p.claim_files()[0]).unwrap()).unwrap();
    assert_eq!(claim["agent"], "b1");
}

/// A hook killed between writing its claim and linking it leaves a temp file, never a claim: the file
/// stays free, and the temp file is swept once old.
#[test]
fn a_hook_killed_mid_claim_leaves_no_claim() {
    let p = Project::new();
    assert!(!p.run(&p.write("g.rs", "s1", "a1"), &[]).denied());
    let dir = p.root.join(".claude/locks");
    let torn = dir.join(".tmp-99999-1");
    std::fs::write(&torn, "{\"path\":\"h.rs\",\"sess").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&torn)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert!(!p.run(&p.write("h.rs", "s1", "a2"), &[]).denied());
    // Releasing lists the folder, which sweeps old temp files.
    p.run(&p.subagent_stop("s1", "a1"), &[]);
    assert!(!torn.exists());
    // Real kills, at random points of real runs: whatever they leave is a whole claim or nothing.
    for i in 0..40 {
        let mut child = Command::new(BIN)
            .current_dir(&p.root)
            .env("CLAUDE_PROJECT_DIR", &p.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let event = p.write(&format!("k{}.rs", i % 4), "s9", &format!("k{i}"));
        let mut stdin = child.stdin.take().unwrap();
        let _ = std::io::Write::write_all(&mut stdin, event.to_string().as_bytes());
        drop(stdin);
        std::thread::sleep(Duration::from_micros(300 * (i % 8)));
        let _ = child.kill();
        let _ = child.wait();
    }
    for f in p.claim_files() {
        let claim: Value = serde_json::from_slice(&std::fs::read(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: torn claim: {e}", f.display()));
        let agent = claim["agent"].as_str().unwrap().to_owned();
        p.run(&p.subagent_stop("s9", &agent), &[]);
    }
    let left: Vec<_> = p
        .claim_files()
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains("h.rs"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
