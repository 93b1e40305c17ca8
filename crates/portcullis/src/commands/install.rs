//! `portcullis install` and `uninstall`: the suite's hooks merged into (or removed from) a settings.json,
//! everything else kept byte for byte.

use std::fs;
use std::path::Path;

use portcullis_suite::HOOKS;

use super::{CmdResult, Report, is_executable};
use crate::diff;
use crate::settings::{self, Scope};

fn read_settings(path: &Path) -> Result<String, String> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("reading `{}`: {e}", path.display())),
    }
}

fn write_settings(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating `{}`: {e}", dir.display()))?;
    }
    portcullis_core::state::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
}

/// `portcullis install`.
pub fn install(scope: &Scope, bin_dir: &Path, dry_run: bool) -> CmdResult {
    let missing: Vec<&str> = HOOKS
        .iter()
        .map(|h| h.name)
        .filter(|n| !is_executable(&bin_dir.join(n)))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "hook binaries missing from `{}`: {} (run ./install.sh, or pass --bin-dir)",
            bin_dir.display(),
            missing.join(", ")
        ));
    }
    let path = scope.settings_path();
    let before = read_settings(&path)?;
    let after = settings::install(&path, &before, bin_dir, HOOKS).map_err(|e| e.0)?;
    apply(&path, &before, &after, dry_run, "installed")
}

/// `portcullis uninstall`.
pub fn uninstall(scope: &Scope, dry_run: bool) -> CmdResult {
    let path = scope.settings_path();
    let before = read_settings(&path)?;
    if before.is_empty() {
        return Ok(Report::ok(format!(
            "nothing to remove: `{}` does not exist\n",
            path.display()
        )));
    }
    let after = settings::uninstall(&path, &before).map_err(|e| e.0)?;
    apply(&path, &before, &after, dry_run, "removed")
}

fn apply(path: &Path, before: &str, after: &str, dry_run: bool, verb: &str) -> CmdResult {
    let label = path.display().to_string();
    if dry_run {
        let d = diff::unified(before, after, &label, 3);
        return Ok(Report::ok(if d.is_empty() {
            format!("no change to `{label}`\n")
        } else {
            d
        }));
    }
    if before == after {
        return Ok(Report::ok(format!("`{label}` already up to date\n")));
    }
    write_settings(path, after)?;
    Ok(Report::ok(format!(
        "{verb} portcullis hooks in `{label}`\n"
    )))
}
