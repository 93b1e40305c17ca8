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
        },
        Case {
            name: "agent-first / PreToolUse Read (not an edit)",
            bin: rel.join("agent-first"),
            stdin: fixture("fixtures/events/PreToolUse-Read.json"),
            project: plain.clone(),
        },
        Case {
            name: "agent-first / allow: path no domain claims",
            bin: rel.join("agent-first"),
            stdin: write_event(&big, "notes.txt"),
            project: big.clone(),
        },
        Case {
            name: "agent-first / deny: 50 agents, 20 domains",
            bin: rel.join("agent-first"),
            stdin: write_event(&big, "api/x.go"),
            project: big.clone(),
        },
    ];
    let baseline = rel.join("examples/empty_stdin");
    println!(
        "whole-process timing, {runs} runs each, interleaved with `empty_stdin` (reads stdin, exits)"
    );
    println!(
        "{:<48} {:>12} {:>12} {:>7}",
        "case", "median", "baseline", "ratio"
    );
    for case in &cases {
        let (mut hook, mut base) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        for _ in 0..10 {
            time_once(&case.bin, &case.stdin, &case.project);
        }
        for _ in 0..runs {
            hook.push(time_once(&case.bin, &case.stdin, &case.project));
            base.push(time_once(&baseline, &case.stdin, &case.project));
        }
        let (h, b) = (median(hook), median(base));
        println!(
            "{:<48} {:>10.0}µs {:>10.0}µs {:>6.2}x",
            case.name,
            h.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            h.as_secs_f64() / b.as_secs_f64()
        );
    }
}
