//! Running the real Gemini CLI against the [`crate::standin_gemini`] model, headless and offline
//! (PROTOCOL-GEMINI.md §10).
//!
//! The client is fetched once with `npm pack @google/gemini-cli@VERSION` into
//! `~/.cache/portcullis/gemini/VERSION/` (or `$PORTCULLIS_E2E_CACHE/gemini/VERSION/`), outside the repo, and
//! run as `node package/bundle/gemini.js`: the bundle needs no `npm install` (its optional native
//! modules are for the interactive terminal). As for the other clients, a failed fetch fails the tests
//! unless `PORTCULLIS_E2E_SKIP=1` is set outside CI.
//!
//! A run's HOME is the project's own temp home: `~/.gemini/settings.json` there holds the offline settings
//! (API key auth, pinned model, no telemetry, no update check) and, after `portcullis install --client
//! gemini --user`, our hooks; the folder is trusted by `GEMINI_CLI_TRUST_WORKSPACE=true`, and `--yolo`
//! offers the shell tool headless.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::e2e::{Project, RunOptions, RunResult, fetch_npm};
use crate::standin::Scenario;
use crate::workspace_bin;

/// The pinned Gemini CLI version (PROTOCOL-GEMINI.md).
pub const GEMINI_VERSION: &str = "0.61.0";

/// The model every run pins (an unpinned run makes a routing side call first).
const MODEL: &str = "gemini-2.5-pro";

fn cache_dir() -> PathBuf {
    crate::e2e::client_cache("gemini")
}

/// The cached `gemini.js`, fetching the package on first use. `Err` says why it could not be had.
pub fn gemini_script() -> Result<PathBuf, String> {
    let dir = cache_dir().join(GEMINI_VERSION);
    let script = dir.join("package/bundle/gemini.js");
    let pkg = format!("@google/gemini-cli@{GEMINI_VERSION}");
    fetch_npm(&dir, &pkg, &[], &script, &|| Ok(()))?;
    Ok(script)
}

/// The client, or `None` when the test should be skipped (only with `PORTCULLIS_E2E_SKIP=1` outside CI).
#[must_use]
pub fn gemini_or_skip() -> Option<PathBuf> {
    crate::e2e::or_skip("the Gemini CLI", gemini_script())
}

/// The settings a run needs offline, kept by install (which edits around them).
const OFFLINE_SETTINGS: &str = r#"{
  // portcullis e2e: offline against the stand-in
  "security": {"auth": {"selectedType": "gemini-api-key"}},
  "model": {"name": "gemini-2.5-pro"},
  "privacy": {"usageStatisticsEnabled": false},
  "telemetry": {"enabled": false},
  "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false}
}
"#;

impl Project {
    /// `~/.gemini` of this project's runs.
    #[must_use]
    pub fn gemini_home(&self) -> PathBuf {
        self.home.join(".gemini")
    }

    /// Writes the offline settings (when none are there yet), then `portcullis install --client gemini
    /// --user` with the freshly built binaries.
    pub fn install_gemini(&self) {
        self.write_gemini_settings();
        let bin = workspace_bin("portcullis");
        let out = Command::new(&bin)
            .args(["install", "--client", "gemini", "--user", "--bin-dir"])
            .arg(bin.parent().unwrap_or(Path::new(".")))
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env_remove("GEMINI_CLI_HOME")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "install --client gemini failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The offline settings in `~/.gemini/settings.json`, unless the file exists.
    pub fn write_gemini_settings(&self) {
        let path = self.gemini_home().join("settings.json");
        if !path.exists() {
            let _ = std::fs::create_dir_all(self.gemini_home());
            std::fs::write(&path, OFFLINE_SETTINGS).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Runs `gemini -p PROMPT --yolo` in the project against a stand-in serving `scenario`, killed after
    /// `timeout`. With `options.continue_session`, `--resume latest`.
    #[must_use]
    pub fn run_gemini(
        &self,
        script: &Path,
        prompt: &str,
        scenario: Scenario,
        timeout: Duration,
        options: &RunOptions,
    ) -> RunResult {
        self.write_gemini_settings();
        let standin =
            crate::standin_gemini::start(scenario).unwrap_or_else(|e| panic!("stand-in: {e}"));
        let mut cmd = Command::new("node");
        cmd.arg(script)
            .args(["--yolo", "--output-format", "text", "-m"])
            .arg(options.model.as_deref().unwrap_or(MODEL));
        if options.continue_session {
            cmd.args(["--resume", "latest"]);
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
            .env("GEMINI_API_KEY", "standin")
            .env("GOOGLE_GEMINI_BASE_URL", standin.url())
            .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
            .env("GEMINI_CLI_NO_RELAUNCH", "true")
            .env("NO_COLOR", "1")
            .env("CARGO_HOME", toolchain("CARGO_HOME", ".cargo"))
            .env("RUSTUP_HOME", toolchain("RUSTUP_HOME", ".rustup"))
            .envs(options.env.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting gemini: {e}"));
        let (code, stdout, stderr) = crate::e2e::wait_captured(child, timeout);
        RunResult {
            code,
            stdout,
            stderr,
            requests: standin.requests(),
        }
    }

    /// Every Gemini session file of the project's runs (`~/.gemini/tmp/**/chats/**.jsonl`).
    #[must_use]
    pub fn gemini_sessions(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.gemini_home().join("tmp")];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "jsonl")
                    && p.components().any(|c| c.as_os_str() == "chats")
                {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }
}
