//! Version control: git log, diff and show, their structure kept and long bodies cut.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use super::{Keep, cut_line, important, regex};

const FILES_PER_COMMIT: usize = 3;
const LINES_PER_HUNK: usize = 6;

/// Where the reading of a log or diff stands.
#[derive(Default)]
struct Reader {
    out: String,
    in_message: bool,
    message_lines: usize,
    files: usize,
    hunk_lines: usize,
    hunk_hidden: usize,
}

impl Reader {
    fn line(&mut self, line: &str) {
        let _ = writeln!(self.out, "{}", cut_line(line));
    }

    fn end_hunk(&mut self) {
        if self.hunk_hidden > 0 {
            let _ = writeln!(
                self.out,
                "[… {} more lines in this hunk …]",
                self.hunk_hidden
            );
            self.hunk_hidden = 0;
        }
    }

    fn end_files(&mut self) {
        if self.files > FILES_PER_COMMIT {
            let _ = writeln!(
                self.out,
                " [… {} more files …]",
                self.files - FILES_PER_COMMIT
            );
        }
        self.files = 0;
    }

    fn end_commit(&mut self) {
        self.end_hunk();
        if self.message_lines > 1 {
            let _ = writeln!(
                self.out,
                "    [… {} more lines of message …]",
                self.message_lines - 1
            );
        }
        self.message_lines = 0;
        self.end_files();
        self.in_message = false;
    }

    /// A line of a commit's header or message; `false` when it is none.
    fn commit_line(&mut self, line: &str) -> bool {
        static COMMIT: LazyLock<Regex> = LazyLock::new(|| regex(r"^commit [0-9a-f]{7,40}"));
        if COMMIT.is_match(line) {
            self.end_commit();
            self.line(line);
        } else if line.starts_with("Date:") || line.starts_with("Merge:") {
            self.line(line);
        } else if line.starts_with("Author:") || (self.in_message && line.is_empty()) {
        } else if line.starts_with("    ") && !line.starts_with("     ") {
            self.in_message = true;
            self.message_lines += 1;
            if self.message_lines == 1 {
                let _ = writeln!(self.out, "{}", cut_subject(line));
            }
        } else {
            return false;
        }
        true
    }

    /// A line of a change summary or a diff.
    fn change_line(&mut self, line: &str, keep: &Keep) {
        if line.starts_with(' ') && line.contains(" changed, ") {
            self.end_files();
            self.line(line);
        } else if line.starts_with(' ') && line.contains(" | ") {
            self.files += 1;
            if self.files <= FILES_PER_COMMIT {
                self.line(line);
            }
        } else if line.starts_with("diff --git") {
            self.end_hunk();
            self.line(line);
        } else if line.starts_with("@@") {
            self.end_hunk();
            self.hunk_lines = 0;
            self.line(line);
        } else if line.starts_with("index ") || line.starts_with("--- ") || line.starts_with("+++ ")
        {
        } else if line.starts_with(['+', '-', ' ']) {
            self.hunk_lines += 1;
            if self.hunk_lines <= LINES_PER_HUNK || (important(line, keep) && keep.wants(line)) {
                self.line(line);
            } else {
                self.hunk_hidden += 1;
            }
        } else if !line.trim().is_empty() {
            self.line(line);
        }
    }
}

/// Version control: each commit's id, date, subject and change summary, with at most three files; each
/// file of a diff with its hunk headers and the first lines of each hunk, the rest counted.
pub(super) fn vcs(text: &str, keep: &Keep) -> String {
    let mut r = Reader::default();
    for line in text.lines() {
        if !r.commit_line(line) {
            r.in_message = false;
            r.change_line(line, keep);
        }
    }
    r.end_commit();
    r.out
}

/// A commit's subject, cut shorter than other lines: the log's structure matters more than long subjects.
fn cut_subject(line: &str) -> String {
    const SUBJECT_CHARS: usize = 160;
    if line.chars().count() <= SUBJECT_CHARS {
        return line.to_owned();
    }
    let head: String = line.chars().take(SUBJECT_CHARS).collect();
    format!("{head}…")
}
