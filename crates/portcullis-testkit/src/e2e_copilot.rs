//! Running the real GitHub Copilot CLI against the Anthropic Messages stand-in ([`crate::standin`]),
//! headless and offline (PROTOCOL-COPILOT.md §10): Copilot's BYOK `anthropic` provider speaks the same API
//! as Claude Code, so the Claude Code stand-in serves it, with Copilot's own tool names in the scripts
//! (`bash`, `create`, `edit`, `view`, `task`).
//!
//! The client is fetched once with `npm pack @github/copilot-linux-x64@VERSION` into
//! `~/.cache/portcullis/copilot/VERSION/` (or `$PORTCULLIS_E2E_CACHE/copilot/VERSION/`), outside the repo;
//! Copilot unpacks its app there too, once (`COPILOT_CACHE_HOME`). As for the other clients, a failed
//! fetch fails the tests unless `PORTCULLIS_E2E_SKIP=1` is set outside CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::e2e::{Project, RunOptions, RunResult, fetch_npm};
use crate::standin::{Scenario, StandIn};
use crate::workspace_bin;

/// The pinned Copilot CLI version (PROTOCOL-COPILOT.md).
pub const COPILOT_VERSION: &str = "1.0.102";

fn cache_dir() -> PathBuf {
    crate::e2e::client_cache("copilot")
}

/// The cached `copilot` binary, fetching it on first use. `Err` says why it could not be had.
pub fn copilot_binary() -> Result<PathBuf, String> {
    let dir = cache_dir().join(COPILOT_VERSION);
    let bin = dir.join("package/copilot");
    let pkg = format!("@github/copilot-linux-x64@{COPILOT_VERSION}");
    fetch_npm(
        &dir,
        &pkg,
        &["package/copilot".to_owned()],
        &bin,
        &|| Ok(()),
    )?;
    Ok(bin)
}

/// The client, or `None` when the test should be skipped (only with `PORTCULLIS_E2E_SKIP=1` outside CI).
#[must_use]
pub fn copilot_or_skip() -> Option<PathBuf> {
    crate::e2e::or_skip("the Copilot CLI", copilot_binary())
}

impl Project {
    /// `$COPILOT_HOME` of this project's runs.
    #[must_use]
    pub fn copilot_home(&self) -> PathBuf {
        self.home.join(".copilot")
    }

    /// `portcullis install --client copilot --user` with the freshly built binaries.
    pub fn install_copilot(&self) {
        let bin = workspace_bin("portcullis");
        let out = Command::new(&bin)
            .args(["install", "--client", "copilot", "--user", "--bin-dir"])
            .arg(bin.parent().unwrap_or(Path::new(".")))
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("COPILOT_HOME", self.copilot_home())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "install --client copilot failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `copilot -p PROMPT --allow-all` in the project against a stand-in serving `scenario`, killed
    /// after `timeout`. With `options.continue_session`, `--continue`.
    #[must_use]
    pub fn run_copilot(
        &self,
        binary: &Path,
        prompt: &str,
        scenario: Scenario,
        timeout: Duration,
        options: &RunOptions,
    ) -> RunResult {
        let standin = StandIn::start(scenario).unwrap_or_else(|e| panic!("stand-in: {e}"));
        let mut cmd = Command::new(binary);
        cmd.args([
            "--allow-all",
            "--no-auto-update",
            "--no-color",
            "--no-ask-user",
        ]);
        if options.continue_session {
            cmd.arg("--continue");
        }
        cmd.arg("-p").arg(prompt);
        let real_home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
        let toolchain = |var: &str, default: &str| {
            std::env::var_os(var).unwrap_or_else(|| real_home.join(default).into_os_string())
        };
        cmd.current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("COPILOT_HOME", self.copilot_home())
            // Copilot unpacks its app (~235 MB) once per version: into the shared cache, not each run's.
            .env(
                "COPILOT_CACHE_HOME",
                cache_dir().join(COPILOT_VERSION).join("app"),
            )
            .env("COPILOT_OFFLINE", "true")
            .env("COPILOT_PROVIDER_TYPE", "anthropic")
            .env("COPILOT_PROVIDER_BASE_URL", standin.url())
            .env("COPILOT_PROVIDER_API_KEY", "standin")
            .env(
                "COPILOT_MODEL",
                options.model.as_deref().unwrap_or("claude-sonnet-4.5"),
            )
            .env("COPILOT_AUTO_UPDATE", "false")
            .env("NO_COLOR", "1")
            .env("CARGO_HOME", toolchain("CARGO_HOME", ".cargo"))
            .env("RUSTUP_HOME", toolchain("RUSTUP_HOME", ".rustup"))
            .envs(options.env.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting copilot: {e}"));
        let (code, stdout, stderr) = crate::e2e::wait_captured(child, timeout);
        RunResult {
            code,
            stdout,
            stderr,
            requests: standin.requests(),
        }
    }

    /// Every Copilot session event log of the project's runs (`$COPILOT_HOME/session-state/*/events.jsonl`).
    #[must_use]
    pub fn copilot_sessions(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(self.copilot_home().join("session-state"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("events.jsonl"))
            .filter(|p| p.is_file())
            .collect();
        out.sort();
        out
    }
}
