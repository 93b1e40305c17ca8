//! Whole-process benchmark: what a user feels per hook call.
//!
//! `cargo bench -p suite-tests --bench process [-- RUNS]` builds release binaries, then times each case
//! (spawn, feed stdin, wait) interleaved with a baseline Rust binary that only reads stdin, and prints the
//! median of each and their ratio. Interleaving spreads machine noise evenly over case and baseline, which
//! is why ratios are reported, not absolute times. Not a test: nothing here fails on a slow machine.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a bench report, not a hook

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    bin: PathBuf,
    stdin: Vec<u8>,
    project: PathBuf,
    /// Files removed before every timed run (untimed), so each run takes the same path.
    reset: Vec<PathBuf>,
    /// Files written back before every timed run (untimed), for the same reason.
    restore: Vec<(PathBuf, Vec<u8>)>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn release_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(&cargo)
        .current_dir(root())
        .args([
            "build",
            "--release",
            "--quiet",
            "--workspace",
            "--bins",
            "--examples",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "release build failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), PathBuf::from)
        .join("release")
}

fn time_once(bin: &Path, stdin: &[u8], project: &Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .current_dir(project)
        .env("CLAUDE_PROJECT_DIR", project)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait().unwrap();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap()
}

/// A project with `n_agents` agent files and `n_domains` domains in its config.
fn agent_project(dir: &Path, n_agents: usize, n_domains: usize) {
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

fn write_event(project: &Path, file: &str) -> Vec<u8> {
    format!(
        r#"{{"session_id":"511df9ea-07c9-4523-a20d-a6d41c7e459a","transcript_path":"/nonexistent.jsonl","cwd":"{p}","permission_mode":"bypassPermissions","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{{"file_path":"{p}/{file}","content":"package api\n"}},"tool_use_id":"toolu_1"}}"#,
        p = project.display()
    )
    .into_bytes()
}

/// A transcript of about `bytes` built by repeating the lines of a recorded session (minus its last
/// response), then that session's final request and response: the hook must find the end without reading
/// the rest.
fn big_transcript(path: &Path, bytes: u64) {
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

fn agent_event(project: &Path, transcript: &Path) -> Vec<u8> {
    format!(
        r#"{{"session_id":"s","transcript_path":"{t}","cwd":"{p}","permission_mode":"bypassPermissions","hook_event_name":"PreToolUse","tool_name":"Agent","tool_input":{{"description":"d","prompt":"p","subagent_type":"general-purpose"}},"tool_use_id":"toolu_1"}}"#,
        t = transcript.display(),
        p = project.display()
    )
    .into_bytes()
}

/// A captured event re-pointed at `project`, with `changes` applied.
fn captured(name: &str, project: &Path, changes: &serde_json::Value) -> Vec<u8> {
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
fn feedback_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
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
fn output_location_write_case(rel: &Path, project: &Path) -> Case {
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

/// Runs `bin` once on `stdin` in `project` (setup, untimed).
fn run_once(bin: &Path, project: &Path, stdin: &[u8]) {
    let mut child = Command::new(bin)
        .current_dir(project)
        .env("CLAUDE_PROJECT_DIR", project)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    assert!(child.wait().unwrap().success());
}

/// loop-detect: a tool result with no failure on record (the common path), and a Stop whose 100 KB
/// answer is the third near-identical one (normalise, compare every pair, write, log).
fn loop_detect_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let bin = rel.join("loop-detect");
    let project = tmp.join("loop");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    let answer = |attempt: u32| {
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
    };
    let stop = |attempt| {
        captured(
            "Stop",
            &project,
            &serde_json::json!({"last_assistant_message": answer(attempt), "prompt_id": "p"}),
        )
    };
    run_once(&bin, &project, &stop(1));
    run_once(&bin, &project, &stop(2));
    let state = project.join(".claude/portcullis/sessions/bench/loop-detect.json");
    let two_on_record = std::fs::read(&state).unwrap();
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
            name: "loop-detect / Stop, third 100 KB answer: stuck",
            bin,
            stdin: stop(3),
            project,
            reset: vec![],
            restore: vec![(state, two_on_record)],
        },
    ]
}

/// escalation-advisor on stops that do not escalate: the first stop of a prompt (one state load and write)
/// and a blocked stop below the threshold (the decision log, 5,000 entries, is read back for the agent).
fn escalation_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
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
    run_once(&bin, &project, &stop(false));
    run_once(&bin, &project, &stop(true));
    let one_block_on_record = std::fs::read(&state).unwrap();
    vec![
        Case {
            name: "escalation-advisor / Stop, first of a prompt",
            bin: bin.clone(),
            stdin: stop(false),
            project: project.clone(),
            reset: vec![state.clone()],
            restore: vec![],
        },
        Case {
            name: "escalation-advisor / Stop, 2nd block (log read)",
            bin,
            stdin: stop(false),
            project,
            reset: vec![],
            restore: vec![(state, one_block_on_record)],
        },
    ]
}

/// A git repository of `files` committed files (in folders of 100) plus 10 untracked ones, 5 of them
/// Markdown, and a SessionStart baseline taken before they appeared.
fn big_repo(dir: &Path, files: usize, bin: &Path) {
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

/// output-location's Stop check against `git status --porcelain` on the same repository (the issue's
/// target: no slower than git itself). Both are whole processes, interleaved.
fn output_location_vs_git(rel: &Path, tmp: &Path, runs: usize) {
    let bin = rel.join("output-location");
    let repo = tmp.join("big-repo");
    let files = if std::env::var_os("PORTCULLIS_BENCH_SMALL").is_some() {
        5_000
    } else {
        50_000
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
    println!(
        "{:<48} {:>10.0}µs {:>10.0}µs {:>6.2}x   (baseline: git status --porcelain)",
        format!("output-location / Stop, {files} files, 10 new"),
        h.as_secs_f64() * 1e6,
        g.as_secs_f64() * 1e6,
        h.as_secs_f64() / g.as_secs_f64()
    );
}

/// Peak resident memory (KiB) of one run, from `/usr/bin/time -f %M`; `None` without it.
fn peak_kib(bin: &Path, stdin: &[u8], project: &Path) -> Option<u64> {
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .current_dir(project)
        .env("CLAUDE_PROJECT_DIR", project)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(stdin).ok()?;
    let out = child.wait_with_output().ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

/// compaction-gate on transcripts of 1 MB, 100 MB and 1 GB (PORTCULLIS_BENCH_SMALL=1 skips the 1 GB).
fn gate_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
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

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300);
    let rel = release_dir();
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(plain.join(".claude")).unwrap();
    let big = tmp.path().join("big");
    agent_project(&big, 50, 20);

    let cases = vec![
        Case {
            name: "noop-hook (chassis) / PreToolUse Write",
            bin: rel.join("examples/noop_hook"),
            stdin: fixture("fixtures/events/PreToolUse-Write.json"),
            project: plain.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / PreToolUse Read (not an edit)",
            bin: rel.join("agent-first"),
            stdin: fixture("fixtures/events/PreToolUse-Read.json"),
            project: plain.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / allow: path no domain claims",
            bin: rel.join("agent-first"),
            stdin: write_event(&big, "notes.txt"),
            project: big.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / deny: 50 agents, 20 domains",
            bin: rel.join("agent-first"),
            stdin: write_event(&big, "api/x.go"),
            project: big.clone(),
            reset: vec![],
            restore: vec![],
        },
    ];
    let gate_cases = gate_cases(&rel, tmp.path());
    let mut cases = cases;
    cases.extend(gate_cases);
    cases.extend(feedback_cases(&rel, tmp.path()));
    cases.push(output_location_write_case(&rel, &big));
    cases.extend(loop_detect_cases(&rel, tmp.path()));
    cases.extend(escalation_cases(&rel, tmp.path()));
    let baseline = rel.join("examples/empty_stdin");
    println!(
        "whole-process timing, {runs} runs each, interleaved with `empty_stdin` (reads stdin, exits)"
    );
    println!(
        "{:<48} {:>12} {:>12} {:>7} {:>10}",
        "case", "median", "baseline", "ratio", "peak RSS"
    );
    for case in &cases {
        let (mut hook, mut base) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        for _ in 0..10 {
            time_once(&case.bin, &case.stdin, &case.project);
        }
        for _ in 0..runs {
            for f in &case.reset {
                let _ = std::fs::remove_file(f);
            }
            for (f, bytes) in &case.restore {
                std::fs::write(f, bytes).unwrap();
            }
            hook.push(time_once(&case.bin, &case.stdin, &case.project));
            base.push(time_once(&baseline, &case.stdin, &case.project));
        }
        let (h, b) = (median(hook), median(base));
        let peak = peak_kib(&case.bin, &case.stdin, &case.project).map_or_else(
            || "?".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        );
        println!(
            "{:<48} {:>10.0}µs {:>10.0}µs {:>6.2}x {:>10}",
            case.name,
            h.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            h.as_secs_f64() / b.as_secs_f64(),
            peak
        );
    }
    output_location_vs_git(&rel, tmp.path(), runs);
}
