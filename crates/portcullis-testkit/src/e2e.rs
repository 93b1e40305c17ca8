//! Running the real Claude Code CLI against the [`crate::standin`] model, headless and offline.
//!
//! The client is fetched once with `npm pack @anthropic-ai/claude-code-linux-x64@VERSION` into
//! `~/.cache/portcullis/claude-code/VERSION/` (or `$PORTCULLIS_E2E_CACHE/VERSION/`), outside the repo.
//! When it cannot be fetched the tests fail loudly; only `PORTCULLIS_E2E_SKIP=1` (never set in CI) turns
//! that into a printed skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::standin::{Scenario, StandIn};
use crate::workspace_bin;

/// The pinned client version (PROTOCOL.md).
pub const CLAUDE_VERSION: &str = "2.1.329";

/// `$PATH` with `first` in front.
fn path_with(first: Option<&Path>) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs = first
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::env::split_paths(&rest));
    std::env::join_paths(dirs).unwrap_or(rest)
}

/// The cached client binary, fetching it on first use. `Err` says why it could not be had.
pub fn claude_binary() -> Result<PathBuf, String> {
    let base = std::env::var_os("PORTCULLIS_E2E_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/portcullis/claude-code")
        },
        PathBuf::from,
    );
    let dir = base.join(CLAUDE_VERSION);
    let bin = dir.join("claude");
    let pkg = format!("@anthropic-ai/claude-code-linux-x64@{CLAUDE_VERSION}");
    fetch_npm(&dir, &pkg, &["package/claude".into()], &bin, &|| {
        std::fs::rename(dir.join("package/claude"), &bin).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir(dir.join("package"));
        Ok(())
    })?;
    Ok(bin)
}

/// Fetches `package` from npm once into `dir` (`npm pack`, then `members` of the tarball unpacked), unless
/// `ready` is already there; `finish` then puts the files in place. One fetcher at a time: parallel tests
/// would otherwise all download hundreds of MB.
pub(crate) fn fetch_npm(
    dir: &Path,
    package: &str,
    members: &[String],
    ready: &Path,
    finish: &dyn Fn() -> Result<(), String>,
) -> Result<(), String> {
    if ready.is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let lock_file = std::fs::File::create(dir.join(".fetch.lock")).map_err(|e| e.to_string())?;
    let mut lock = fd_lock::RwLock::new(lock_file);
    let _guard = lock.write().map_err(|e| e.to_string())?;
    if ready.is_file() {
        return Ok(());
    }
    let out = Command::new("npm")
        .args(["pack", "--silent", package])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("running npm: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "npm pack {package} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let tgz = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let unpacked = Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .args(members)
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(dir.join(&tgz));
    if !unpacked {
        return Err(format!("unpacking {tgz} failed"));
    }
    finish()?;
    if ready.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} is missing after unpacking {tgz}",
            ready.display()
        ))
    }
}

/// The client, or `None` when the test should be skipped (only with `PORTCULLIS_E2E_SKIP=1`).
/// Panics with the reason otherwise.
#[must_use]
pub fn claude_or_skip() -> Option<PathBuf> {
    or_skip("the Claude Code client", claude_binary())
}

/// A fetched client (`client` names it in messages), or `None` when the test should be skipped: only with
/// `PORTCULLIS_E2E_SKIP=1` set outside CI. Panics with the reason otherwise.
pub(crate) fn or_skip(client: &str, fetched: Result<PathBuf, String>) -> Option<PathBuf> {
    match fetched {
        Ok(b) => Some(b),
        Err(why)
            if std::env::var_os("PORTCULLIS_E2E_SKIP").is_some()
                && std::env::var_os("CI").is_none() =>
        {
            let _ = writeln!(
                std::io::stderr(),
                "skipping end-to-end test ({client}): {why}"
            );
            None
        }
        Err(why) => panic!(
            "{client} is needed for end-to-end tests: {why} (PORTCULLIS_E2E_SKIP=1 skips locally)"
        ),
    }
}

/// Where the client `name` (`codex`, `gemini`, `copilot`) is cached: `~/.cache/portcullis/<name>`, or
/// `$PORTCULLIS_E2E_CACHE/<name>`; outside the repo.
pub(crate) fn client_cache(name: &str) -> PathBuf {
    std::env::var_os("PORTCULLIS_E2E_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/portcullis")
                .join(name)
        },
        |c| PathBuf::from(c).join(name),
    )
}

/// A temp project (real git repo) and a temp HOME.
#[derive(Debug)]
pub struct Project {
    /// The project dir (canonical path).
    pub dir: PathBuf,
    /// The HOME used for the client.
    pub home: PathBuf,
    _tmp: tempfile::TempDir,
}

/// Extra settings for one client run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Extra environment (the client passes it on to every hook).
    pub env: Vec<(String, String)>,
    /// Add `--continue`: resume the project's most recent session.
    pub continue_session: bool,
    /// `--model` (default `claude-sonnet-4-5`).
    pub model: Option<String>,
    /// Codex only: features switched on with `--enable` (`multi_agent_v2` for subagents).
    pub codex_features: Vec<String>,
}

/// What one `claude -p` run left behind.
#[derive(Debug)]
pub struct RunResult {
    /// Exit code of the client (`None` if killed at the timeout).
    pub code: Option<i32>,
    /// Client stdout.
    pub stdout: String,
    /// Client stderr.
    pub stderr: String,
    /// Every Messages API request the stand-in received.
    pub requests: Vec<Value>,
}

impl Project {
    /// A new project with `git init` and an empty HOME beside it.
    #[must_use]
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let root = tmp.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        let dir = root.join("project");
        let home = root.join("home");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&home).unwrap_or_else(|e| panic!("{e}"));
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .args(args)
                .current_dir(&dir)
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "git {args:?} failed");
        };
        git(&["init", "-q", "-b", "main"]);
        git(&[
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ]);
        Self {
            dir,
            home,
            _tmp: tmp,
        }
    }

    /// Writes a file below the project.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    /// `portcullis install --project DIR` with the freshly built binaries.
    pub fn install(&self) {
        self.manager("install");
    }

    /// `portcullis init --project DIR` with the freshly built binaries: agents for the project's domains,
    /// and the hooks registered.
    pub fn init(&self) {
        self.manager("init");
    }

    fn manager(&self, command: &str) {
        let bin = workspace_bin("portcullis");
        let out = Command::new(&bin)
            .args([command, "--project"])
            .arg(&self.dir)
            .arg("--bin-dir")
            .arg(bin.parent().unwrap_or(Path::new(".")))
            .env("HOME", &self.home)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "{command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `claude -p PROMPT` in the project against a stand-in serving `scenario`, killed after `timeout`.
    #[must_use]
    pub fn run(
        &self,
        claude: &Path,
        prompt: &str,
        scenario: Scenario,
        timeout: Duration,
    ) -> RunResult {
        self.run_with(claude, prompt, scenario, timeout, &RunOptions::default())
    }

    /// [`Project::run`] with extra environment and, optionally, `--continue` (the project's last session).
    #[must_use]
    pub fn run_with(
        &self,
        claude: &Path,
        prompt: &str,
        scenario: Scenario,
        timeout: Duration,
        options: &RunOptions,
    ) -> RunResult {
        let standin = StandIn::start(scenario).unwrap_or_else(|e| panic!("stand-in: {e}"));
        let mut cmd = Command::new(claude);
        cmd.args([
            "-p",
            prompt,
            "--dangerously-skip-permissions",
            "--model",
            options.model.as_deref().unwrap_or("claude-sonnet-4-5"),
        ]);
        if options.continue_session {
            cmd.arg("--continue");
        }
        let child = cmd
            .current_dir(&self.dir)
            .env_clear()
            // The client's own folder first, so `claude` (escalation-advisor's default advisor) is the
            // pinned client, talking to the same stand-in.
            .env("PATH", path_with(claude.parent()))
            .env("HOME", &self.home)
            .env("ANTHROPIC_BASE_URL", standin.url())
            .env("ANTHROPIC_API_KEY", "sk-standin")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("IS_SANDBOX", "1")
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting claude: {e}"));
        let (code, stdout, stderr) = wait_captured(child, timeout);
        RunResult {
            code,
            stdout,
            stderr,
            requests: standin.requests(),
        }
    }

    /// The main transcript of the newest session (`$HOME/.claude/projects/<encoded>/<id>.jsonl`).
    #[must_use]
    pub fn transcript(&self) -> Option<PathBuf> {
        let projects = self.home.join(".claude/projects");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&projects)
            .ok()?
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        found.pop()
    }

    /// Every transcript of the project's sessions: main files and `<session>/subagents/*.jsonl`.
    #[must_use]
    pub fn all_transcripts(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let projects = self.home.join(".claude/projects");
        for dir in std::fs::read_dir(projects).into_iter().flatten().flatten() {
            collect_jsonl(&dir.path(), &mut out);
        }
        out.sort();
        out
    }

    /// Copies the session files (everything under `~/.claude/projects/<encoded>/`) into `to`, replacing
    /// the temp root by `/e2e` in paths and contents (`-e2e` in the encoded folder name) and this
    /// checkout's path by `/portcullis`. Earlier sessions in `to` are removed; `project/` and other files stay.
    pub fn record_transcripts(&self, to: &Path) -> Result<(), String> {
        let root = self.dir.parent().unwrap_or(Path::new("/"));
        let root_text = root.display().to_string();
        let encoded: String = root_text
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let scrub = |s: &str| {
            let s = s.replace(&root_text, "/e2e").replace(&encoded, "-e2e");
            if workspace.is_empty() {
                s
            } else {
                s.replace(&workspace, "/portcullis")
            }
        };
        // Replace the recorded sessions, keep the rest (`project/`, `expected.timeline`).
        for e in std::fs::read_dir(to).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() && name != "project" {
                let _ = std::fs::remove_dir_all(&p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                let _ = std::fs::remove_file(&p);
            }
        }
        let projects = self.home.join(".claude/projects");
        let mut files = Vec::new();
        for dir in std::fs::read_dir(&projects).into_iter().flatten().flatten() {
            collect_files(&dir.path(), &mut files);
            for file in std::mem::take(&mut files) {
                let rel = file.strip_prefix(dir.path()).map_err(|e| e.to_string())?;
                let dest = to.join(scrub(&rel.display().to_string()));
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
                std::fs::write(&dest, scrub(&text)).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// The decision log's entries.
    #[must_use]
    pub fn decision_log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join(".claude/portcullis/log.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Waits for `child` at most `timeout` (then kills it), reading its stdout and stderr meanwhile so that a
/// chatty client never blocks on a full pipe: `(exit code, stdout, stderr)`, the code `None` when killed.
pub(crate) fn wait_captured(
    mut child: std::process::Child,
    timeout: Duration,
) -> (Option<i32>, String, String) {
    fn drain<R: std::io::Read + Send + 'static>(
        pipe: Option<R>,
    ) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut s);
            }
            s
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let code = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status.code();
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        code,
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn collect_jsonl(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut all = Vec::new();
    collect_files(dir, &mut all);
    out.extend(
        all.into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl")),
    );
}

impl Default for Project {
    fn default() -> Self {
        Self::new()
    }
}
