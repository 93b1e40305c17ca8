//! What a shell command plainly writes, read the way bash reads it.
//!
//! A guard rail, not a sandbox. The command is parsed by a real bash parser (`brush-parser`): comments,
//! every quoting form (`'…'`, `"…"`, `$'…'`, backslashes), compound commands (`if`/`then`, `for`/`do`,
//! `{ …; }`, `( … )`, `!`, `&&`, `||`, pipelines) and command substitutions are taken as bash takes them.
//! Then, for every simple command that will run:
//! - its output redirections (`>`, `>>`, `>|`, `<>`, `&>`, `&>>`, `>&FILE`, `N>FILE`) are writes;
//! - past wrappers that run another program (`sudo -u X`, `command -p`, `env -i A=B`, `time -p`,
//!   `nice -n N`, `timeout N`, `nohup`, `exec`, `stdbuf`, `doas`), the program's own writes: `tee FILE…`,
//!   `cp`/`mv`/`install`/`ln` destinations (a folder destination, `-t DIR` and `--target-directory=DIR`
//!   included: the files land in it under their own names), `sed -i` in every spelling (`-Ei`, `-ri`,
//!   `-i.bak`, `--in-place`, with `-e`/`--expression=`/`-eSCRIPT`/`-f`), `perl -i` (`-pi`, `-0pi`, `-lpi`,
//!   `-i.bak`);
//! - a literal `cd DIR` or `pushd DIR` before it in the same shell makes its relative paths relative to
//!   DIR (a `cd` to somewhere not literal makes them unknowable, and they are dropped).
//!
//! A path holding an expansion (`$X`, `$(…)`, `` `…` ``, `~user`), or glob characters, cannot be known
//! before the shell runs and is not reported; a leading `~` or `~/` is reported as written, for the caller
//! to expand with HOME (`portcullis_domains::resolve` does); neither is anything a script, `eval` or a program's own logic
//! writes. A command bash could not parse writes nothing (bash would not run it).
//!
//! [`might_write`] is the cheap pre-filter: a command it says no to is never parsed. A command the parser
//! panics on (it has `unwrap`s the fuzzer reaches) is read by the hand-written reader it replaced, so a
//! crafted command cannot crash agent-first into an allow.

mod fallback;
mod programs;
mod walk;

/// A simple command that runs, as [`runs`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its words, quotes removed; `None` for a word holding an expansion (`$X`, `$(…)`).
    pub words: Vec<Option<String>>,
    /// Whether it succeeded whenever the whole command did: it is reached by `&&` (or first) and only
    /// `&&` follows it, it is the last of its pipeline and of its list, not negated, not in the
    /// background, not inside a loop or conditional. `cargo test && echo ok` decides; `cargo test | tail`,
    /// `cargo test || true` and `cargo test; echo done` do not.
    pub decides: bool,
}

impl Run {
    /// The words joined by spaces (an expansion shown as `$?`), with the shell's separators inside a word
    /// (`;`, `&`, `|`, `(`, `)`) shown as `_`: a pattern looking for a command at a command position then
    /// never finds one inside a quoted string (`echo 'x; cargo test'`).
    #[must_use]
    pub fn text(&self) -> String {
        let words: Vec<String> = self
            .words
            .iter()
            .map(|w| {
                w.as_deref().map_or_else(
                    || "$?".to_owned(),
                    |w| w.replace([';', '&', '|', '(', ')', '\n'], "_"),
                )
            })
            .collect();
        words.join(" ")
    }
}

/// The simple commands `command` runs, read by the bash parser, in order (commands inside command
/// substitutions are not among them). `None` when it cannot be read (a syntax error, a command the parser
/// panics on, nesting past the parser's limit): then nothing about it should be believed.
#[must_use]
pub fn runs(command: &str) -> Option<Vec<Run>> {
    if nesting(command) > MAX_NESTING || command.len() > MAX_PARSED_BYTES {
        return None;
    }
    walk::runs(command)
}

/// Whether `command` could write a file by a form [`write_targets`] reads: it holds `>` or the name of a
/// program that writes its operands. No parsing; a command that passes is then parsed.
#[must_use]
pub fn might_write(command: &str) -> bool {
    command.contains('>') || programs::WRITERS.iter().any(|w| command.contains(w))
}

/// The files a tool call writes, as given: a file tool's path (Write, Edit, MultiEdit, NotebookEdit), a
/// Codex patch's files, or what [`write_targets`] reads a Bash command to write (with the files of a patch
/// the command applies itself, `apply_patch <<EOF`); nothing for the other tools.
#[must_use]
pub fn files_written(input: &portcullis_core::ToolInput) -> Vec<String> {
    match input {
        portcullis_core::ToolInput::Bash(b) => {
            let mut written = write_targets(b.command.as_deref().unwrap_or_default());
            written.extend(
                input
                    .touched_paths()
                    .into_iter()
                    .map(|p| p.to_string_lossy().into_owned()),
            );
            written
        }
        other => other
            .touched_paths()
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
    }
}

/// The files `command` plainly writes, as written (relative paths joined to a literal `cd` directory in
/// effect, not resolved). Targets that cannot be known before the shell runs are left out.
#[must_use]
pub fn write_targets(command: &str) -> Vec<String> {
    if !might_write(command) {
        return Vec::new();
    }
    let parsed = if nesting(command) <= MAX_NESTING && command.len() <= MAX_PARSED_BYTES {
        walk::writes(command)
    } else {
        None
    };
    let mut out = parsed.unwrap_or_else(|| fallback::write_targets(command));
    out.retain(|t| !t.is_empty() && !t.contains(['*', '?', '[', '{']));
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.clone()));
    out
}

/// Deeper nesting than this is not given to the parser, which recurses and would overflow the stack (an
/// abort no `catch_unwind` catches); such a command goes to the fallback reader.
const MAX_NESTING: usize = 48;

/// Longer commands go to the fallback reader too (linear); no real command is this long.
const MAX_PARSED_BYTES: usize = 256 << 10;

/// An upper bound on how deeply `command` nests: brackets and the keywords that open a compound command,
/// counted without regard to quotes (so it can only overestimate).
fn nesting(command: &str) -> usize {
    let mut depth: usize = 0;
    let mut deepest = 0;
    for word in command.split(|c: char| c.is_whitespace() || c == ';') {
        let opens = word.matches(['(', '{', '`']).count()
            + usize::from(matches!(
                word,
                "if" | "do" | "case" | "then" | "else" | "elif"
            ));
        let closes =
            word.matches([')', '}']).count() + usize::from(matches!(word, "fi" | "done" | "esac"));
        depth += opens;
        deepest = deepest.max(depth);
        depth = depth.saturating_sub(closes);
    }
    deepest
}

#[cfg(test)]
mod tests;
