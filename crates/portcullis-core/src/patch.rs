//! Codex's `apply_patch` text read as the files it writes (PROTOCOL-CODEX.md §4).
//!
//! A patch is `*** Begin Patch`, then per file one header — `*** Add File: P`, `*** Update File: P`
//! (optionally followed by `*** Move to: Q`) or `*** Delete File: P` — with its lines (`+` added, `-`
//! removed, ` ` context, `@@` hunk headers), then `*** End Patch`. Paths are as the model wrote them,
//! usually relative to the session's `cwd`. Only the headers matter to the hooks: which files change.

use std::path::PathBuf;

/// What a patch does to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchAction {
    /// A new file.
    Add,
    /// An existing file changed (and perhaps moved: see [`PatchedFile::moved_to`]).
    Update,
    /// A file removed.
    Delete,
}

/// One file of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchedFile {
    /// The path as written in the header.
    pub path: PathBuf,
    /// What happens to it.
    pub action: PatchAction,
    /// `*** Move to:` of an update: the file's new path.
    pub moved_to: Option<PathBuf>,
}

impl PatchedFile {
    /// The paths this entry writes: the file itself (also when deleted: its content changes), and a move's
    /// destination.
    pub fn written(&self) -> impl Iterator<Item = &PathBuf> {
        std::iter::once(&self.path).chain(self.moved_to.as_ref())
    }
}

/// Reads every file header of `patch`. Text outside any file section, and malformed lines, are ignored:
/// the client refuses a patch it cannot apply, and then no `PostToolUse` follows.
#[must_use]
pub fn parse(patch: &str) -> Vec<PatchedFile> {
    let mut files: Vec<PatchedFile> = Vec::new();
    for line in patch.lines() {
        // Codex's own reader takes a header with blanks before it (a patch indented in a here-document).
        let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
        let header = |prefix: &str| {
            line.strip_prefix(prefix)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        };
        if let Some(path) = header("*** Add File:") {
            files.push(new_file(path, PatchAction::Add));
        } else if let Some(path) = header("*** Update File:") {
            files.push(new_file(path, PatchAction::Update));
        } else if let Some(path) = header("*** Delete File:") {
            files.push(new_file(path, PatchAction::Delete));
        } else if let Some(path) = header("*** Move to:")
            && let Some(last) = files.last_mut().filter(|f| f.action == PatchAction::Update)
        {
            last.moved_to = Some(path);
        }
        // Anything else: `*** Begin Patch`, `*** End Patch`, hunk lines.
    }
    files
}

fn new_file(path: PathBuf, action: PatchAction) -> PatchedFile {
    PatchedFile {
        path,
        action,
        moved_to: None,
    }
}

/// True when a shell command applies a patch itself (`apply_patch <<'EOF' … EOF`, PROTOCOL-CODEX.md §4
/// bypass (a)): Codex then fires only a `PreToolUse` `Bash`, with the patch text inside the command.
#[must_use]
pub fn shell_applies_patch(command: &str) -> bool {
    command.contains("*** Begin Patch")
        && command
            .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '('))
            .any(|w| {
                let name = w.rsplit('/').next().unwrap_or(w);
                name == "apply_patch" || name == "applypatch"
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &str = "*** Begin Patch\n*** Update File: notes.txt\n@@\n one\n-two\n+TWO\n*** Add File: src/new.rs\n+fn main() {}\n*** End Patch\n";

    #[test]
    fn the_captured_patch_writes_two_files() {
        let files = parse(CAPTURED);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, PathBuf::from("notes.txt"));
        assert_eq!(files[0].action, PatchAction::Update);
        assert_eq!(files[1].path, PathBuf::from("src/new.rs"));
        assert_eq!(files[1].action, PatchAction::Add);
    }

    #[test]
    fn moves_deletes_and_absolute_paths() {
        let files = parse(
            "*** Begin Patch\r\n*** Update File: a.md\r\n*** Move to: docs/a.md\r\n@@\r\n-x\r\n+y\r\n\
             *** Delete File: /abs/c.txt\r\n+not added\r\n*** End Patch",
        );
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].written().collect::<Vec<_>>(),
            [&PathBuf::from("a.md"), &PathBuf::from("docs/a.md")]
        );
        assert_eq!(files[1].path, PathBuf::from("/abs/c.txt"));
        assert_eq!(files[1].action, PatchAction::Delete);
    }

    #[test]
    fn no_headers_no_files() {
        assert!(parse("").is_empty());
        assert!(parse("+orphan\n*** Add File:   \n*** Move to: x").is_empty());
    }

    #[test]
    fn a_shell_applied_patch_is_recognised() {
        assert!(shell_applies_patch(
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\nEOF"
        ));
        assert!(shell_applies_patch(
            "cd x && /usr/bin/apply_patch \"*** Begin Patch\n*** End Patch\""
        ));
        assert!(!shell_applies_patch("echo '*** Begin Patch'"));
        assert!(!shell_applies_patch("apply_patch_helper run"));
    }
}
