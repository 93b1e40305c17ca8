//! Which project and which binaries a command of the manager works on.

use std::path::{Path, PathBuf};

use portcullis_core::Env;
use portcullis_core::ctx::find_project_root;

/// The project around the current folder (the folder itself when none is found).
pub(crate) fn current_project() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    find_project_root(&cwd)
}

/// The project a command that reads or changes one works on: `--project`, else `CLAUDE_PROJECT_DIR`, else
/// the project around the current folder. Outside any (no `.git` or `.claude/` here or above), it says so
/// rather than making a project of wherever it runs (issue 36: `progress start` in a random folder made
/// it a project without a word, and `doctor` left a state folder in `/`).
pub(crate) fn project_for(explicit: Option<PathBuf>, env: &Env) -> Result<PathBuf, String> {
    if let Some(p) = explicit.or_else(|| env.var("CLAUDE_PROJECT_DIR").map(PathBuf::from)) {
        if !p.is_dir() {
            return Err(format!("`{}` is not a folder", p.display()));
        }
        return Ok(absolute(p));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = find_project_root(&cwd);
    if root.join(".git").exists() || root.join(".claude").is_dir() {
        return Ok(absolute(root));
    }
    Err(format!(
        "`{}` is not in a project (no .git or .claude/ here or above): run it in your project, or pass \
         --project DIR",
        cwd.display()
    ))
}

/// Where the hook binaries are by default: beside this executable.
pub(crate) fn default_bin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `p` made absolute: canonical when it exists, else joined to the current folder.
pub(crate) fn absolute(p: PathBuf) -> PathBuf {
    p.canonicalize()
        .unwrap_or_else(|_| std::env::current_dir().map(|c| c.join(&p)).unwrap_or(p))
}
