//! The corpus (`fixtures/context-filter/corpus/`, made by `scripts/filter-corpus.sh` with real tools on a
//! real machine): each output goes through the real binary as Claude Code hands it over (an output over
//! 30,000 bytes cut there, the whole saved at `persistedOutputPath`). Every fact in `<name>.facts` must
//! survive, the saved copy must be the original byte for byte, small outputs get no answer, no secret is
//! shown, and outputs over 16 KB shrink by at least 70% on average.

// Helpers outside #[test] functions: a panic with the failing value is what a test wants.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::decide::captured;
use portcullis_testkit::{run_with_stdin, workspace_bin};
use serde_json::{Value, json};

/// The client's cut (PROTOCOL.md §5).
const CLIENT_CUT: usize = 30_000;

/// Each corpus output and the command that printed it.
const CORPUS: &[(&str, &str)] = &[
    ("cargo-test-failing", "cargo test"),
    ("cargo-test-passing", "cargo test"),
    ("cargo-build-errors", "cargo build"),
    ("pytest-failing", "pytest -v"),
    ("git-log-stat", "git log --stat -n 60"),
    (
        "git-diff",
        "git diff HEAD~12 HEAD -- crates/feedback-loop crates/portcullis",
    ),
    (
        "listing",
        "ls -la */src; find . -maxdepth 3 -name '*.rs' | sort | head -3000",
    ),
    (
        "cargo-metadata.json",
        "cargo metadata --format-version 1 --no-deps",
    ),
    (
        "npm-install",
        "npm install --loglevel http express@4 request@2",
    ),
    ("copy-log", "cp -v src/*.dat backup/"),
    ("small", "git log --oneline -n 5"),
    ("secret-inside", "./fetch-issues.sh"),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/context-filter/corpus")
}

struct Run {
    original: Vec<u8>,
    shown: Option<String>,
    saved: Option<Vec<u8>>,
}

fn run(name: &str, command: &str) -> Run {
    let original = std::fs::read(corpus_dir().join(format!("{name}.out"))).unwrap();
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    let mut response = json!({"stdout": text, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false});
    if original.len() > CLIENT_CUT {
        // As the client does: the first 30,000 bytes inline, the whole in a file of its own.
        let persisted = root.join("client-tool-results.txt");
        std::fs::write(&persisted, &original).unwrap();
        let mut cut = CLIENT_CUT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        response["stdout"] = json!(&text[..cut]);
        response["persistedOutputPath"] = json!(persisted);
        response["persistedOutputSize"] = json!(original.len());
    }
    let event = captured(
        "PostToolUse-Bash",
        &root,
        "c0ffee00-0000-4000-8000-000000000037",
        &json!({"tool_input": {"command": command}, "tool_response": response}),
    );
    let mut cmd = Command::new(workspace_bin("context-filter"));
    cmd.current_dir(&root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("home"))
        .env("CLAUDE_PROJECT_DIR", &root);
    let out = run_with_stdin(&mut cmd, &serde_json::to_vec(&event).unwrap()).unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        return Run {
            original,
            shown: None,
            saved: None,
        };
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown = v["hookSpecificOutput"]["updatedToolOutput"]["stdout"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {v}"))
        .to_owned();
    let saved_at = shown
        .lines()
        .last()
        .unwrap()
        .split('`')
        .nth(1)
        .unwrap()
        .to_owned();
    let saved = std::fs::read(root.join(saved_at)).ok();
    Run {
        original,
        shown: Some(shown),
        saved,
    }
}

#[test]
fn the_corpus_keeps_every_fact_in_far_fewer_bytes() {
    let mut ratios = Vec::new();
    let mut table = String::from("output                bytes    shown  saved\n");
    for (name, command) in CORPUS {
        let r = run(name, command);
        let facts = std::fs::read_to_string(corpus_dir().join(format!("{name}.facts"))).unwrap();
        let original = String::from_utf8_lossy(&r.original);
        if r.original.len() < 8 * 1024 {
            assert!(r.shown.is_none(), "{name}: a small output got an answer");
            continue;
        }
        let shown = r.shown.unwrap_or_else(|| panic!("{name}: not filtered"));
        assert_eq!(
            r.saved.as_deref(),
            Some(&r.original[..]),
            "{name}: the saved copy differs"
        );
        for fact in facts.lines().filter(|f| !f.trim().is_empty()) {
            assert!(
                fact.starts_with("GITHUB_TOKEN=[REDACTED") || original.contains(fact),
                "{name}: `{fact}` is no fact of the output"
            );
            assert!(shown.contains(fact), "{name}: lost `{fact}`:\n{shown}");
        }
        assert!(
            !shown.contains("ghp_R8v2kLq9ZxWm4Tn7Yp3Hs6Jd1Fg5Ac0Eb2Ku"),
            "{name}: a secret is shown"
        );
        let ratio = shown.len() as f64 / r.original.len() as f64;
        let _ = writeln!(
            table,
            "{name:<20} {:>8} {:>8}  {:>4.0}%",
            r.original.len(),
            shown.len(),
            100.0 * (1.0 - ratio)
        );
        if r.original.len() > 16 * 1024 {
            ratios.push(ratio);
        }
    }
    let mean_saved = 1.0 - ratios.iter().sum::<f64>() / ratios.len() as f64;
    println!(
        "{table}mean saved over {} outputs above 16 KB: {:.0}%",
        ratios.len(),
        100.0 * mean_saved
    );
    assert!(ratios.len() >= 8, "{table}");
    assert!(mean_saved >= 0.70, "{table}mean saved {mean_saved:.2}");
}
