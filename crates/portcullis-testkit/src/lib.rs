//! Fixture replay for hook binaries, byte for byte.
//!
//! A case is `<dir>/<name>.toml` plus siblings:
//!
//! | file | meaning |
//! |---|---|
//! | `<name>.toml` | `bin` (required when several are registered), `status` (exit code, default 0), `args`, `[env]` |
//! | `<name>.stdin` | the event, fed on stdin (`[CWD]` is replaced by the sandbox path) |
//! | `<name>.stdout`, `<name>.stderr` | the exact expected output (both required: a missing file is a failure, never "unchecked") |
//! | `<name>.in/` | starting files, copied into a fresh temp dir that becomes the process's cwd |
//! | `<name>.out/` | files expected afterwards (only the files listed are checked) |
//!
//! The process runs with a cleared environment plus `PATH` and the case's `[env]`. In expected text,
//! `[CWD]` stands for the temp dir and `[..]` matches any characters within one line; everything else must
//! match exactly (no newline or path-separator normalisation, unlike trycmd: a JSON `\"` must stay `\"`).
//! Bless with `PORTCULLIS_BLESS=1`: mismatching expectations are rewritten from the actual output (with the
//! temp dir turned back into `[CWD]`); review the diff as code.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

pub mod codex_contract;
pub mod copilot_contract;
pub mod decide;
pub mod e2e;
pub mod e2e_codex;
pub mod e2e_copilot;
pub mod e2e_gemini;
pub mod gemini_contract;
pub mod scenario;
mod scenario_client;
mod scenario_hooks;
pub mod standin;
pub mod standin_codex;
pub mod standin_gemini;

/// One case's `.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseSpec {
    /// The binary's registered name.
    pub bin: Option<String>,
    /// Expected exit code.
    pub status: i32,
    /// Command-line arguments.
    pub args: Vec<String>,
    /// Extra environment (`[CWD]` is replaced by the sandbox path).
    pub env: BTreeMap<String, String>,
}

/// The line a patch run through the shell leaves in a Codex rollout, its only record there: an
/// `item_completed` `FileChange` that updated `file` (PROTOCOL-CODEX.md §4).
#[must_use]
pub fn codex_shell_patch_line(file: &Path) -> serde_json::Value {
    serde_json::json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "item_completed", "turn_id": "t",
        "item": {"type": "FileChange", "status": "completed",
                 "changes": {file.display().to_string(): {"type": "update", "unified_diff": "+x\n", "move_path": null}}}}})
}

/// The hook binary `bin` as the client starts it in `project`: run there, with only `PATH` from this
/// environment and `HOME` at the project (so no user config of the machine running the tests is read),
/// stdout and stderr captured.
#[must_use]
pub fn hook_command(bin: &str, project: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", project)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs `cmd` with `stdin` fed to it and its stdout and stderr captured: one hook call as a process.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> std::io::Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        // A hook may exit without reading all of stdin; a closed pipe is its answer, not a test error.
        let _ = input.write_all(stdin);
    }
    child.wait_with_output()
}

/// Runs every case in `dir` against the binaries in `bins` (name → path); panics with a report of all
/// failures.
pub fn run_dir(dir: &Path, bins: &[(&str, &Path)]) {
    let bless = std::env::var_os("PORTCULLIS_BLESS").is_some();
    let mut cases: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let mut failures = String::new();
    for case in &cases {
        if let Err(report) = run_case(case, bins, bless) {
            let _ = writeln!(failures, "--- {}\n{report}", case.display());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{failures}",
        failures.matches("--- ").count(),
        cases.len()
    );
}

fn run_case(case: &Path, bins: &[(&str, &Path)], bless: bool) -> Result<(), String> {
    let spec: CaseSpec = toml::from_str(&fs::read_to_string(case).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let bin = match (&spec.bin, bins) {
        (Some(name), _) => bins
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .ok_or(format!("unknown bin {name}"))?,
        (None, [(_, p)]) => *p,
        (None, _) => return Err("`bin` is required".into()),
    };
    let sibling = |ext: &str| case.with_extension(ext);
    let sandbox = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cwd = sandbox.path().canonicalize().map_err(|e| e.to_string())?;
    if sibling("in").is_dir() {
        copy_tree(&sibling("in"), &cwd)?;
    }
    let cwd_text = cwd.display().to_string();
    let stdin = match String::from_utf8(fs::read(sibling("stdin")).unwrap_or_default()) {
        Ok(text) => text.replace("[CWD]", &cwd_text).into_bytes(),
        Err(raw) => raw.into_bytes(), // invalid UTF-8 is fed as is
    };
    let mut cmd = Command::new(bin);
    cmd.args(&spec.args)
        .current_dir(&cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // The project search stops at the sandbox: a `.git` above the temp folder cannot decide the case.
        .env("GIT_CEILING_DIRECTORIES", cwd.parent().unwrap_or(&cwd))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &spec.env {
        cmd.env(k, v.replace("[CWD]", &cwd_text));
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", bin.display()))?;
    if let Some(mut s) = child.stdin.take() {
        let _ = s.write_all(&stdin);
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if out.status.code() != Some(spec.status) {
        problems.push(format!(
            "exit code: expected {}, got {:?}",
            spec.status,
            out.status.code()
        ));
    }
    for (ext, actual) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        check_file(&sibling(ext), actual, &cwd_text, bless, &mut problems);
    }
    let out_dir = sibling("out");
    if out_dir.is_dir() {
        for expected in walk(&out_dir)? {
            let rel = expected.strip_prefix(&out_dir).map_err(|e| e.to_string())?;
            let actual = fs::read(cwd.join(rel)).unwrap_or_else(|_| b"<missing>".to_vec());
            check_file(&expected, &actual, &cwd_text, bless, &mut problems);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn check_file(
    expected_path: &Path,
    actual: &[u8],
    cwd: &str,
    bless: bool,
    problems: &mut Vec<String>,
) {
    let actual = String::from_utf8_lossy(actual).replace(cwd, "[CWD]");
    let Ok(expected) = fs::read_to_string(expected_path) else {
        if bless {
            let _ = fs::write(expected_path, &actual);
        } else {
            problems.push(format!(
                "{} is missing (bless with PORTCULLIS_BLESS=1)",
                expected_path.display()
            ));
        }
        return;
    };
    if matches_pattern(&expected, &actual) {
        return;
    }
    if bless {
        let _ = fs::write(expected_path, &actual);
    } else {
        problems.push(format!(
            "{} differs\n  expected: {expected:?}\n  actual:   {actual:?}",
            expected_path.display()
        ));
    }
}

/// True when `actual` equals `expected`, where `[..]` in `expected` matches any run of characters other
/// than a newline.
#[must_use]
pub fn matches_pattern(expected: &str, actual: &str) -> bool {
    let exp_lines: Vec<&str> = expected.split('\n').collect();
    let act_lines: Vec<&str> = actual.split('\n').collect();
    exp_lines.len() == act_lines.len()
        && exp_lines
            .iter()
            .zip(&act_lines)
            .all(|(e, a)| line_matches(e, a))
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first)
        || !line[first.len()..].ends_with(last)
        || line.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// Makes a FIFO at `path` (`mkfifo`), creating its folders; panics when it cannot.
pub fn mkfifo(path: &Path) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("creating folders");
    }
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mkfifo {}", path.display());
}

/// A copy of the fixture tree `fixtures/<rel>` as `<temp>/project` (a canonical path, config can be
/// added), with an empty `<temp>/home` beside it for `HOME`. Removed when the `TempDir` is dropped.
#[must_use]
pub fn fixture_copy(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel);
    let t = tempfile::tempdir().expect("a temp folder");
    let root = t
        .path()
        .canonicalize()
        .expect("a canonical temp folder")
        .join("project");
    copy_tree(&from, &root).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    std::fs::create_dir_all(t.path().join("home")).expect("creating the home folder");
    (t, root)
}

/// Copies a folder tree (files and folders; `.keep` files are placeholders and are skipped).
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for file in walk(from)? {
        let rel = file.strip_prefix(from).map_err(|e| e.to_string())?;
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        if file.file_name().is_some_and(|n| n == ".keep") {
            continue;
        }
        fs::copy(&file, &dest).map_err(|e| format!("copying {}: {e}", file.display()))?;
    }
    Ok(())
}

/// The path of a workspace binary (`examples/<name>` for an example), built fresh: the first call runs
/// `cargo build --workspace --bins --examples` (a
/// no-op when up to date) for the profile the tests run under, so suite-wide tests never see a stale
/// binary.
#[must_use]
pub fn workspace_bin(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .ok_or("cannot find the target folder")?
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--workspace", "--bins", "--examples", "--quiet"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd
            .status()
            .map_err(|e| format!("running cargo build: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build failed: {status}"));
        }
        Ok(profile_dir)
    });
    match dir {
        Ok(d) => d.join(name),
        Err(e) => panic!("{e}"),
    }
}

/// A project folder with a real git repository, for tests that need one.
#[must_use]
pub fn git_project() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let ok = Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(t.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "git init failed");
    t
}

/// Writes a project of agent and skill definitions, all clean (the audit's bench): `agents` agents and
/// `skills` skills, a quarter of the skills in the library, routed
/// by one gateway; each skill of 200 lines links a reference file beside it 20 times and reads a library skill.
pub fn definitions_project(project: &Path, agents: usize, skills: usize) {
    let put = |rel: String, text: String| {
        let p = project.join(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("creating folders");
        std::fs::write(p, text).expect("writing a definition");
    };
    let library = skills / 4;
    for i in 0..agents {
        let mut body = String::new();
        for l in 0..100 {
            let _ = writeln!(
                body,
                "{l}. Follow the team's rule number {l} before editing."
            );
        }
        put(
            format!(".claude/agents/domain{i}-developer.md"),
            format!(
                "---\nname: domain{i}-developer\ndescription: Builds domain {i}. Use when domain {i} code must change.\ntools: Read, Edit, Write, Bash, Grep, Glob\n---\n{body}"
            ),
        );
    }
    let mut routes = String::new();
    for i in 0..skills {
        let (dir, name) = if i < library {
            (
                format!(".claude/skill-library/area{}/lib-skill-{i}", i % 10),
                format!("lib-skill-{i}"),
            )
        } else {
            (format!(".claude/skills/skill-{i}"), format!("skill-{i}"))
        };
        if i < library {
            let _ = writeln!(routes, "| topic {i} | `{dir}/SKILL.md` |");
        }
        let mut body = String::new();
        for l in 0..200 {
            if l % 10 == 0 {
                let _ = writeln!(
                    body,
                    "Step {l}: see [the reference](reference.md#step-{l})."
                );
            } else {
                let _ = writeln!(body, "Step {l}: run `make check-{l}` and read its output.");
            }
        }
        let _ = writeln!(
            body,
            "Read(\".claude/skill-library/area0/lib-skill-0/SKILL.md\")"
        );
        put(
            format!("{dir}/SKILL.md"),
            format!(
                "---\nname: {name}\ndescription: Knows topic {i}. Use when topic {i} comes up.\n---\n{body}"
            ),
        );
        put(format!("{dir}/reference.md"), "# Reference\n".into());
    }
    put(
        ".claude/skills/gateway-all/SKILL.md".into(),
        format!(
            "---\nname: gateway-all\ndescription: Routes to library skills. Use when starting any task.\n---\n| intent | read |\n|---|---|\n{routes}"
        ),
    );
}

/// A skill library of `skills` skills in `<project>/.claude/skill-library/<area>/<name>/SKILL.md` (30
/// areas), each with a description of about 30 words and a "Use when" trigger, keywords and 5 headings
/// drawn from a vocabulary of 3,000 made-up words (so terms are shared the way a real library's are), a
/// reference file beside it, and a gateway skill routing to every tenth. Skill `i` alone holds the word
/// `topic<i>`. For the skill-gateway benches.
pub fn skill_library(project: &Path, skills: usize) {
    let put = |rel: String, text: String| {
        let p = project.join(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("creating folders");
        std::fs::write(p, text).expect("writing a skill");
    };
    // A fixed pseudo-random walk over made-up words: deterministic, no dependency.
    let word = |n: usize| {
        const SYLLABLES: [&str; 16] = [
            "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ber", "dan", "fel", "gor", "hin",
            "jas", "pol", "wex",
        ];
        let n = n % 3000;
        format!(
            "{}{}{}",
            SYLLABLES[n % 16],
            SYLLABLES[(n / 16) % 16],
            SYLLABLES[(n / 256) % 16]
        )
    };
    let mut seed: usize = 0x2545_f491;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut routes = String::new();
    for i in 0..skills {
        let area = format!("area{}", i % 30);
        let name = format!("{}-{}-{i}", word(next()), word(next()));
        let dir = format!(".claude/skill-library/{area}/{name}");
        let description: Vec<String> = (0..24).map(|_| word(next())).collect();
        let trigger: Vec<String> = (0..6).map(|_| word(next())).collect();
        let keywords: Vec<String> = (0..4).map(|_| word(next())).collect();
        let mut body = String::new();
        for h in 0..5 {
            let _ = writeln!(
                body,
                "## {} {}
",
                word(next()),
                word(next())
            );
            for l in 0..10 {
                let _ = writeln!(body, "Step {h}.{l}: {} the {}.", word(next()), word(next()));
            }
        }
        put(
            format!("{dir}/SKILL.md"),
            format!(
                "---\nname: {name}\ndescription: {} topic{i}. Use when {}.\nkeywords: [{}]\n---\n# {name}\n\n{body}",
                description.join(" "),
                trigger.join(" "),
                keywords.join(", ")
            ),
        );
        put(format!("{dir}/reference.md"), "# Reference\n".into());
        if i % 10 == 0 {
            let _ = writeln!(
                routes,
                "| {} {} | `{dir}/SKILL.md` |",
                word(next()),
                word(next())
            );
        }
    }
    put(
        ".claude/skills/gateway-all/SKILL.md".into(),
        format!(
            "---\nname: gateway-all\ndescription: Routes to library skills. Use when starting any task.\n---\n| intent | read |\n|---|---|\n{routes}"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_stay_within_a_line() {
        assert!(matches_pattern("a[..]c\n", "abbbc\n"));
        assert!(matches_pattern(
            "{\"t\":\"[..]\",\"m\":[..]}",
            "{\"t\":\"2026\",\"m\":12}"
        ));
        assert!(!matches_pattern("a[..]c", "ab\nc"));
        assert!(!matches_pattern("a\\\"b", "a/\"b"));
        assert!(matches_pattern("x", "x"));
        assert!(!matches_pattern("x\n", "x"));
    }
}
