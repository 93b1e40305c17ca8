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

#[path = "process_cases.rs"]
mod cases;

use cases::{
    agent_project, escalation_cases, feedback_cases, fixture, gate_cases, loop_detect_cases,
    output_location_vs_git, output_location_write_case, write_event,
};

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

/// The chassis alone, and agent-first on its common and worst paths.
fn chassis_and_agent_first_cases(rel: &Path, tmp: &Path, plain: &Path, big: &Path) -> Vec<Case> {
    // A monorepo package whose manifest names a UI framework, with agents but none for its domain.
    let mono = tmp.join("mono");
    std::fs::create_dir_all(mono.join("packages/site/src")).unwrap();
    std::fs::write(
        mono.join("packages/site/package.json"),
        r#"{"dependencies": {"react": "18", "react-dom": "18"}}"#,
    )
    .unwrap();
    agent_project(&mono, 10, 0);

    vec![
        Case {
            name: "noop-hook (chassis) / PreToolUse Write",
            bin: rel.join("examples/noop_hook"),
            stdin: fixture("fixtures/events/PreToolUse-Write.json"),
            project: plain.to_path_buf(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / PreToolUse Read (not an edit)",
            bin: rel.join("agent-first"),
            stdin: fixture("fixtures/events/PreToolUse-Read.json"),
            project: plain.to_path_buf(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / allow: path no domain claims",
            bin: rel.join("agent-first"),
            stdin: write_event(big, "notes.txt"),
            project: big.to_path_buf(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / allow: .ts by package.json, no agent for it",
            bin: rel.join("agent-first"),
            stdin: write_event(&mono, "packages/site/src/App.ts"),
            project: mono.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / deny: built-in table, 10 agents",
            bin: rel.join("agent-first"),
            stdin: write_event(&mono, "lib/parse.c"),
            project: mono.clone(),
            reset: vec![],
            restore: vec![],
        },
        Case {
            name: "agent-first / deny: 50 agents, 20 domains",
            bin: rel.join("agent-first"),
            stdin: write_event(big, "api/x.go"),
            project: big.to_path_buf(),
            reset: vec![],
            restore: vec![],
        },
    ]
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
    let cases = chassis_and_agent_first_cases(&rel, tmp.path(), &plain, &big);
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
