//! Fuzz targets and a mutation fuzzer that runs on the stable toolchain.
//!
//! cargo-fuzz (libFuzzer) needs a nightly compiler for its sanitizer instrumentation, and this project
//! builds on one pinned stable toolchain that cannot fetch another. So the fuzzer here is a plain mutation
//! fuzzer without coverage feedback: it starts from seed corpora (the captured events, recorded
//! transcripts, configs, and every saved regression), mutates them (bit flips, byte and token inserts,
//! deletions, duplications, splices of two seeds, JSON-shaped tokens such as deep brackets, `null`,
//! huge numbers and escapes), and runs each target, catching panics. A panicking input is saved under
//! `fuzz/findings/<target>/` and becomes a regression case in `fuzz/regressions/<target>/`, which
//! `cargo test -p portcullis-fuzz` replays. Each target also checks properties, not only the absence of
//! panics (see [`targets`]).

pub mod mutate;
pub mod targets;

use std::path::{Path, PathBuf};

/// A target: bytes in, `Err` with a description when a property fails (a panic is caught by the driver).
pub type Target = fn(&[u8]) -> Result<(), String>;

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("decide", targets::decide),
    ("transcript", targets::transcript),
    ("config", targets::config),
    ("verdict", targets::verdict),
    ("similarity", targets::similarity),
    ("shell", targets::shell),
    ("secrets", targets::secrets),
    ("definition", targets::definition),
];

/// The repository root.
#[must_use]
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seed corpus of a target: files from the repository, and its saved regressions.
#[must_use]
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let root = root();
    let list = |dir: PathBuf, ext: &str| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect();
        found.sort();
        found
    };
    let mut files = match target {
        "decide" | "verdict" => {
            let mut v = list(root.join("fixtures/events"), "json");
            v.extend(list(root.join("fixtures/events-codex"), "json"));
            v.extend(list(root.join("fixtures/events-gemini"), "json"));
            v.extend(list(root.join("fixtures/events-copilot"), "json"));
            v
        }
        "transcript" => list(root.join("tests/replay/mixed"), "jsonl"),
        "config" => vec![root.join("crates/fuzz/seeds/config.json")],
        "shell" => vec![
            root.join("crates/fuzz/seeds/shell.txt"),
            root.join("crates/fuzz/seeds/shell-hardening.txt"),
        ],
        "secrets" => vec![
            root.join("crates/portcullis-secrets/corpus/secrets.txt"),
            root.join("crates/portcullis-secrets/corpus/lookalikes.txt"),
        ],
        "definition" => {
            let defs = root.join("fixtures/audit/project/.claude");
            let mut v = list(defs.join("agents"), "md");
            for skill in ["clean-skill", "gateway-frontend", "broken-ref"] {
                v.push(defs.join("skills").join(skill).join("SKILL.md"));
            }
            v
        }
        _ => vec![root.join("crates/fuzz/seeds/similarity.txt")],
    };
    files.extend(list(root.join("fuzz/regressions").join(target), "bin"));
    let mut seeds: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        // Large seeds slow every mutation down; their first 64 KiB carry the shapes that matter.
        .map(|mut b| {
            b.truncate(64 * 1024);
            b
        })
        .collect();
    if seeds.is_empty() {
        seeds.push(b"{}".to_vec());
    }
    seeds
}

/// The saved regressions of a target (replayed by the tests).
#[must_use]
pub fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root().join("fuzz/regressions").join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect();
    out.sort();
    out
}
