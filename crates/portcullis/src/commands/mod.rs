//! The subcommands, one module each. Each returns its report as text plus success/failure; `cli` prints it.

use std::fs;
use std::path::{Path, PathBuf};

use portcullis_core::{Env, budget};

mod anneal;
mod audit;
mod doctor;
mod doctor_clients;
mod doctor_codex;
mod doctor_gates;
mod domains;
mod explain;
mod filter_stats;
mod handoffs;
mod init;
mod install;
mod locks;
mod log;
mod progress;
mod secrets;
mod skills;

pub use anneal::{AnnealRequest, anneal};
pub use audit::{AuditRequest, audit};
pub use doctor::doctor;
pub use domains::domains;
pub use explain::{Handler, explain, load_settings, matching_handlers, matching_handlers_in};
pub use filter_stats::filter_stats;
pub use handoffs::handoffs;
pub use init::{InitRequest, init};
pub use install::{CodexOptions, install, uninstall};
pub use locks::{Release, list_locks, release_locks};
pub use log::{LogFilter, follow_log, show_log};
pub use progress::{ProgressAction, progress};
pub use secrets::{RunRequest, WRAPPER_FAILED, run_with_secrets};
pub use skills::{SkillsRequest, skills};

/// A command's result: the text to print and whether it succeeded.
#[derive(Debug)]
pub struct Report {
    /// What to print on stdout.
    pub text: String,
    /// False makes the process exit 1.
    pub ok: bool,
}

impl Report {
    pub(crate) fn ok(text: String) -> Self {
        Self { text, ok: true }
    }
}

/// A failure worded for the user.
pub type CmdResult = Result<Report, String>;

pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The settings files Claude Code reads for a project, most specific first.
#[must_use]
pub fn settings_files(project: &Path, env: &Env) -> Vec<PathBuf> {
    let mut v = vec![
        project.join(".claude/settings.local.json"),
        project.join(".claude/settings.json"),
    ];
    if let Some(home) = env.claude_home() {
        v.push(home.join("settings.json"));
    }
    v
}

/// Reads stdin with the hooks' cap.
pub fn read_stdin() -> Result<Vec<u8>, String> {
    portcullis_core::run::read_capped(&mut std::io::stdin().lock(), budget::MAX_STDIN_BYTES)
        .map_err(|e| e.to_string())
}
