//! The cases of the process bench, one builder per hook (and the captured-event helpers they share).
//! Every registered hook has at least one case here; `tests/suite/registry.rs` checks it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Case, median, root, run_once, time_once};

pub(crate) fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap()
}

/// A project with `n_agents` agent files and `n_domains` domains in its config.
pub(crate) fn agent_project(dir: &Path, n_agents: usize, n_domains: usize) {
    let agents = dir.join(".claude/agents");
    std::fs::create_dir_all(&agents).unwrap();
    for i in 0..n_agents {
        let name = if i == 0 {
            "backend-developer".to_owned()
        } else {
            format!("agent-{i}")
        };
        std::fs::write(
            agents.join(format!("{name}.md")),
            format!("---\nname: {name}\ndescription: d\n---\nbody\n"),
        )
        .unwrap();
    }
    if n_domains > 0 {
        let mut domains: Vec<String> = (1..n_domains)
            .map(|i| format!("\"d{i}\": [\"d{i}/**\", \"**/*.d{i}\"]"))
            .collect();
        domains.push("\"backend\": [\"api/**\", \"**/*.go\"]".into());
        std::fs::write(
            dir.join(".claude/portcullis.json"),
            format!("{{\"domains\": {{{}}}}}", domains.join(", ")),
        )
        .unwrap();
    }
}

pub(crate) fn write_event(project: &Path, file: &str) -> Vec<u8> {
    format!(
        r#"{{"session_id":"511df9ea-07c9-4523-a20d-a6d41c7e459a","transcript_path":"/nonexistent.jsonl","cwd":"{p}","permission_mode":"bypassPermissions","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{{"file_path":"{p}/{file}","content":"package api\n"}},"tool_use_id":"toolu_1"}}"#,
        p = project.display()
    )
    .into_bytes()
}

/// A transcript of about `bytes` built by repeating the lines of a recorded session (minus its last
/// response), then that session's final request and response: the hook must find the end without reading
/// the rest.
pub(crate) fn big_transcript(path: &Path, bytes: u64) {
    let session = std::fs::read_dir(root().join("tests/replay/gate-deny"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(session).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let body = lines[..lines.len() - 1].join("\n") + "\n";
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0;
    while written < bytes {
        f.write_all(body.as_bytes()).unwrap();
        written += body.len() as u64;
    }
    writeln!(f, "{}", lines[lines.len() - 1]).unwrap();
    f.flush().unwrap();
}

/// The `Agent` call of the recorded session's last response (the gate finds its id in the transcript, as
/// with the real client, and does not wait for it).
pub(crate) fn agent_event(project: &Path, transcript: &Path) -> Vec<u8> {
    format!(
        r#"{{"session_id":"s","transcript_path":"{t}","cwd":"{p}","permission_mode":"bypassPermissions","hook_event_name":"PreToolUse","tool_name":"Agent","tool_input":{{"description":"d","prompt":"p","subagent_type":"general-purpose"}},"tool_use_id":"toolu_standin_0002"}}"#,
        t = transcript.display(),
        p = project.display()
    )
    .into_bytes()
}

/// A captured event re-pointed at `project`, with `changes` applied.
pub(crate) fn captured(name: &str, project: &Path, changes: &serde_json::Value) -> Vec<u8> {
    let mut e: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("fixtures/events/{name}.json"))).unwrap();
    e["cwd"] = project.display().to_string().into();
    e["session_id"] = "bench".into();
    for (k, v) in changes.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string().into_bytes()
}

/// feedback-loop: the common paths (a Bash call or a Stop with nothing modified, an edit already on record)
/// and the writing ones (a first edit, a blocking Stop) in a project with reviewer and tester agents.
pub(crate) fn feedback_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let bin = rel.join("feedback-loop");
    let clean = tmp.join("fl-clean");
    agent_project(&clean, 50, 0);
    let dirty = tmp.join("fl-dirty");
    agent_project(&dirty, 50, 0);
    for a in ["backend-reviewer", "backend-tester", "frontend-reviewer"] {
        std::fs::write(
            dirty.join(format!(".claude/agents/{a}.md")),
            format!("---\nname: {a}\n---\n"),
        )
        .unwrap();
    }
    let session = dirty.join(".claude/portcullis/sessions/bench");
    let write = |p: &Path, f: &str| {
        captured(
            "PostToolUse-Write",
            p,
            &serde_json::json!({"tool_input": {"file_path": p.join(f), "content": "x"}}),
        )
    };
    // Put two domains on record once; the timed runs below never clear them (no verdicts arrive).
    for f in ["api/x.go", "web/app.tsx"] {
        let mut child = Command::new(&bin)
            .current_dir(&dirty)
            .env("CLAUDE_PROJECT_DIR", &dirty)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&write(&dirty, f))
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
    let fresh = tmp.join("fl-fresh");
    agent_project(&fresh, 50, 0);
    vec![
        Case {
            name: "feedback-loop / Bash, nothing modified",
            bin: bin.clone(),
            stdin: captured("PostToolUse-Bash", &clean, &serde_json::json!({})),
            project: clean.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "feedback-loop / Stop, nothing modified",
            bin: bin.clone(),
            stdin: captured("Stop", &clean, &serde_json::json!({})),
            project: clean.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "feedback-loop / Write, file already on record",
            bin: bin.clone(),
            stdin: write(&dirty, "api/x.go"),
            project: dirty.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "feedback-loop / Write, first edit (locked write)",
            bin: bin.clone(),
            stdin: write(&fresh, "api/x.go"),
            project: fresh.clone(),
            reset: vec![fresh.join(".claude/portcullis/sessions/bench/feedback-loop.json")],
            restore: vec![],
        },
        Case {
            name: "feedback-loop / Stop, 2 domains unverified: block",
            bin,
            stdin: captured("Stop", &dirty, &serde_json::json!({})),
            project: dirty.clone(),
            reset: vec![session.join("stop-chains.json")],
            restore: vec![],
        },
    ]
}

/// output-location's `PostToolUse` common path: a subagent's write of a file that is no Markdown output.
pub(crate) fn output_location_write_case(rel: &Path, project: &Path) -> Case {
    Case {
        name: "output-location / subagent Write, not Markdown",
        bin: rel.join("output-location"),
        stdin: captured(
            "PostToolUse-Write-subagent",
            project,
            &serde_json::json!({"tool_input": {"file_path": project.join("api/x.go"), "content": "x"}}),
        ),
        project: project.to_owned(),
        reset: vec![],
        restore: vec![],
    }
}

/// A 100 KB answer of the loop-detect cases: lines of words, numbered by `attempt`.
fn loop_answer(attempt: u32) -> String {
    use std::fmt::Write as _;
    const WORDS: [&str; 16] = [
        "build", "failed", "module", "resolve", "import", "path", "retry", "cache", "error",
        "expected", "type", "found", "value", "trait", "bound", "lifetime",
    ];
    let mut s = String::new();
    let mut x: u64 = 7;
    let mut line = 0;
    while s.len() < 100 << 10 {
        line += 1;
        for _ in 0..8 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            s.push_str(WORDS[usize::try_from(x >> 60).unwrap()]);
            s.push(' ');
        }
        let _ = writeln!(
            s,
            "(line {line}, 2026-11-21T10:00:{attempt:02}Z, attempt {attempt})"
        );
    }
    s
}

/// loop-detect's third near-identical answer in `dir` (the first two on record before every run). A
/// stuck loop is one some gate holds (the earlier stops were blocked): here a hook outside portcullis, so
/// the advice is given at once and the case measures loop-detect's own work, not the wait for a gate.
fn stuck_case(
    name: &'static str,
    bin: &Path,
    dir: PathBuf,
    answer: impl Fn(u32) -> String,
) -> Case {
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    let stop = |attempt| {
        captured(
            "Stop",
            &dir,
            &serde_json::json!({"last_assistant_message": answer(attempt), "prompt_id": "p"}),
        )
    };
    run_once(bin, &dir, &stop(1));
    run_once(bin, &dir, &stop(2));
    let session = dir.join(".claude/portcullis/sessions/bench");
    let mut restore: Vec<(PathBuf, Vec<u8>)> = ["loop-detect.json", "loop-work.json"]
        .iter()
        .map(|f| (session.join(f), std::fs::read(session.join(f)).unwrap()))
        .collect();
    restore.push((
        session.join("stop-chains.json"),
        br#"{"schema_version":2,"state":{"agents":{"main":{"prompt":"p","base":1,"seen":{},"opened_unflagged":false}}}}"#.to_vec(),
    ));
    Case {
        name,
        bin: bin.to_path_buf(),
        stdin: stop(3),
        project: dir,
        reset: vec![],
        restore,
    }
}

/// loop-detect: a tool result with no failure on record (the common path), and a Stop whose 100 KB
/// answer is the third near-identical one (normalise, compare every pair, write, log), also as one line.
pub(crate) fn loop_detect_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let bin = rel.join("loop-detect");
    let project = tmp.join("loop");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    // The pathological pair: the same lines in reverse order pass every cheap bound.
    let reordered = tmp.join("loop-reordered");
    std::fs::create_dir_all(reordered.join(".claude")).unwrap();
    let forward = loop_answer(1);
    let mut backward = forward.lines().rev().collect::<Vec<_>>().join("\n");
    backward.push('\n');
    let stop_with = |text: &str| {
        captured(
            "Stop",
            &reordered,
            &serde_json::json!({"last_assistant_message": text, "prompt_id": "p"}),
        )
    };
    run_once(&bin, &reordered, &stop_with(&forward));
    run_once(&bin, &reordered, &stop_with(&forward));
    let reordered_state = reordered.join(".claude/portcullis/sessions/bench/loop-detect.json");
    let reordered_on_record = std::fs::read(&reordered_state).unwrap();
    let attempts = project.join(".claude/portcullis/sessions/bench/attempts.json");
    vec![
        Case {
            name: "iteration-limit / PreToolUse Bash, counted",
            bin: rel.join("iteration-limit"),
            stdin: captured("PreToolUse-Bash", &project, &serde_json::json!({})),
            project: project.clone(),
            reset: vec![attempts],
            restore: vec![],
        },
        Case {
            name: "loop-detect / PostToolUse, no failure on record",
            bin: bin.clone(),
            stdin: captured("PostToolUse-Bash", &project, &serde_json::json!({})),
            project: project.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "loop-detect / Stop, 100 KB answer, same lines reordered",
            bin: bin.clone(),
            stdin: stop_with(&backward),
            reset: vec![reordered.join(".claude/portcullis/sessions/bench/stop-chains.json")],
            project: reordered.clone(),
            restore: vec![(reordered_state, reordered_on_record)],
        },
        stuck_case(
            "loop-detect / Stop, third 100 KB answer: stuck",
            &bin,
            project,
            loop_answer,
        ),
        // Issue 35, item 27: the same answers as one line each (no newline anywhere).
        stuck_case(
            "loop-detect / Stop, third 100 KB one-line answer: stuck",
            &bin,
            tmp.join("loop-one-line"),
            |attempt| loop_answer(attempt).replace('\n', " "),
        ),
    ]
}

/// escalation-advisor on stops that do not escalate: the first stop of a prompt (one state load and write)
/// and a blocked stop below the threshold (the decision log, 5,000 entries, is read back for the agent).
pub(crate) fn escalation_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    use std::fmt::Write as _;
    let bin = rel.join("escalation-advisor");
    let project = tmp.join("escalation");
    std::fs::create_dir_all(project.join(".claude/portcullis")).unwrap();
    let now = chrono::Utc::now();
    let mut log = String::new();
    for i in 0..5000_i64 {
        let time = (now - chrono::Duration::milliseconds(5000 - i))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let entry = serde_json::json!({
            "time": time, "session": if i % 2 == 0 { "bench" } else { "other" }, "agent": "main",
            "hook": "feedback-loop", "event": "Stop", "verdict": "block",
            "reason": "Domain `api` was modified and has not passed review and testing.", "micros": 900,
        });
        writeln!(log, "{entry}").unwrap();
    }
    std::fs::write(project.join(".claude/portcullis/log.jsonl"), log).unwrap();
    let stop = |active: bool| {
        captured(
            "Stop",
            &project,
            &serde_json::json!({"prompt_id": "p", "stop_hook_active": active}),
        )
    };
    let state = project.join(".claude/portcullis/sessions/bench/escalation.json");
    let chain = project.join(".claude/portcullis/sessions/bench/stop-chains.json");
    run_once(&bin, &project, &stop(false));
    run_once(&bin, &project, &stop(true));
    let one_block_on_record = std::fs::read(&state).unwrap();
    let chain_of_one = std::fs::read(&chain).unwrap();
    vec![
        Case {
            name: "escalation-advisor / Stop, first of a prompt",
            bin: bin.clone(),
            stdin: stop(false),
            project: project.clone(),
            reset: vec![state.clone(), chain.clone()],
            restore: vec![],
        },
        Case {
            name: "escalation-advisor / Stop, 2nd block (log read)",
            bin,
            stdin: stop(false),
            project,
            reset: vec![],
            restore: vec![(state, one_block_on_record), (chain, chain_of_one)],
        },
    ]
}

/// A git repository of `files` committed files (in folders of 100) plus 10 untracked ones, 5 of them
/// Markdown, and a SessionStart baseline taken before they appeared.
pub(crate) fn big_repo(dir: &Path, files: usize, bin: &Path) {
    for i in 0..files {
        let d = dir.join(format!("src/m{}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&d).unwrap();
        }
        let ext = if i % 10 == 0 { "md" } else { "rs" };
        std::fs::write(d.join(format!("f{i}.{ext}")), format!("{i}\n")).unwrap();
    }
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .current_dir(dir)
            .args([
                "-c",
                "user.name=b",
                "-c",
                "user.email=b@b",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "big"]);
    let start = captured("SessionStart-startup", dir, &serde_json::json!({}));
    let mut child = Command::new(bin)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&start).unwrap();
    assert!(child.wait().unwrap().success());
    for i in 0..10 {
        let ext = if i % 2 == 0 { "md" } else { "txt" };
        std::fs::write(dir.join(format!("src/m{i}/new{i}.{ext}")), "new\n").unwrap();
    }
}

/// The names of the git comparison in the report and the budget file, with 50,000 files and (under
/// `PORTCULLIS_BENCH_SMALL`) 5,000.
pub(crate) const VS_GIT: [&str; 2] = [
    "output-location / Stop, 50,000 files, 10 new",
    "output-location / Stop, 5,000 files, 10 new",
];

/// output-location's Stop check against `git status --porcelain` on the same repository (the target: no
/// slower than git itself). Both are whole processes, interleaved. Returns the name, the hook's median
/// and git's.
pub(crate) fn output_location_vs_git(
    rel: &Path,
    tmp: &Path,
    runs: usize,
) -> (&'static str, Duration, Duration) {
    let bin = rel.join("output-location");
    let repo = tmp.join("big-repo");
    let (files, name) = if std::env::var_os("PORTCULLIS_BENCH_SMALL").is_some() {
        (5_000, VS_GIT[1])
    } else {
        (50_000, VS_GIT[0])
    };
    big_repo(&repo, files, &bin);
    let stop = captured(
        "Stop",
        &repo,
        &serde_json::json!({"stop_hook_active": false}),
    );
    let state = repo.join(".claude/portcullis/sessions/bench/stop-chains.json");
    let git_status = |repo: &Path| {
        let start = Instant::now();
        let ok = Command::new("git")
            .current_dir(repo)
            .args(["status", "--porcelain"])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok);
        start.elapsed()
    };
    for _ in 0..5 {
        time_once(&bin, &stop, &repo);
        git_status(&repo);
    }
    let (mut hook, mut git) = (Vec::new(), Vec::new());
    for _ in 0..runs.min(100) {
        let _ = std::fs::remove_file(&state);
        hook.push(time_once(&bin, &stop, &repo));
        git.push(git_status(&repo));
    }
    let (h, g) = (median(hook), median(git));
    (name, h, g)
}

/// compaction-gate on transcripts of 1 MB, 100 MB and 1 GB (PORTCULLIS_BENCH_SMALL=1 skips the 1 GB).
pub(crate) fn gate_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let gate_project = tmp.join("gate");
    std::fs::create_dir_all(gate_project.join(".claude")).unwrap();
    let mut sizes: Vec<(&'static str, u64)> = vec![
        ("compaction-gate / Agent, 1 MB transcript", 1 << 20),
        ("compaction-gate / Agent, 100 MB transcript", 100 << 20),
    ];
    if std::env::var_os("PORTCULLIS_BENCH_SMALL").is_none() {
        sizes.push(("compaction-gate / Agent, 1 GB transcript", 1 << 30));
    }
    let mut gate_cases = Vec::new();
    for (name, bytes) in sizes {
        let path = gate_project.join(format!("t{bytes}.jsonl"));
        big_transcript(&path, bytes);
        gate_cases.push(Case {
            name,
            bin: rel.join("compaction-gate"),
            stdin: agent_event(&gate_project, &path),
            project: gate_project.clone(),
            reset: vec![],
            restore: vec![],
        });
    }
    gate_cases
}
