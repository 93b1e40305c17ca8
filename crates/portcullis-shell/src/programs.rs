//! What a program writes, from its words: the wrappers that run another program are skipped, then the
//! writers' own rules apply.

/// Programs that write files named in their operands (the pre-filter looks for these names).
pub(crate) const WRITERS: &[&str] = &["tee", "cp", "mv", "install", "ln", "sed", "perl"];

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
];

/// The file name of a program word (`/usr/bin/cp` → `cp`).
fn base_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The index of the real program in `words`, past wrappers and `NAME=value` assignments; `None` when
/// the program is not known (an expansion) or absent. `command -v`/`-V` runs nothing.
fn real_program(words: &[Option<String>]) -> Option<usize> {
    let mut i = 0;
    'outer: while let Some(word) = words.get(i) {
        let word = word.as_deref()?;
        if is_assignment(word) {
            i += 1;
            continue;
        }
        let name = base_name(word);
        let Some(wrapper) = WRAPPERS.iter().find(|w| w.name == name) else {
            return Some(i);
        };
        i += 1;
        let mut operands = wrapper.operands;
        while let Some(next) = words.get(i) {
            let next = next.as_deref()?;
            if next == "--" {
                i += 1;
                break;
            }
            if name == "command" && (next == "-v" || next == "-V") {
                return None;
            }
            if next.starts_with('-') && next.len() > 1 {
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

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The paths a simple command's program writes, from its literal words (`None`: not literal).
pub(crate) fn writes(words: &[Option<String>]) -> Vec<String> {
    let Some(at) = real_program(words) else {
        return Vec::new();
    };
    let Some(program) = words[at].as_deref() else {
        return Vec::new();
    };
    let args = &words[at + 1..];
    match base_name(program) {
        "tee" => operands(args, &[])
            .into_iter()
            .flatten()
            .map(str::to_owned)
            .collect(),
        "cp" | "mv" | "install" | "ln" => copies(args),
        "sed" => in_place(args, &SED),
        "perl" => in_place(args, &PERL),
        _ => Vec::new(),
    }
}

/// The operands of `args`: words not starting with `-` (after `--`, every word), skipping the argument of
/// the listed options.
fn operands<'a>(args: &'a [Option<String>], with_argument: &[&str]) -> Vec<Option<&'a str>> {
    let mut out = Vec::new();
    let mut options_done = false;
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        let Some(word) = a.as_deref() else {
            out.push(None);
            continue;
        };
        if !options_done && word == "--" {
            options_done = true;
        } else if !options_done && word.starts_with('-') && word.len() > 1 {
            skip = with_argument.contains(&word);
        } else {
            out.push(Some(word));
        }
    }
    out
}

/// `cp`/`mv`/`install`/`ln`: the destination, and the files that land in a destination folder.
fn copies(args: &[Option<String>]) -> Vec<String> {
    let mut target_dir: Option<Option<&str>> = None;
    let mut iter = args.iter().map(Option::as_deref);
    while let Some(a) = iter.next() {
        match a {
            Some("-t" | "--target-directory") => target_dir = Some(iter.next().flatten()),
            Some(w) if w.starts_with("--target-directory=") => {
                target_dir = Some(w.strip_prefix("--target-directory="));
            }
            Some(w) if w.starts_with("-t") && w.len() > 2 && !w.starts_with("--") => {
                target_dir = Some(Some(&w[2..]));
            }
            _ => {}
        }
    }
    let with_argument = [
        "-t",
        "--target-directory",
        "-S",
        "--suffix",
        "-m",
        "--mode",
        "-o",
        "--owner",
        "-g",
        "--group",
    ];
    let ops = operands(args, &with_argument);
    let into = |dir: &str, sources: &[Option<&str>]| -> Vec<String> {
        sources
            .iter()
            .flatten()
            .map(|s| {
                let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
                format!("{}/{name}", dir.trim_end_matches('/'))
            })
            .collect()
    };
    match target_dir {
        Some(Some(dir)) => into(dir, &ops),
        Some(None) => Vec::new(),
        None => match ops.split_last() {
            Some((Some(dest), sources)) if !sources.is_empty() => {
                let mut out = into(dest, sources);
                if !dest.ends_with('/') {
                    // A destination without a slash is the file itself, unless it is a folder.
                    out.insert(0, (*dest).to_owned());
                }
                out
            }
            _ => Vec::new(),
        },
    }
}

/// How an in-place editor spells its options.
struct InPlace {
    /// The short option that turns in-place editing on (the rest of the cluster is a backup suffix).
    short: char,
    /// The long option that turns it on (`--in-place`, `--in-place=SUF`).
    long: &'static str,
    /// Short options whose argument is the script (the rest of the cluster, or the next word).
    script: &'static [char],
    /// Long options whose argument is the script (`--expression=S`, `--file F`).
    script_long: &'static [&'static str],
    /// Short options that take the rest of the cluster (or the next word) as a plain argument.
    with_argument: &'static [char],
}

const SED: InPlace = InPlace {
    short: 'i',
    long: "--in-place",
    script: &['e', 'f'],
    script_long: &["--expression", "--file"],
    with_argument: &['l'],
};

const PERL: InPlace = InPlace {
    short: 'i',
    long: "--in-place",
    script: &['e', 'E'],
    script_long: &[],
    with_argument: &['I', 'M', 'm', 'x'],
};

/// The files an in-place editor edits: with in-place on, every operand after the script (every operand
/// when the script came with an option).
fn in_place(args: &[Option<String>], spec: &InPlace) -> Vec<String> {
    let mut editing = false;
    let mut scripted = false;
    let mut files: Vec<Option<&str>> = Vec::new();
    let mut options_done = false;
    let mut iter = args.iter().map(Option::as_deref);
    while let Some(a) = iter.next() {
        let Some(word) = a else {
            files.push(None);
            continue;
        };
        if options_done || word == "-" || !word.starts_with('-') {
            files.push(Some(word));
            continue;
        }
        if word == "--" {
            options_done = true;
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = long
                .split_once('=')
                .map_or((long, None), |(n, v)| (n, Some(v)));
            let name = format!("--{name}");
            if name == spec.long {
                editing = true;
            } else if spec.script_long.contains(&name.as_str()) {
                scripted = true;
                if value.is_none() {
                    iter.next();
                }
            }
            continue;
        }
        // A cluster of short options: `-Ei`, `-0pi`, `-i.bak`, `-eS`, `-pie`.
        let cluster: Vec<char> = word[1..].chars().collect();
        for (k, &c) in cluster.iter().enumerate() {
            let rest_empty = k + 1 == cluster.len();
            if c == spec.short {
                editing = true;
                break; // the rest is a backup suffix
            }
            if spec.script.contains(&c) {
                scripted = true;
                if rest_empty {
                    iter.next();
                }
                break;
            }
            if spec.with_argument.contains(&c) {
                if rest_empty {
                    iter.next();
                }
                break;
            }
            // Any other letter is a flag; the digits of `-0777` or `-l0` are read as flags too, harmlessly.
        }
    }
    if !editing {
        return Vec::new();
    }
    if !scripted && !files.is_empty() {
        files.remove(0);
    }
    files.into_iter().flatten().map(str::to_owned).collect()
}
