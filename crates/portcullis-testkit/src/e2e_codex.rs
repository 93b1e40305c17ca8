//! Running the real Codex CLI against the [`crate::standin_codex`] model, headless and offline
//! (shared/E2E-CODEX.md).
//!
//! The client is fetched once with `npm pack @openai/codex@VERSION-linux-x64` into
//! `~/.cache/portcullis/codex/VERSION/` (or `$PORTCULLIS_E2E_CACHE/../codex/VERSION/`), outside the repo,
//! keeping only what `codex exec` runs (the binary, its bundled `rg` and bubblewrap). As for Claude Code,
//! a failed fetch fails the tests unless `PORTCULLIS_E2E_SKIP=1` is set outside CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::e2e::{Project, RunOptions, RunResult, fetch_npm};
use crate::standin::Scenario;
use crate::workspace_bin;

/// The pinned Codex CLI version (PROTOCOL-CODEX.md).
pub const CODEX_VERSION: &str = "0.169.0";

/// The folder of the unpacked platform package.
const VENDOR: &str = "package/vendor/x86_64-unknown-linux-musl";

fn cache_dir() -> PathBuf {
    crate::e2e::client_cache("codex")
}

/// The cached `codex` binary, fetching it on first use. `Err` says why it could not be had.
pub fn codex_binary() -> Result<PathBuf, String> {
    let dir = cache_dir().join(CODEX_VERSION);
    let bin = dir.join(VENDOR).join("bin/codex");
    // The voice host and the code-mode host are not needed by `codex exec` (110 MB left packed).
    let members = [
        format!("{VENDOR}/bin/codex"),
        format!("{VENDOR}/codex-path"),
        format!("{VENDOR}/codex-resources/bwrap"),
        format!("{VENDOR}/codex-package.json"),
    ];
    let pkg = format!("@openai/codex@{CODEX_VERSION}-linux-x64");
    fetch_npm(&dir, &pkg, &members, &bin, &|| Ok(()))?;
    Ok(bin)
}

/// The client, or `None` when the test should be skipped (only with `PORTCULLIS_E2E_SKIP=1` outside CI).
#[must_use]
pub fn codex_or_skip() -> Option<PathBuf> {
    crate::e2e::or_skip("the Codex CLI", codex_binary())
}

impl Project {
    /// `$CODEX_HOME` of this project's runs.
    #[must_use]
    pub fn codex_home(&self) -> PathBuf {
        self.home.join(".codex")
    }

    /// `portcullis install --client codex --user` with the freshly built binaries, trust recorded through
    /// `codex app-server`.
    pub fn install_codex(&self, codex: &Path) {
        let bin = workspace_bin("portcullis");
        let out = Command::new(&bin)
            .args(["install", "--client", "codex", "--user", "--bin-dir"])
            .arg(bin.parent().unwrap_or(Path::new(".")))
            .arg("--codex-bin")
            .arg(codex)
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("CODEX_HOME", self.codex_home())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("trusted "),
            "install --client codex failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `codex exec PROMPT` in the project against a stand-in serving `scenario`, killed after
    /// `timeout`. With `options.continue_session`, `codex exec resume --last`. `bypass_trust` adds
    /// `--dangerously-bypass-hook-trust` (for test-only handlers install did not trust).
    #[must_use]
    pub fn run_codex(
        &self,
        codex: &Path,
        prompt: &str,
        scenario: Scenario,
        timeout: Duration,
        options: &RunOptions,
        bypass_trust: bool,
    ) -> RunResult {
        let standin =
            crate::standin_codex::start(scenario).unwrap_or_else(|e| panic!("stand-in: {e}"));
        let mut cmd = self.exec_command(codex, prompt, &standin.url(), options, bypass_trust);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting codex: {e}"));
        let (code, stdout, stderr) = crate::e2e::wait_captured(child, timeout);
        RunResult {
            code,
            stdout,
            stderr,
            requests: standin.requests(),
        }
    }

    /// The `codex exec` command line and environment of one run.
    fn exec_command(
        &self,
        codex: &Path,
        prompt: &str,
        standin_url: &str,
        options: &RunOptions,
        bypass_trust: bool,
    ) -> Command {
        let provider = format!(
            "model_providers.standin={{name=\"standin\", base_url=\"{standin_url}/v1\", env_key=\"CX_STANDIN_KEY\", wire_api=\"responses\"}}"
        );
        let mut cmd = Command::new(codex);
        cmd.arg("exec");
        for setting in ["model_provider=\"standin\"", provider.as_str()] {
            cmd.arg("-c").arg(setting);
        }
        cmd.args([
            "--dangerously-bypass-approvals-and-sandbox",
            "--skip-git-repo-check",
            "--color",
            "never",
            "-m",
            options.model.as_deref().unwrap_or("gpt-5.5"),
        ]);
        if bypass_trust {
            cmd.arg("--dangerously-bypass-hook-trust");
        }
        for feature in &options.codex_features {
            cmd.arg("--enable").arg(feature);
        }
        if options.continue_session {
            cmd.args(["resume", "--last"]);
        }
        cmd.arg("--").arg(prompt);
        // The bundled `rg` first, as the npm launcher does.
        let vendor_path = codex
            .parent()
            .and_then(Path::parent)
            .map(|v| v.join("codex-path"));
        let path = std::env::join_paths(vendor_path.into_iter().chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap_or_default();
        // Codex runs the model's commands in a login shell (`bash -lc`), whose profile resets PATH: the
        // HOME of the run gets a profile that puts this PATH back (cargo and the rest).
        let profile = format!(
            "export PATH='{}'\n",
            path.to_string_lossy().replace('\'', r"'\''")
        );
        let _ = std::fs::write(self.home.join(".bash_profile"), profile);
        let real_home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
        let toolchain = |var: &str, default: &str| {
            std::env::var_os(var).unwrap_or_else(|| real_home.join(default).into_os_string())
        };
        cmd.current_dir(&self.dir)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", &self.home)
            .env("CODEX_HOME", self.codex_home())
            .env("CX_STANDIN_KEY", "standin")
            .env("CARGO_HOME", toolchain("CARGO_HOME", ".cargo"))
            .env("RUSTUP_HOME", toolchain("RUSTUP_HOME", ".rustup"))
            .envs(options.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Copies the rollouts into `to` (see [`Project::record_files`]).
    pub fn record_codex_rollouts(&self, to: &Path) -> Result<(), String> {
        self.record_files(&self.codex_rollouts(), to)
    }

    /// Copies `files` into `to` (flat, by file name), replacing the temp root by `/e2e` and this
    /// checkout's path by `/portcullis` in their contents, as [`Project::record_transcripts`] does for
    /// Claude Code. Earlier `.jsonl` files in `to` are removed; `project/` and other files stay.
    pub fn record_files(&self, files: &[PathBuf], to: &Path) -> Result<(), String> {
        let root = self
            .dir
            .parent()
            .unwrap_or(Path::new("/"))
            .display()
            .to_string();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for e in std::fs::read_dir(to).into_iter().flatten().flatten() {
            if e.path().extension().is_some_and(|x| x == "jsonl") {
                let _ = std::fs::remove_file(e.path());
            }
        }
        std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
        for file in files {
            let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
            let mut text = text.replace(&root, "/e2e");
            if !workspace.is_empty() {
                text = text.replace(&workspace, "/portcullis");
            }
            let name = file.file_name().unwrap_or_default();
            std::fs::write(to.join(name), text).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Every Codex rollout of the project's runs (`$CODEX_HOME/sessions/**/rollout-*.jsonl`).
    #[must_use]
    pub fn codex_rollouts(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.codex_home().join("sessions")];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "jsonl") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }
}
