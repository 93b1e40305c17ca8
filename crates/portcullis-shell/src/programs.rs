//! What a program does to files, from its words: the wrappers that run another program are skipped, then
//! the program's own rules apply. One table serves the parser's walk and the fallback reader, so both read
//! a simple command alike.

use crate::writers;

/// The names the pre-filter looks for, as whole words: programs that write or remove files named in
/// their words, run a script given as a word, or hand their words to another program ([`effects`] knows
/// each). A name with a second word is looked for only when that word is in the command too (`git` only
/// matters for a clone, a checkout, a restore, a stash, a reset or a clean).
pub(crate) const WRITERS: &[(&str, &[&str])] = &[
    ("tee", &[]),
    ("cp", &[]),
    ("mv", &[]),
    ("install", &[]),
    ("ln", &[]),
    ("sed", &[]),
    ("perl", &[]),
    ("curl", &[]),
    ("wget", &[]),
    ("tar", &[]),
    ("unzip", &[]),
    ("zip", &[]),
    ("7z", &[]),
    ("rsync", &[]),
    ("scp", &[]),
    ("dd", &[]),
    ("touch", &[]),
    ("mkdir", &[]),
    ("truncate", &[]),
    ("rm", &[]),
    ("rmdir", &[]),
    ("unlink", &[]),
    ("shred", &[]),
    ("chmod", &[]),
    ("chown", &[]),
    ("chgrp", &[]),
    ("mkfifo", &[]),
    ("split", &[]),
    ("csplit", &[]),
    ("gzip", &[]),
    ("gunzip", &[]),
    ("bzip2", &[]),
    ("xz", &[]),
    ("sh", &["-c", "c "]),
    ("bash", &["-c", "c "]),
    ("zsh", &["-c", "c "]),
    ("dash", &["-c", "c "]),
    ("ksh", &["-c", "c "]),
    ("fish", &["-c", "c "]),
    ("su", &["-c"]),
    ("eval", &[]),
    ("xargs", &[]),
    ("find", &["-exec", "-ok", "-fprint", "-fls"]),
    (
        "git",
        &[
            "clone", "checkout", "restore", "stash", "reset", "clean", "switch",
        ],
    ),
    ("sort", &["-o", "--output"]),
    ("uniq", &[]),
    ("patch", &["-o", "--output"]),
    ("apply_patch", &[]),
    ("applypatch", &[]),
];

/// A wrapper that runs the program after its own options: its name, the options that take an argument,
/// and how many operands it takes before the program.
struct Wrapper {
    name: &'static str,
    options_with_argument: &'static [&'static str],
    operands: usize,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "sudo",
        options_with_argument: &["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"],
        operands: 0,
    },
    Wrapper {
        name: "doas",
        options_with_argument: &["-u", "-C"],
        operands: 0,
    },
    Wrapper {
        name: "command",
        options_with_argument: &[],
        operands: 0,
    },
    Wrapper {
        name: "builtin",
        options_with_argument: &[],
        operands: 0,
    },
    Wrapper {
        name: "env",
        options_with_argument: &["-u", "-C", "-S", "--unset", "--chdir", "--split-string"],
        operands: 0,
    },
    Wrapper {
        name: "time",
        options_with_argument: &["-f", "-o", "--format", "--output"],
        operands: 0,
    },
    Wrapper {
        name: "nice",
        options_with_argument: &["-n", "--adjustment"],
        operands: 0,
    },
    Wrapper {
        name: "ionice",
        options_with_argument: &["-c", "-n", "-p", "-P", "-u"],
        operands: 0,
    },
    Wrapper {
        name: "timeout",
        options_with_argument: &["-s", "-k", "--signal", "--kill-after"],
        operands: 1,
    },
    Wrapper {
        name: "nohup",
        options_with_argument: &[],
        operands: 0,
    },
    Wrapper {
        name: "exec",
        options_with_argument: &["-a"],
        operands: 0,
    },
    Wrapper {
        name: "stdbuf",
        options_with_argument: &["-i", "-o", "-e"],
        operands: 0,
    },
    Wrapper {
        name: "flock",
        options_with_argument: &["-w", "--timeout", "-E", "--conflict-exit-code"],
        operands: 1,
    },
    Wrapper {
        name: "chronic",
        options_with_argument: &[],
        operands: 0,
    },
];

/// The file name of a program word (`/usr/bin/cp` → `cp`).
pub(crate) fn base_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The real program of a simple command, past wrappers and `NAME=value` assignments.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Program {
    /// Its index in the words.
    pub(crate) at: usize,
    /// The folder `env -C DIR` (or `--chdir`) runs it in.
    pub(crate) chdir: Option<Chdir>,
}

/// Where `env -C` moves a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chdir {
    /// A literal folder.
    To(String),
    /// A folder that is not literal.
    Unknown,
}

/// The real program of `words`; `None` when it is not known (an expansion) or absent. `command -v`/`-V`
/// runs nothing.
pub(crate) fn real_program(words: &[Option<String>]) -> Option<Program> {
    let mut i = 0;
    let mut chdir = None;
    'outer: while let Some(word) = words.get(i) {
        let word = word.as_deref()?;
        if is_assignment(word) {
            i += 1;
            continue;
        }
        let name = base_name(word);
        let Some(wrapper) = WRAPPERS.iter().find(|w| w.name == name) else {
            return Some(Program { at: i, chdir });
        };
        i += 1;
        let mut operands = wrapper.operands;
        while let Some(next) = words.get(i) {
            let Some(next) = next.as_deref() else {
                // An option or operand we cannot read: the program after it is unknown.
                return None;
            };
            if next == "--" {
                i += 1;
                break;
            }
            if name == "command" && (next == "-v" || next == "-V") {
                return None;
            }
            if next.starts_with('-') && next.len() > 1 {
                if name == "env"
                    && let Some(dir) = env_chdir(next, words.get(i + 1))
                {
                    chdir = Some(dir);
                }
                // `-u bob` takes the next word; `--user=bob`, `-n5`, `-10`, `-i` do not.
                i += if wrapper.options_with_argument.contains(&next) {
                    2
                } else {
                    1
                };
                continue;
            }
            if name == "env" && is_assignment(next) {
                i += 1;
                continue;
            }
            if operands > 0 {
                operands -= 1;
                i += 1;
                continue;
            }
            // The program after the wrapper: look at it as a word of its own.
            continue 'outer;
        }
    }
    None
}

/// The folder an `env` option moves to: `-C DIR`, `-CDIR`, `--chdir DIR`, `--chdir=DIR`.
fn env_chdir(option: &str, next: Option<&Option<String>>) -> Option<Chdir> {
    let dir = match option {
        "-C" | "--chdir" => next.cloned().flatten(),
        o if o.starts_with("--chdir=") => Some(o["--chdir=".len()..].to_owned()),
        o if o.starts_with("-C") => Some(o[2..].to_owned()),
        _ => return None,
    };
    Some(dir.map_or(Chdir::Unknown, Chdir::To))
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// What one simple command does to files, from its literal words.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    /// The paths it writes (relative to where the program runs).
    pub(crate) writes: Vec<String>,
    /// The paths it removes, moves away, resets to another version or changes other than in content (`rm`,
    /// `mv`'s sources, `git checkout -- F`, `git restore F`, `mkdir`, `chmod`; `.` for a `git stash` or
    /// `git reset --hard` of the whole tree).
    pub(crate) removes: Vec<String>,
    /// Shell text it runs itself (`sh -c TEXT`, `eval TEXT`), read as commands by the caller.
    pub(crate) scripts: Vec<String>,
    /// Links it makes: (link, target as written, symbolic). A later write to the link writes the target.
    pub(crate) links: Vec<(String, String, bool)>,
    /// `env -C DIR`: where the program runs.
    pub(crate) chdir: Option<Chdir>,
}

/// What the simple command `words` does (`None`: a word that is not literal).
pub(crate) fn effects(words: &[Option<String>]) -> Effects {
    let mut out = Effects::default();
    program_effects(words, &mut out, 0);
    out
}

/// How deep `xargs`/`find -exec` may hand a command on to another.
const MAX_HAND_ON: usize = 8;

fn program_effects(words: &[Option<String>], out: &mut Effects, depth: usize) {
    if depth > MAX_HAND_ON {
        return;
    }
    let Some(Program { at, chdir }) = real_program(words) else {
        return;
    };
    if depth == 0 {
        out.chdir = chdir;
    }
    let Some(program) = words[at].as_deref() else {
        return;
    };
    let args = &words[at + 1..];
    let name = base_name(program);
    if !writers::effects(name, args, out) {
        hand_on(name, args, out, depth);
    }
}

/// The programs that run other commands: a shell given a script (`sh -c`, `eval`), `xargs`, and `find
/// -exec`; what they run is read as a command of its own.
fn hand_on(name: &str, args: &[Option<String>], out: &mut Effects, depth: usize) {
    match name {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "fish" | "su" => {
            if let Some(script) = writers::shell_script(args) {
                out.scripts.push(script);
            }
        }
        "eval" => {
            let text: Vec<&str> = args.iter().flatten().map(String::as_str).collect();
            if !text.is_empty() {
                out.scripts.push(text.join(" "));
            }
        }
        "xargs" => program_effects(&xargs_command(args), out, depth + 1),
        "find" => {
            // `-exec CMD … {} ;` (and -execdir, -ok, -okdir): CMD runs on the files found.
            let mut i = 0;
            while i < args.len() {
                match args[i].as_deref() {
                    Some("-exec" | "-execdir" | "-ok" | "-okdir") => {}
                    Some("-fprint" | "-fls") => {
                        out.writes.extend(args.get(i + 1).cloned().flatten());
                        i += 2;
                        continue;
                    }
                    _ => {
                        i += 1;
                        continue;
                    }
                }
                let end = args[i + 1..]
                    .iter()
                    .position(|a| matches!(a.as_deref(), Some(";" | "+")))
                    .map_or(args.len(), |p| i + 1 + p);
                let sub: Vec<Option<String>> = args[i + 1..end]
                    .iter()
                    .map(|a| a.clone().filter(|a| !a.contains("{}")))
                    .collect();
                program_effects(&sub, out, depth + 1);
                i = end + 1;
            }
        }
        _ => {}
    }
}

/// The command `xargs ARGS` runs: its words, with the input in place of `-I R`'s R, or appended (words
/// that cannot be known either way).
fn xargs_command(args: &[Option<String>]) -> Vec<Option<String>> {
    let with_argument = ["-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a"];
    let mut i = 0;
    let mut replace: Option<String> = None;
    while let Some(Some(a)) = args.get(i) {
        if !a.starts_with('-') {
            break;
        }
        if a == "-I" {
            replace = args.get(i + 1).cloned().flatten();
        } else if let Some(r) = a
            .strip_prefix("-I")
            .or_else(|| a.strip_prefix("--replace="))
        {
            replace = Some(r.to_owned());
        } else if a == "-i" || a == "--replace" {
            replace = Some("{}".to_owned());
        }
        i += if with_argument.contains(&a.as_str()) {
            2
        } else {
            1
        };
    }
    let mut rest: Vec<Option<String>> = args.get(i..).unwrap_or_default().to_vec();
    match &replace {
        Some(r) if !r.is_empty() => {
            for w in &mut rest {
                if w.as_deref().is_some_and(|w| w.contains(r.as_str())) {
                    *w = None;
                }
            }
        }
        _ => rest.push(None),
    }
    rest
}
