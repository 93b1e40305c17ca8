//! Whole sessions against the real binary: every event is a process run on a captured event (from
//! `fixtures/events/`, re-pointed at a temp project), in the order Claude Code sends them. Also the
//! concurrency proofs: parallel writers lose nothing, and killed writers never tear the state file.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_feedback-loop");

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    session: String,
}

impl Project {
    fn new(agents: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
        for a in agents {
            std::fs::write(
                root.join(format!(".claude/agents/{a}.md")),
                format!("---\nname: {a}\ndescription: {a}\n---\n"),
            )
            .unwrap();
        }
        Self {
            _dir: dir,
            root,
            session: "5e55-10n".into(),
        }
    }

    fn captured(&self, name: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../fixtures/events/{name}.json"));
        let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        e["session_id"] = json!(self.session);
        e["cwd"] = json!(self.root.display().to_string());
        e["prompt_id"] = json!("p1");
        e
    }

    fn write(&self, rel: &str, agent: Option<&str>) -> Value {
        let mut e = self.captured(if agent.is_some() {
            "PostToolUse-Write-subagent"
        } else {
            "PostToolUse-Write"
        });
        let path = self.root.join(rel).display().to_string();
        e["tool_input"] = json!({"file_path": path, "content": "x"});
        if let Some(a) = agent {
            e["agent_type"] = json!(a);
        }
        e
    }

    fn bash(&self, command: &str, failed: bool) -> Value {
        let mut e = self.captured(if failed {
            "PostToolUseFailure-Bash"
        } else {
            "PostToolUse-Bash"
        });
        e["tool_input"] = json!({"command": command});
        e
    }

    fn subagent_stop(&self, agent_type: &str, message: &str) -> Value {
        let mut e = self.captured("SubagentStop-subagent");
        e["agent_type"] = json!(agent_type);
        e["last_assistant_message"] = json!(message);
        e["background_tasks"] = json!([]);
        e
    }

    fn stop(&self, active: bool) -> Value {
        let mut e = self.captured("Stop");
        e["stop_hook_active"] = json!(active);
        e
    }

    fn run(&self, event: &Value) -> Output {
        portcullis_testkit::run_with_stdin(&mut self.command(), event.to_string().as_bytes())
            .unwrap()
    }

    fn command(&self) -> Command {
        portcullis_testkit::hook_command(BIN, &self.root)
    }

    /// Runs an event that must be allowed silently.
    fn quiet(&self, event: &Value) {
        let out = self.run(event);
        assert!(out.status.success(), "{out:?}");
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    /// Runs an event and returns its verdict JSON.
    fn verdict(&self, event: &Value) -> Value {
        let out = self.run(event);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    fn ledger_path(&self) -> PathBuf {
        self.root
            .join(".claude/portcullis/sessions")
            .join(&self.session)
            .join("feedback-loop.json")
    }

    fn ledger(&self) -> Value {
        let v: Value = serde_json::from_slice(&std::fs::read(self.ledger_path()).unwrap()).unwrap();
        v["state"].clone()
    }

    fn cli(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }
}

#[test]
fn two_domains_go_round_again_when_one_test_fails() {
    let p = Project::new(&[
        "backend-reviewer",
        "backend-tester",
        "frontend-reviewer",
        "frontend-tester",
    ]);
    p.quiet(&p.write("api/x.go", Some("backend-developer")));
    p.quiet(&p.write("web/app.tsx", Some("frontend-developer")));
    let v = p.verdict(&p.stop(false));
    assert_eq!(v["decision"], "block");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("- backend (api/x.go)") && reason.contains("- frontend (web/app.tsx)"),
        "{reason}"
    );

    p.quiet(&p.subagent_stop("backend-reviewer", "VERDICT: PASS"));
    p.quiet(&p.subagent_stop("frontend-reviewer", "VERDICT: PASS"));
    p.quiet(&p.subagent_stop("backend-tester", "VERDICT: PASS"));
    p.quiet(&p.subagent_stop("frontend-tester", "2 failures.\nVERDICT: FAIL"));
    let l = p.ledger();
    assert_eq!(l["iteration"], 1);
    assert_eq!(
        l["domains"]["backend"]["review"]["status"], "pending",
        "a fail anywhere resets everything"
    );
    assert_eq!(l["domains"]["backend"]["testing"]["status"], "pending");

    let v = p.verdict(&p.stop(true));
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("Round 2 of 10: testing failed in `frontend`"),
        "{reason}"
    );

    p.quiet(&p.write("web/app.tsx", Some("frontend-developer")));
    for agent in [
        "backend-reviewer",
        "frontend-reviewer",
        "backend-tester",
        "frontend-tester",
    ] {
        p.quiet(&p.subagent_stop(agent, "VERDICT: PASS"));
    }
    p.quiet(&p.stop(true));
    assert_eq!(
        p.ledger()["domains"],
        json!({}),
        "a verified stop starts the next task clean"
    );
    p.quiet(&p.stop(false));
}

/// Issue 36, item 1: agents named as people name them (`code-reviewer`, `test-runner`) review and test
/// every modified domain; the block names them, and their verdicts clear every domain.
#[test]
fn a_code_reviewer_and_a_test_runner_serve_every_domain() {
    let p = Project::new(&["code-reviewer", "test-runner"]);
    p.quiet(&p.write("api/x.go", Some("backend-developer")));
    p.quiet(&p.write("web/app.tsx", Some("frontend-developer")));
    let v = p.verdict(&p.stop(false));
    assert_eq!(v["decision"], "block");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("spawn `code-reviewer`") && reason.contains("spawn `test-runner`"),
        "{reason}"
    );
    p.quiet(&p.subagent_stop("code-reviewer", "Looks good.\nVERDICT: PASS"));
    p.quiet(&p.subagent_stop("test-runner", "All green.\nVERDICT: PASS"));
    let l = p.ledger();
    for d in ["backend", "frontend"] {
        assert_eq!(l["domains"][d]["review"]["status"], "pass", "{d}: {l}");
        assert_eq!(l["domains"][d]["testing"]["status"], "pass", "{d}: {l}");
    }
    p.quiet(&p.stop(true));
}

/// Issue 36, item 2: a test run counts for the domains whose code it tests: `npm test` in the web package
/// clears only the front end; `pytest` clears the Python scripts without a pytest config at the root;
/// `go test ./api/...` clears the back end. The block names the command for each domain, not a pattern.
#[test]
fn a_test_run_clears_only_the_domains_it_tests() {
    let p = Project::new(&["code-reviewer"]);
    std::fs::create_dir_all(p.root.join("web")).unwrap();
    std::fs::create_dir_all(p.root.join("api")).unwrap();
    std::fs::write(p.root.join("web/package.json"), "{}").unwrap();
    std::fs::write(p.root.join("api/go.mod"), "module x\n").unwrap();
    std::fs::create_dir_all(p.root.join("scripts")).unwrap();
    std::fs::write(p.root.join("scripts/requirements.txt"), "pytest\n").unwrap();
    std::fs::write(
        p.root.join(".claude/portcullis.json"),
        r#"{"domains": {"frontend": ["web/**"], "backend": ["api/**"], "data": ["scripts/**"]}}"#,
    )
    .unwrap();
    p.quiet(&p.write("web/src/app.tsx", Some("frontend-developer")));
    p.quiet(&p.write("api/x.go", Some("backend-developer")));
    p.quiet(&p.write("scripts/etl.py", Some("data-developer")));
    p.quiet(&p.subagent_stop("code-reviewer", "VERDICT: PASS"));
    let reason = p.verdict(&p.stop(false))["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("run `npm test` in `web/`"), "{reason}");
    assert!(reason.contains("run `go test ./...` in `api/`"), "{reason}");
    assert!(
        !reason.contains("matching"),
        "no pattern is shown: {reason}"
    );
    let domains = p.ledger()["domains"].clone();
    let domain_of = |file: &str| {
        domains
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, d)| d["files"].as_array().unwrap().iter().any(|f| f == file))
            .map(|(k, _)| k.clone())
            .unwrap()
    };
    let (web, api, scripts) = (
        domain_of("web/src/app.tsx"),
        domain_of("api/x.go"),
        domain_of("scripts/etl.py"),
    );
    let testing = |d: &str| p.ledger()["domains"][d]["testing"]["status"].clone();
    p.quiet(&p.bash("cd web && npm test", false));
    assert_eq!(testing(&web), "pass");
    assert_eq!(testing(&api), "pending", "npm test is no test of Go");
    assert_eq!(testing(&scripts), "pending");
    p.quiet(&p.bash("/usr/local/bin/pytest scripts/", false));
    assert_eq!(
        testing(&scripts),
        "pass",
        "pytest counts without a pytest config at the root"
    );
    assert_eq!(testing(&api), "pending");
    p.quiet(&p.bash("go test ./api/...", false));
    assert_eq!(testing(&api), "pass");
    p.quiet(&p.stop(true));
}

#[test]
fn a_test_command_stands_in_for_a_missing_tester() {
    let p = Project::new(&["backend-reviewer"]);
    std::fs::write(p.root.join("go.mod"), "module x\n").unwrap();
    p.quiet(&p.write("api/x.go", None));
    p.quiet(&p.subagent_stop("backend-reviewer", "VERDICT: PASS"));
    let reason = p.verdict(&p.stop(false))["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("testing pending -> run `go test ./...` in Bash"),
        "{reason}"
    );
    p.quiet(&p.bash("echo go test", false));
    assert_eq!(
        p.ledger()["domains"]["backend"]["testing"]["status"],
        "pending",
        "a command that only mentions the tests is no test run"
    );
    let v = p.verdict(&p.bash("go test ./...", true));
    assert!(
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("round 2 of 10")
    );
    assert_eq!(p.ledger()["iteration"], 1, "a failed run is a round");
    p.quiet(&p.subagent_stop("backend-reviewer", "VERDICT: PASS"));
    p.quiet(&p.bash("go test ./...", false));
    assert_eq!(
        p.ledger()["domains"]["backend"]["testing"]["status"],
        "pass"
    );
    p.quiet(&p.stop(true));
}

#[test]
fn edits_outside_tracked_domains_leave_no_record() {
    let p = Project::new(&["backend-reviewer"]);
    for rel in [
        "README.md",
        "docs/guide.md",
        ".claude/hooks/x.py",
        "notes.txt",
    ] {
        p.quiet(&p.write(rel, None));
    }
    let mut outside = p.write("x.go", None);
    outside["tool_input"]["file_path"] = json!("/etc/x.go");
    p.quiet(&outside);
    assert!(!p.ledger_path().exists());
}

#[test]
fn the_command_line_shows_records_and_resets() {
    let p = Project::new(&["backend-reviewer", "backend-tester"]);
    p.quiet(&p.write("api/x.go", None));
    let out = p.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.contains("backend (api/x.go)") && text.contains("review   pending"),
        "{text}"
    );

    let out = p.cli(&[
        "record", "--domain", "backend", "--phase", "review", "--result", "pass",
    ]);
    assert!(out.status.success(), "{out:?}");
    let out = p.cli(&["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["domains"][0]["review"]["status"], "pass");
    assert_eq!(v["domains"][0]["missing"], json!(["testing"]));
    assert_eq!(v["verified"], false);

    let out = p.cli(&[
        "record", "--domain", "frontend", "--phase", "review", "--result", "pass",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no changes on record"));

    let out = p.cli(&[
        "record", "--domain", "backend", "--phase", "testing", "--result", "maybe",
    ]);
    assert_eq!(out.status.code(), Some(64), "a usage error is never exit 2");

    assert!(p.cli(&["reset"]).status.success());
    assert_eq!(p.ledger()["domains"], json!({}));
    p.quiet(&p.stop(false));
}

/// Issue 36: `status` is a table: each phase's status, who set it and what is left to do stand in columns
/// that line up, however long a verdict's source is.
#[test]
fn status_lines_up_its_columns() {
    let p = Project::new(&["backend-reviewer", "backend-tester"]);
    p.quiet(&p.write("api/x.go", None));
    let out = p.cli(&[
        "record", "--domain", "backend", "--phase", "review", "--result", "pass",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(p.cli(&["status"]).stdout).unwrap();
    let line = |start: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no {start} line in\n{text}"))
    };
    let (header, review, testing) = (line("phase"), line("review"), line("testing"));
    let column = |l: &str, word: &str| l.find(word).unwrap_or_else(|| panic!("{word} in {l}"));
    assert_eq!(column(header, "status"), column(review, "pass"), "{text}");
    assert_eq!(
        column(header, "status"),
        column(testing, "pending"),
        "{text}"
    );
    assert_eq!(
        column(header, "heard from"),
        column(review, "`feedback-loop record`"),
        "{text}"
    );
    assert_eq!(
        column(header, "to pass"),
        column(testing, "spawn `backend-tester`"),
        "{text}"
    );
    assert!(
        review.trim_end().ends_with(" -"),
        "a passed phase has nothing to do: {review}"
    );
}

/// A table of 8 domains, one folder each.
fn eight_domains(p: &Project) {
    let table: serde_json::Map<String, Value> = (0..8)
        .map(|i| (format!("d{i}"), json!([format!("d{i}/**")])))
        .collect();
    std::fs::write(
        p.root.join(".claude/portcullis.json"),
        json!({"domains": table}).to_string(),
    )
    .unwrap();
}

#[test]
fn sixty_four_parallel_edits_lose_nothing() {
    let p = Project::new(&[]);
    eight_domains(&p);
    let children: Vec<_> = (0..64)
        .map(|i| {
            let mut child = p.command().stdin(Stdio::piped()).spawn().unwrap();
            let event = p.write(&format!("d{}/f{i}.rs", i % 8), None);
            child
                .stdin
                .take()
                .unwrap()
                .write_all(event.to_string().as_bytes())
                .unwrap();
            child
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let l = p.ledger();
    let domains = l["domains"].as_object().unwrap();
    assert_eq!(domains.len(), 8);
    let files: usize = domains
        .values()
        .map(|d| d["files"].as_array().unwrap().len())
        .sum();
    assert_eq!(files, 64);
}

#[test]
fn killed_writers_never_tear_the_state_file() {
    let p = Project::new(&[]);
    eight_domains(&p);
    let dir = p.ledger_path().parent().unwrap().to_path_buf();
    let mut survivors = Vec::new();
    for round in 0..4u64 {
        let children: Vec<_> = (0..16u64)
            .map(|i| {
                let n = round * 16 + i;
                let mut child = p.command().stdin(Stdio::piped()).spawn().unwrap();
                let event = p.write(&format!("d{}/f{n}.rs", n % 8), None);
                let _ = child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(event.to_string().as_bytes());
                (n, child)
            })
            .collect();
        for (n, mut child) in children {
            // A spread of kill points: before start-up, mid-update, after exit (kill is then a no-op).
            if (n * 7 + round) % 3 == 0 {
                std::thread::sleep(std::time::Duration::from_micros((n * 397) % 3000));
                let _ = child.kill();
            }
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                survivors.push(format!("d{}/f{n}.rs", n % 8));
            }
        }
        // After every round: the file parses as a whole ledger, and nothing was set aside as corrupt.
        let l = p.ledger();
        assert!(l["domains"].is_object());
        let corrupt = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
            .count();
        assert_eq!(corrupt, 0);
    }
    let l = p.ledger();
    for file in &survivors {
        let domain = &file[..2];
        let listed = l["domains"][domain]["files"].as_array().unwrap();
        assert!(
            listed.iter().any(|f| f == file),
            "{file} finished but is missing"
        );
    }
    assert!(
        survivors.len() >= 32,
        "most writers finish: {}",
        survivors.len()
    );
}
