//! The fix for each stray file, as exact shell commands that are safe for its git state.
//!
//! - untracked: `mkdir -p -- <dest> && mv -- <file> <dest>/<name>`;
//! - staged but never committed: `git rm --cached --quiet -- <file>` first (works with and without a first
//!   commit), then the same move;
//! - modified tracked files are not new outputs: they are named, never moved ([`reason`]).
//!
//! Destinations never overwrite: a name already taken (on disk or by another file of the same advice) gets
//! its folder path folded in (`docs2__NOTES.md`), then a counter. Every path is shell-quoted.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::scan::{Candidate, FileState};

/// Quotes a word for POSIX shells: bare when it is plainly safe, else in single quotes.
#[must_use]
pub(crate) fn sh_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+' | b',' | b'@' | b'%')
        });
    if plain && !word.starts_with('-') {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A folder name from an agent type or session id: letters, digits, `.`, `_`, `-`; anything else is `-`.
#[must_use]
pub(crate) fn bucket(name: &str) -> String {
    let b: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let b = b.trim_matches(['.', '-']).to_owned();
    if b.is_empty() { "agent".into() } else { b }
}

/// One stray file and its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fix {
    /// The stray file, project-relative.
    pub path: String,
    /// Its state.
    pub state: FileState,
    /// Where it goes, project-relative.
    pub destination: String,
    /// The command line that moves it there.
    pub command: String,
}

/// Fixes for the stray files (untracked and staged-new candidates), moving them into `dest_dir`.
/// `exists` says whether a project-relative path is taken on disk.
#[must_use]
pub(crate) fn fixes(
    strays: &[Candidate],
    dest_dir: &str,
    exists: &dyn Fn(&str) -> bool,
) -> Vec<Fix> {
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for c in strays {
        let name = c.path.rsplit('/').next().unwrap_or(&c.path);
        let folded = c.path.replace('/', "__");
        let mut destination = format!("{dest_dir}/{name}");
        let free = |d: &str, taken: &BTreeSet<String>| !taken.contains(d) && !exists(d);
        if !free(&destination, &taken) {
            destination = format!("{dest_dir}/{folded}");
        }
        let mut n = 2;
        while !free(&destination, &taken) {
            let (stem, ext) = folded.rsplit_once('.').unwrap_or((&folded, ""));
            let ext = if ext.is_empty() {
                String::new()
            } else {
                format!(".{ext}")
            };
            destination = format!("{dest_dir}/{stem}-{n}{ext}");
            n += 1;
        }
        taken.insert(destination.clone());
        let mv = format!(
            "mkdir -p -- {} && mv -- {} {}",
            sh_quote(dest_dir),
            sh_quote(&c.path),
            sh_quote(&destination)
        );
        let command = match c.state {
            FileState::StagedNew => {
                format!("git rm --cached --quiet -- {} && {mv}", sh_quote(&c.path))
            }
            FileState::Untracked => mv,
        };
        out.push(Fix {
            path: c.path.clone(),
            state: c.state,
            destination,
            command,
        });
    }
    out
}

/// The block reason.
#[must_use]
pub(crate) fn reason(
    fixes: &[Fix],
    left_alone: &[String],
    output_dir: &str,
    project: &Path,
) -> String {
    let mut t = format!(
        "[output-location] Notes, plans and reports belong under `{output_dir}/`. These Markdown files appeared \
         outside it during this session; move them (run from the project root, `{}`):",
        project.display()
    );
    for f in fixes {
        let state = match f.state {
            FileState::StagedNew => "staged, never committed: unstage, then move",
            FileState::Untracked => "untracked: safe to move",
        };
        let _ = write!(t, "\n- `{}` ({state}):\n  {}", f.path, f.command);
    }
    for path in left_alone {
        let _ = write!(
            t,
            "\n- `{path}` is a tracked file with changes: not a new output, leave it where it is."
        );
    }
    let _ = write!(
        t,
        "\nIf a file is meant to stay, say so to the user instead of moving it; the allowed places are in \
         `.claude/portcullis.json` (`output_location.allowed`)."
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(path: &str, state: FileState) -> Candidate {
        Candidate {
            path: path.into(),
            state,
        }
    }

    #[test]
    fn quoting_survives_spaces_quotes_and_dashes() {
        assert_eq!(sh_quote("docs/NOTES.md"), "docs/NOTES.md");
        assert_eq!(sh_quote("my notes.md"), "'my notes.md'");
        assert_eq!(sh_quote("it's.md"), r"'it'\''s.md'");
        assert_eq!(sh_quote("-rf.md"), "'-rf.md'");
        assert_eq!(sh_quote("$(rm -rf ~).md"), "'$(rm -rf ~).md'");
        assert_eq!(sh_quote("résumé.md"), "'résumé.md'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn each_state_gets_its_own_fix() {
        let strays = [
            c("NOTES.md", FileState::Untracked),
            c("plan/PLAN.md", FileState::StagedNew),
        ];
        let f = fixes(&strays, ".claude/.output/dev", &|_| false);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].command,
            "mkdir -p -- .claude/.output/dev && mv -- NOTES.md .claude/.output/dev/NOTES.md"
        );
        assert_eq!(
            f[1].command,
            "git rm --cached --quiet -- plan/PLAN.md && mkdir -p -- .claude/.output/dev && mv -- plan/PLAN.md .claude/.output/dev/PLAN.md"
        );
    }

    #[test]
    fn destinations_never_overwrite() {
        let strays = [
            c("NOTES.md", FileState::Untracked),
            c("a/NOTES.md", FileState::Untracked),
            c("b/NOTES.md", FileState::Untracked),
        ];
        let on_disk = |p: &str| p == "out/b__NOTES.md";
        let f = fixes(&strays, "out", &on_disk);
        let dests: Vec<&str> = f.iter().map(|f| f.destination.as_str()).collect();
        assert_eq!(
            dests,
            ["out/NOTES.md", "out/a__NOTES.md", "out/b__NOTES-2.md"]
        );
    }

    #[test]
    fn buckets_are_safe_folder_names() {
        assert_eq!(bucket("backend-developer"), "backend-developer");
        assert_eq!(bucket("my-plugin:writer"), "my-plugin-writer");
        assert_eq!(bucket("../.."), "agent");
        assert_eq!(bucket(""), "agent");
    }
}
