//! Copilot CLI's side of install, uninstall and doctor (PROTOCOL-COPILOT.md §2, §6).
//!
//! Hooks live in the user's `$COPILOT_HOME/settings.json` (default `~/.copilot`), always loaded, or in a
//! repository's `.github/hooks/*.json`, loaded only in a trusted folder (`--trust-folder`, or
//! `COPILOT_ALLOW_ALL=true`); ours go to `.github/hooks/portcullis.json`. Events are Claude Code's
//! PascalCase names, which make Copilot send Claude-shaped input. A handler is `{"type": "command", "bash":
//! "'<bin>' --client copilot", "timeoutSec": N}` in a matcher group; registered as
//! [`crate::registrations`] says.

use std::path::{Path, PathBuf};

use jsonc_parser::cst::CstInputValue;
use portcullis_core::{Client, Env, HookSpec};
use serde_json::Value;

pub use portcullis_context::copilot::copilot_home;

/// Copilot's hook files for `project`, most specific first: the repository's `.github/hooks/*.json`,
/// then the user's `settings.json` and `hooks/*.json`.
#[must_use]
pub fn hook_files(project: &Path, env: &Env) -> Vec<PathBuf> {
    let json_in = |dir: PathBuf| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
    };
    let mut files = json_in(project.join(".github/hooks"));
    if let Some(home) = copilot_home(env) {
        files.push(home.join("settings.json"));
        files.extend(json_in(home.join("hooks")));
    }
    files
}

/// A Copilot handler: its `bash` command line, its timeout in seconds.
pub(crate) fn handler(binary: &Path, hook: &HookSpec) -> CstInputValue {
    CstInputValue::Object(vec![
        ("type".into(), CstInputValue::String("command".into())),
        (
            "bash".into(),
            CstInputValue::String(crate::settings::shell_command(binary, Client::Copilot)),
        ),
        ("timeoutSec".into(), CstInputValue::from(hook.timeout_secs)),
    ])
}

/// Whether Copilot runs hooks at all by a settings value (`disableAllHooks: true` turns them off).
#[must_use]
pub fn all_disabled(settings: &Value) -> bool {
    settings["disableAllHooks"] == Value::Bool(true)
}

/// Whether repository hooks load in every run: `COPILOT_ALLOW_ALL=true` (exactly `true`). Otherwise only a
/// run started with `--trust-folder` loads them.
#[must_use]
pub fn repository_hooks_trusted(env: &Env) -> bool {
    env.var("COPILOT_ALLOW_ALL").is_some_and(|v| v == "true")
}
