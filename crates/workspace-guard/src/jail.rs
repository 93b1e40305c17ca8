//! The workspace: the folders an agent may write in (seed 001's jail), gathered only when a write lands
//! outside the project, which is rare, so the common path reads nothing but the event.
//!
//! - the project root;
//! - the client's additional directories: `permissions.additionalDirectories` in the user's, the
//!   project's and the project's local settings, `--add-dir` on the client's command line
//!   (`/proc/<CLAUDE_PID>/cmdline`), and folders added during the session (`DirectoryAdded`, recorded
//!   in the session's `added-dirs` state);
//! - the temp folder: `$TMPDIR`, else `/tmp` (as programs find it);
//! - `workspace_guard.allow_write`;
//! - the harmless devices (`/dev/null`, `/dev/stdout`, `/dev/fd/N`, ...), which are not files at all.
//!
//! Each folder is resolved as the kernel would (symlinks applied), as the target is, so a link cannot
//! take a write out and a linked temp folder (`/tmp` → `/private/tmp`) still counts.

use std::path::{Path, PathBuf};

use portcullis_core::event::lexical;
use portcullis_core::state::StateFile;
use portcullis_core::{Ctx, Event, Result};
use portcullis_domains::{expand_home, real_path};
use serde::{Deserialize, Serialize};

use crate::config::WorkspaceGuardConfig;

/// Targets that are devices, not files: writing to them creates nothing.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/tty",
];

/// Whether `path` (absolute) is a harmless device: one of [`DEVICES`] or a file descriptor itself
/// (`/dev/fd/N`, `/proc/self/fd/N`). A path below a descriptor (`/dev/fd/3/x` with `3<DIR` open) names a
/// file in that folder, which may be anywhere: it is judged as a file (outside the workspace).
#[must_use]
pub fn is_device(path: &Path) -> bool {
    let path = lexical(path);
    let descriptor = |dir: &str| {
        path.strip_prefix(dir).is_ok_and(|rest| {
            let mut parts = rest.components();
            parts.next().is_some_and(|n| {
                n.as_os_str()
                    .to_str()
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            }) && parts.next().is_none()
        })
    };
    DEVICES.iter().any(|d| path == Path::new(d))
        || descriptor("/dev/fd")
        || descriptor("/proc/self/fd")
}

/// Folders added during the session with `/add-dir` (the `DirectoryAdded` event).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AddedDirs {
    /// Absolute folders, in the order they were added.
    pub(crate) dirs: Vec<String>,
}

impl StateFile for AddedDirs {
    const NAME: &'static str = "added-dirs";
    const SCHEMA_VERSION: u32 = 1;
}

/// The folders writes may land in besides the project, each resolved, with where it came from.
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    roots: Vec<(PathBuf, &'static str)>,
}

impl Workspace {
    /// Gathers the folders for this run (reads settings files, the client's command line and state).
    pub(crate) fn gather(
        event: &Event,
        ctx: &Ctx,
        rules: &WorkspaceGuardConfig,
        reads: bool,
    ) -> Self {
        let mut w = Self::default();
        let home = ctx.env.var("HOME");
        // The system's temp folder, as programs find it: `$TMPDIR`, else `/tmp`.
        let tmp = ctx.env.var("TMPDIR").filter(|t| t.starts_with('/'));
        w.add(
            tmp.as_deref().unwrap_or("/tmp"),
            &ctx.project,
            home.as_deref(),
            "the temp folder",
        );
        for d in &rules.allow_write {
            w.add(
                d,
                &ctx.project,
                home.as_deref(),
                "workspace_guard.allow_write",
            );
        }
        let claude_home = ctx.env.claude_home();
        let mut settings = vec![
            ctx.project.join(".claude/settings.json"),
            ctx.project.join(".claude/settings.local.json"),
        ];
        settings.extend(claude_home.iter().map(|h| h.join("settings.json")));
        for file in &settings {
            for d in settings_dirs(file) {
                w.add(&d, &ctx.project, home.as_deref(), "additionalDirectories");
            }
        }
        if let Some(pid) = ctx.env.var("CLAUDE_PID").and_then(|p| p.parse().ok()) {
            for d in cmdline_add_dirs(pid) {
                w.add(&d, &ctx.cwd, home.as_deref(), "--add-dir");
            }
        }
        if let Ok(session) = ctx.state().session(event.session().unwrap_or_default())
            && let Ok((added, _)) = session.load::<AddedDirs>()
        {
            for d in &added.dirs {
                w.add(d, &ctx.project, home.as_deref(), "/add-dir");
            }
        }
        if reads && let Some(h) = &claude_home {
            w.add(
                &h.to_string_lossy(),
                &ctx.project,
                None,
                "the client's own folder",
            );
        }
        w
    }

    fn add(&mut self, dir: &str, base: &Path, home: Option<&str>, why: &'static str) {
        let text = expand_home(dir, home);
        if text.starts_with('~') {
            // `~user`, or `~` without a HOME: no folder anyone can name.
            return;
        }
        let path = Path::new(&text);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        };
        self.roots.push((real_path(&absolute), why));
    }

    /// What lets a write to `real` (resolved) land: a folder's reason, or `None` when nothing does.
    pub(crate) fn allows(&self, real: &Path) -> Option<&'static str> {
        if is_device(real) {
            return Some("a device");
        }
        self.roots
            .iter()
            .find(|(root, _)| real.starts_with(root))
            .map(|(_, why)| *why)
    }

    /// The folders, for a denial's message.
    pub(crate) fn describe(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for (root, _) in &self.roots {
            let text = format!("`{}`", root.display());
            if !out.contains(&text) {
                out.push(text);
            }
        }
        out.join(", ")
    }
}

/// `permissions.additionalDirectories` of one settings file (none when it is missing or unreadable: the
/// client reports a bad settings file itself).
fn settings_dirs(file: &Path) -> Vec<String> {
    let Ok(f) = portcullis_core::files::open_regular(file) else {
        return Vec::new();
    };
    let mut bytes = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(f, 1 << 20), &mut bytes).is_err() {
        return Vec::new();
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    v.pointer("/permissions/additionalDirectories")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The folders given to the client with `--add-dir A B` or `--add-dir=A` (Linux: from
/// `/proc/<pid>/cmdline`; elsewhere none).
#[must_use]
pub fn cmdline_add_dirs(pid: u32) -> Vec<String> {
    let Ok(bytes) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return Vec::new();
    };
    add_dirs_of(
        bytes
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned()),
    )
}

/// `--add-dir`'s values among `args`: a variadic option, so every argument up to the next `-…`.
fn add_dirs_of(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut taking = false;
    for a in args {
        if let Some(v) = a.strip_prefix("--add-dir=") {
            out.push(v.to_owned());
            taking = false;
        } else if a == "--add-dir" {
            taking = true;
        } else if a.starts_with('-') || a.is_empty() {
            taking = false;
        } else if taking {
            out.push(a);
        }
    }
    out
}

/// Records a folder added during the session (`DirectoryAdded`).
pub(crate) fn record_added(event: &Event, ctx: &Ctx) -> Result<()> {
    let Some(dir) = event.directory.as_deref().filter(|d| d.starts_with('/')) else {
        return Ok(());
    };
    ctx.state()
        .session(event.session()?)?
        .update::<AddedDirs, _>(&ctx.deadline, |s| {
            if !s.dirs.iter().any(|d| d == dir) {
                s.dirs.push(dir.to_owned());
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_dir_is_variadic() {
        let args = [
            "node",
            "claude",
            "-p",
            "--add-dir",
            "/a",
            "../b",
            "--model",
            "x",
            "--add-dir=/c",
            "hi",
        ];
        assert_eq!(
            add_dirs_of(args.iter().map(|s| (*s).to_owned())),
            ["/a", "../b", "/c"]
        );
    }

    #[test]
    fn devices_are_not_files() {
        assert!(is_device(Path::new("/dev/null")));
        assert!(is_device(Path::new("/dev/fd/3")));
        assert!(is_device(Path::new("/dev/../dev/stderr")));
        assert!(!is_device(Path::new("/dev/sda")));
        assert!(!is_device(Path::new("/dev/null2")));
    }

    #[test]
    fn a_real_process_command_line_is_read() {
        if !Path::new("/proc/self/cmdline").exists() {
            return;
        }
        // perl keeps its argv as given (a shell may re-exec itself).
        let Ok(mut child) = std::process::Command::new("perl")
            .args(["-e", "sleep 5", "--", "--add-dir", "/work/x", "/y"])
            .spawn()
        else {
            return;
        };
        // Under load the new process's command line can show up a moment after `spawn` returns.
        let mut dirs = Vec::new();
        for _ in 0..100 {
            dirs = cmdline_add_dirs(child.id());
            if !dirs.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(dirs, ["/work/x", "/y"]);
    }
}
