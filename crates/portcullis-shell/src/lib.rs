//! What a shell command plainly writes and removes, read the way bash reads it.
//!
//! A guard rail, not a sandbox. The command is parsed by a real bash parser (`brush-parser`): comments,
//! every quoting form (`'…'`, `"…"`, `$'…'`, backslashes), compound commands (`if`/`then`, `for`/`do`,
//! `{ …; }`, `( … )`, `!`, `&&`, `||`, pipelines), command and process substitutions are taken as bash
//! takes them. Every place a command runs from is walked: the commands of a list, of substitutions in any
//! word (a `for` list, a `case` subject, a `[[ … ]]` test, a here-string, an unquoted here-document's
//! body, a redirection's file name), and of a process substitution used as a redirection's target
//! (`> >(tee FILE)`). Then, for every simple command that will run:
//! - its output redirections (`>`, `>>`, `>|`, `<>`, `&>`, `&>>`, `>&FILE`, `N>FILE`) are writes;
//! - past wrappers that run another program (`sudo -u X`, `command -p`, `builtin`, `env -i A=B`, `time
//!   -p`, `nice -n N`, `ionice`, `timeout N`, `nohup`, `exec`, `stdbuf`, `doas`, `flock F`), the
//!   program's own effects (`programs.rs`, `writers.rs`): `tee`, `cp`/`mv`/`install`/`ln` destinations (a
//!   folder destination, `-t DIR`, `-rtDIR` and `--target-directory=DIR` included), `sed -i` and `perl -i`
//!   in every spelling, downloads (`curl -o`/`-O`, `wget -O`/`-P`), archives (`tar` creating or
//!   extracting, `unzip -d`, `zip`), copies (`rsync`, `scp`, `dd of=`), `git clone`, `touch`, `mkdir`,
//!   `truncate`; removals (`rm`, `rmdir`, `unlink`, `shred`, `mv`'s sources), changes that are not content
//!   (`mkdir`, `chmod`, `chown`), and resets
//!   (`git checkout -- F`, `git restore F`, and the whole tree for `git stash`, `git reset --hard`,
//!   `git clean -f`); and what a shell is given to run (`sh -c TEXT`, `bash -lc TEXT`, `eval TEXT`), or
//!   `xargs` and `find -exec` hand their words to;
//! - a link the command made earlier (`ln -s TARGET LINK`, or a hard link) leads a later write through it
//!   to its target as well;
//! - a literal `cd DIR`, `pushd DIR`, `builtin cd`, `command cd`, a `cd` in an `if` or `while` condition,
//!   and a bare `cd` or `cd ~` (home) before it in the same shell make its relative paths relative to that
//!   folder; `env -C DIR` does so for the program's own paths (a `cd` to somewhere not literal makes them
//!   unknowable, and they are dropped).
//!
//! A path holding an expansion (`$X`, `$(…)`, `` `…` ``, `~user`), or an unquoted glob or brace pattern,
//! cannot be known before the shell runs and is not reported (a quoted `'[draft].md'` is a plain name); a
//! leading `~` or `~/` is reported as written, for the caller to expand with HOME
//! (`portcullis_domains::resolve` does); neither is anything a script file or a program's own logic
//! writes. A command bash could not parse writes nothing (bash would not run it).
//!
//! [`might_write`] is the cheap pre-filter: a command it says no to is never parsed. The parser recurses,
//! so a command is parsed on the caller's stack only while its nesting bound is small, on a thread with a
//! stack sized for it up to `MAX_NESTING` levels, and past that (or when the parser panics: it has
//! `unwrap`s the fuzzer reaches) read by the fallback reader, which applies the same program rules to
//! simple commands, so a crafted command cannot crash a guard into an allow.

mod fallback;
mod in_place;
mod programs;
mod reading;
mod walk;
mod writers;

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
    /// The folder it runs in, relative to where the command starts (`""`: there; absolute after `cd
    /// /abs`; `~…` after `cd ~`), as the literal `cd`s before it leave it; `None` when a `cd` to somewhere
    /// not literal came first.
    pub dir: Option<String>,
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
/// panics on, nesting past what is parsed): then nothing about it should be believed.
#[must_use]
pub fn runs(command: &str) -> Option<Vec<Run>> {
    parsed(command, walk::runs).flatten()
}

/// Whether `command` could write or remove a file by a form [`write_targets`] reads: it holds `>` or
/// names, as a word of its own, a program that writes its operands, runs a script, or hands its words on.
/// No parsing; a command that passes is then parsed.
#[must_use]
pub fn might_write(command: &str) -> bool {
    command.contains('>')
        || programs::WRITERS.iter().any(|(name, with)| {
            names(command, name) && (with.is_empty() || with.iter().any(|w| command.contains(w)))
        })
}

/// Whether `name` stands in `command` as a word of its own or a path's last part (`/bin/rm`), not inside
/// another word (`rm` in `term`, `sh` in `push`).
fn names(command: &str, name: &str) -> bool {
    let bytes = command.as_bytes();
    let mut from = 0;
    while let Some(at) = command[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        let before_ok = start == 0
            || matches!(
                bytes[start - 1],
                b' ' | b'\t'
                    | b'\n'
                    | b';'
                    | b'&'
                    | b'|'
                    | b'('
                    | b'`'
                    | b'/'
                    | b'{'
                    | b'!'
                    | b'\''
                    | b'"'
                    | b'='
            );
        let after_ok = end == bytes.len()
            || matches!(
                bytes[end],
                b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b')' | b'`' | b'\'' | b'"'
            );
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
    }
    false
}

/// The files a tool call writes, as given: a file tool's path (Write, Edit, MultiEdit, NotebookEdit), a
/// Codex patch's files, or what [`write_targets`] reads a Bash command to write (with the files of a patch
/// the command applies itself, `apply_patch <<EOF` or `applypatch`, from the folder it runs in); nothing
/// for the other tools.
#[must_use]
pub fn files_written(input: &portcullis_core::ToolInput) -> Vec<String> {
    match input {
        // A patch the command applies itself is read by the shell reader, from the folder it runs in.
        portcullis_core::ToolInput::Bash(b) => {
            write_targets(b.command.as_deref().unwrap_or_default())
        }
        other => other
            .touched_paths()
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
    }
}

/// The files a tool call changes in any way: [`files_written`], and for a Bash command also the files it
/// removes, moves away or resets ([`removal_targets`]). What a guard of other agents' files must judge.
#[must_use]
pub fn files_changed(input: &portcullis_core::ToolInput) -> Vec<String> {
    let mut changed = files_written(input);
    if let portcullis_core::ToolInput::Bash(b) = input {
        changed.extend(removal_targets(b.command.as_deref().unwrap_or_default()));
    }
    let mut seen = std::collections::HashSet::new();
    changed.retain(|t| seen.insert(t.clone()));
    changed
}

/// The files `command` plainly writes, as written (relative paths joined to a literal `cd` directory in
/// effect, not resolved; a leading `~` kept). Targets that cannot be known before the shell runs are left
/// out.
#[must_use]
pub fn write_targets(command: &str) -> Vec<String> {
    reading(command).writes
}

/// The files `command` removes, moves away, resets to another version or changes other than in content
/// (`rm`, `mv`'s sources, `git checkout -- F`, `git restore F`, `mkdir`, `chmod`, `chown`; `.` for what
/// resets the whole tree: `git stash`, `git reset --hard`, `git clean -f`), as [`write_targets`] gives
/// paths.
#[must_use]
pub fn removal_targets(command: &str) -> Vec<String> {
    reading(command).removes
}

/// The files `command` redirects into a command's input (`cat < F`, `while read l; do …; done < F`), as
/// [`write_targets`] gives paths: how a program reads a file it is not given as an operand.
#[must_use]
pub fn input_files(command: &str) -> Vec<String> {
    if !command.contains('<') {
        return Vec::new();
    }
    parsed(command, walk::writes)
        .flatten()
        .map(|r| r.reads)
        .unwrap_or_default()
}

/// Both lists, each without repeats.
fn reading(command: &str) -> walk::Reading {
    if !might_write(command) {
        return walk::Reading::default();
    }
    let mut out = parsed(command, walk::writes)
        .flatten()
        .unwrap_or_else(|| fallback::reading(command));
    for list in [&mut out.writes, &mut out.removes] {
        list.retain(|t| !t.is_empty());
        let mut seen = std::collections::HashSet::new();
        list.retain(|t| seen.insert(t.clone()));
    }
    out
}

/// Nesting up to this is parsed on the caller's stack (a test thread has 2 MiB; the parser and the walk
/// take some 10-20 KiB a level in a debug build).
const INLINE_NESTING: usize = 48;

/// Nesting up to this is parsed on a thread of its own with a stack sized for it; deeper goes to the
/// fallback reader. A real command is far below it; a commit message or Markdown here-doc with hundreds of
/// backquoted code spans is not parsed on the small stack, but is still parsed.
const MAX_NESTING: usize = 2048;

/// The stack each level of nesting is given on the parsing thread (generous: an overflow aborts).
const STACK_PER_LEVEL: usize = 64 << 10;

/// Longer commands go to the fallback reader (linear); no real command is this long.
const MAX_PARSED_BYTES: usize = 256 << 10;

/// `read(command)` where the parser can take it: inline when [`nesting`] is small, on a thread with a
/// stack sized for it when it is larger; `None` when it is too long or too deep to parse at all.
fn parsed<T: Send>(command: &str, read: impl FnOnce(&str) -> T + Send) -> Option<T> {
    if command.len() > MAX_PARSED_BYTES {
        return None;
    }
    let depth = nesting(command);
    if depth <= INLINE_NESTING {
        return Some(read(command));
    }
    if depth > MAX_NESTING {
        return None;
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size((1 << 20) + depth * STACK_PER_LEVEL)
            .spawn_scoped(scope, || read(command))
            .ok()?
            .join()
            .ok()
    })
}

/// An upper bound on how deeply the parser recurses on `command`: every opening bracket or backquote, and
/// every word that opens a compound command (`if`, `case`, `while`, `until`, `for`, `select`), counted
/// without regard to quotes or closings (so it can only overestimate). Quotes are not read here on purpose:
/// a reader of quotes that disagreed with the parser's could hide real nesting from it.
fn nesting(command: &str) -> usize {
    let brackets = command
        .bytes()
        .filter(|b| matches!(b, b'(' | b'{' | b'`'))
        .count();
    let keywords = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| matches!(*w, "if" | "case" | "while" | "until" | "for" | "select"))
        .count();
    brackets + keywords
}

#[cfg(test)]
mod tests;
