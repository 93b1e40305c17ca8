//! `sed -i` and `perl -i` in every spelling: which operands an in-place editor edits.

/// How an in-place editor spells its options.
pub(crate) struct InPlace {
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

pub(crate) const SED: InPlace = InPlace {
    short: 'i',
    long: "--in-place",
    script: &['e', 'f'],
    script_long: &["--expression", "--file"],
    with_argument: &['l'],
};

pub(crate) const PERL: InPlace = InPlace {
    short: 'i',
    long: "--in-place",
    script: &['e', 'E'],
    script_long: &[],
    with_argument: &['I', 'M', 'm', 'x'],
};

/// The files an in-place editor edits: with in-place on, every operand after the script (every operand
/// when the script came with an option).
pub(crate) fn in_place(args: &[Option<String>], spec: &InPlace) -> Vec<String> {
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
