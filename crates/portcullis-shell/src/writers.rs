//! The programs that write, remove or reset files named in their words, each read by its own rules.

use crate::in_place::{self, PERL, SED};
use crate::programs::Effects;

/// Records what program `name` does with `args` when it is one of the file writers; false when it is
/// not (it may still run another program: [`crate::programs`] reads those).
pub(crate) fn effects(name: &str, args: &[Option<String>], out: &mut Effects) -> bool {
    let w = &mut out.writes;
    match name {
        "tee" => w.extend(literal(operands(args, &[]))),
        "cp" | "install" => w.extend(copies(args)),
        "mv" => {
            w.extend(copies(args));
            out.removes.extend(moved_away(args));
        }
        "ln" => {
            let symbolic = args.iter().flatten().any(|a| {
                a == "--symbolic" || (a.starts_with('-') && !a.starts_with("--") && a.contains('s'))
            });
            if let Some((link, target)) = link(args) {
                out.links.push((link, target, symbolic));
            }
            out.writes.extend(copies(args));
        }
        "sed" => w.extend(in_place::in_place(args, &SED)),
        "perl" => w.extend(in_place::in_place(args, &PERL)),
        "curl" => w.extend(curl(args)),
        "wget" => w.extend(wget(args)),
        "tar" => w.extend(tar(args)),
        "unzip" => w.push(option_value(args, &["-d"]).unwrap_or_else(|| ".".to_owned())),
        "zip" | "7z" | "split" | "csplit" => {
            // The archive (or the pieces' prefix) is the first operand of zip; split writes beside its
            // prefix: the folder it runs in is what a jail needs.
            if let Some(first) = literal(operands(args, &["-b", "-l", "-n", "-a", "-d", "-f"]))
                .into_iter()
                .next()
            {
                w.push(first);
            }
        }
        "rsync" | "scp" => {
            let ops = operands(args, &["-e", "-i", "-P", "-o", "-F", "-l", "-c"]);
            if ops.len() >= 2
                && let Some(Some(dest)) = ops.last()
                && !is_remote(dest)
            {
                w.push((*dest).to_owned());
            }
        }
        "dd" => w.extend(
            args.iter()
                .flatten()
                .filter_map(|a| a.strip_prefix("of="))
                .map(str::to_owned),
        ),
        "git" => {
            let (written, removed) = git(args);
            out.writes.extend(written);
            out.removes.extend(removed);
        }
        "rm" | "rmdir" | "unlink" | "shred" => out.removes.extend(literal(operands(
            args,
            &["-n", "--iterations", "-s", "--size", "--remove"],
        ))),
        // A folder, a FIFO, a mode or an owner is no content: such changes go with the removals, which
        // the guards of other agents' files and of the workspace judge, and the content hooks do not.
        "mkdir" | "mkfifo" => out
            .removes
            .extend(literal(operands(args, &["-m", "--mode"]))),
        "touch" | "gzip" | "gunzip" | "bzip2" | "xz" => {
            w.extend(literal(operands(
                args,
                &[
                    "-m",
                    "--mode",
                    "-r",
                    "-d",
                    "-t",
                    "-n",
                    "-s",
                    "-S",
                    "--suffix",
                    "--reference",
                ],
            )));
        }
        "truncate" => w.extend(literal(operands(
            args,
            &["-s", "--size", "-r", "--reference"],
        ))),
        "chmod" | "chown" | "chgrp" => {
            // The first operand is the mode or owner (unless `--reference=F` gave it).
            let ops = literal(operands(args, &["--reference"]));
            let skip = usize::from(!args.iter().flatten().any(|a| a.starts_with("--reference")));
            out.removes.extend(ops.into_iter().skip(skip));
        }
        "sort" | "uniq" | "tac" | "patch" => {
            if let Some(o) = option_value(args, &["-o", "--output"]) {
                w.push(o);
            }
            if name == "uniq"
                && let [_, Some(output)] = operands(args, &["-f", "-s", "-w"]).as_slice()
            {
                w.push((*output).to_owned());
            }
        }
        _ => return false,
    }
    true
}

/// Whether an rsync or scp operand names another host (`host:path`, `user@host:path`).
fn is_remote(operand: &str) -> bool {
    operand
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/'))
}

/// The literal operands, in order.
fn literal(ops: Vec<Option<&str>>) -> Vec<String> {
    ops.into_iter().flatten().map(str::to_owned).collect()
}

/// The value of the first of `names` among `args` (`-o F`, `-oF`, `--output F`, `--output=F`).
fn option_value(args: &[Option<String>], names: &[&str]) -> Option<String> {
    let mut iter = args.iter().map(Option::as_deref);
    while let Some(a) = iter.next() {
        let a = a?;
        for name in names {
            if a == *name {
                return iter.next().flatten().map(str::to_owned);
            }
            // `-sSLo FILE`: a one-letter option last in a cluster of flags takes the next word.
            if name.len() == 2
                && !name.starts_with("--")
                && a.len() > 2
                && a.starts_with('-')
                && !a.starts_with("--")
                && a.ends_with(&name[1..])
                && a[1..a.len() - 1].bytes().all(|b| b.is_ascii_alphabetic())
            {
                return iter.next().flatten().map(str::to_owned);
            }
            if let Some(v) = a.strip_prefix(name) {
                if name.starts_with("--") {
                    if let Some(v) = v.strip_prefix('=') {
                        return Some(v.to_owned());
                    }
                } else if !v.is_empty() {
                    return Some(v.to_owned());
                }
            }
        }
    }
    None
}

/// The script of `sh -c SCRIPT` (also `-lc`, `-ec`, `bash -x -c`): the first operand after a cluster of
/// short options that holds `c`.
pub(crate) fn shell_script(args: &[Option<String>]) -> Option<String> {
    let mut scripted = false;
    for a in args {
        let a = a.as_deref()?;
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            scripted |= cluster.contains('c');
            continue;
        }
        if a.starts_with("--") {
            continue;
        }
        return scripted.then(|| a.to_owned());
    }
    None
}

/// `curl`: `-o FILE`, `--output FILE`; `-O`/`--remote-name` writes into the folder it runs in (or
/// `--output-dir`), under a name only the server knows, so that folder is reported.
fn curl(args: &[Option<String>]) -> Vec<String> {
    let mut out: Vec<String> = [
        "-o",
        "--output",
        "-D",
        "--dump-header",
        "-c",
        "--cookie-jar",
    ]
    .chunks(2)
    .filter_map(|pair| option_value(args, pair))
    .collect();
    let remote_name = args.iter().flatten().any(|a| {
        a == "--remote-name"
            || a == "--remote-name-all"
            || (a.starts_with('-') && !a.starts_with("--") && a.contains('O'))
    });
    if remote_name {
        out.push(option_value(args, &["--output-dir"]).unwrap_or_else(|| ".".to_owned()));
    }
    out
}

/// `wget`: `-O FILE` (`--output-document`), else into `-P DIR` (`--directory-prefix`) or the folder it
/// runs in; `-o`/`-a` log files.
fn wget(args: &[Option<String>]) -> Vec<String> {
    let mut out = Vec::new();
    match option_value(args, &["-O", "--output-document"]) {
        Some(file) => out.push(file),
        None => out.push(
            option_value(args, &["-P", "--directory-prefix"]).unwrap_or_else(|| ".".to_owned()),
        ),
    }
    out.extend(option_value(
        args,
        &["-o", "--output-file", "-a", "--append-output"],
    ));
    out
}

/// `tar`: creating writes the archive (`-f`); extracting writes into `-C DIR` or the folder it runs in.
/// The old bundled form (`tar xzf a.tgz`) is read too.
fn tar(args: &[Option<String>]) -> Vec<String> {
    let words: Vec<&str> = args.iter().flatten().map(String::as_str).collect();
    let bundle = words
        .first()
        .filter(|w| !w.starts_with('-'))
        .copied()
        .unwrap_or("");
    let flags = |c: char| {
        bundle.contains(c)
            || words
                .iter()
                .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains(c))
    };
    let long = |name: &str| words.contains(&name);
    let extracting = flags('x') || long("--extract") || long("--get");
    let creating = flags('c') || flags('r') || flags('u') || long("--create") || long("--append");
    let mut out = Vec::new();
    if creating {
        let archive = option_value(args, &["-f", "--file"]).or_else(|| {
            // `tar czf out.tgz dir`: the bundle's `f` takes the next word.
            (bundle.contains('f')).then(|| words.get(1).map(|w| (*w).to_owned()))?
        });
        out.extend(archive);
    }
    if extracting {
        out.push(option_value(args, &["-C", "--directory"]).unwrap_or_else(|| ".".to_owned()));
    }
    out
}

/// `git`: what a clone writes (`git clone URL [DIR]`), and what resets files in the working tree (`checkout
/// -- F`, `restore F`; the whole tree, `.`, for `stash`, `reset --hard`, `clean -f`, `checkout .`). A
/// `-C DIR` before the command moves both.
fn git(args: &[Option<String>]) -> (Vec<String>, Vec<String>) {
    let mut i = 0;
    let mut dir: Option<String> = None;
    while let Some(Some(a)) = args.get(i) {
        match a.as_str() {
            "-C" => {
                dir = args.get(i + 1).cloned().flatten();
                i += 2;
            }
            "-c" | "--git-dir" | "--work-tree" | "--namespace" => i += 2,
            a if a.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let in_dir = |t: String| match &dir {
        Some(d) if !t.starts_with('/') && t != "." => format!("{}/{t}", d.trim_end_matches('/')),
        Some(d) if t == "." => d.clone(),
        _ => t,
    };
    let rest = args.get(i + 1..).unwrap_or_default();
    let words: Vec<&str> = rest.iter().flatten().map(String::as_str).collect();
    let has = |w: &str| words.contains(&w);
    let paths_after_dashes = || -> Vec<String> {
        rest.iter()
            .skip_while(|a| a.as_deref() != Some("--"))
            .skip(1)
            .flatten()
            .cloned()
            .collect()
    };
    let mut written = Vec::new();
    let mut removed = Vec::new();
    match args.get(i).and_then(Option::as_deref) {
        Some("clone") => {
            let ops = operands(
                rest,
                &[
                    "-b",
                    "--branch",
                    "-o",
                    "--origin",
                    "--depth",
                    "-c",
                    "--config",
                    "--reference",
                    "-j",
                ],
            );
            let target = match ops.as_slice() {
                [_, Some(dest), ..] => Some((*dest).to_owned()),
                [Some(url)] => url
                    .trim_end_matches('/')
                    .rsplit(['/', ':'])
                    .next()
                    .map(|n| n.trim_end_matches(".git").to_owned()),
                _ => None,
            };
            written.extend(target);
        }
        Some("checkout") => {
            let after = paths_after_dashes();
            if !after.is_empty() {
                removed.extend(after);
            } else if has(".") || has("-f") || has("--force") {
                removed.push(".".to_owned());
            }
        }
        Some("restore") => {
            let staged_only = has("--staged") && !has("--worktree") && !has("-W");
            if !staged_only {
                removed.extend(literal(operands(rest, &["-s", "--source"])));
            }
        }
        Some("stash")
            if !matches!(
                words.first().copied(),
                Some("list" | "show" | "drop" | "clear" | "branch" | "create" | "store")
            ) =>
        {
            removed.push(".".to_owned());
        }
        Some("reset") if has("--hard") || has("--merge") || has("--keep") => {
            removed.push(".".to_owned());
        }
        Some("clean") if words.iter().any(|w| w.starts_with('-') && w.contains('f')) => {
            removed.push(".".to_owned());
        }
        Some("switch") if has("--discard-changes") || has("-f") || has("--force") => {
            removed.push(".".to_owned());
        }
        _ => {}
    }
    (
        written.into_iter().map(in_dir).collect(),
        removed.into_iter().map(in_dir).collect(),
    )
}

/// `mv`'s sources: moved away from where they were.
fn moved_away(args: &[Option<String>]) -> Vec<String> {
    let explicit_target = args.iter().flatten().any(|a| {
        a.starts_with("--target-directory")
            || (a.starts_with('-') && !a.starts_with("--") && a.contains('t'))
    });
    let ops = literal(operands(
        args,
        &["-t", "--target-directory", "-S", "--suffix"],
    ));
    if explicit_target {
        return ops;
    }
    match ops.split_last() {
        Some((_, sources)) => sources.to_vec(),
        None => Vec::new(),
    }
}

/// `ln [-s] TARGET LINK`: the link and what it points at (one source, an explicit destination).
fn link(args: &[Option<String>]) -> Option<(String, String)> {
    match operands(args, &["-t", "--target-directory", "-S", "--suffix"]).as_slice() {
        [Some(target), Some(link)] if !link.ends_with('/') => {
            Some(((*link).to_owned(), (*target).to_owned()))
        }
        _ => None,
    }
}

/// The operands of `args`: words not starting with `-` (after `--`, every word), skipping the argument of
/// the listed options, whether alone (`-t DIR`) or last in a cluster of short options (`-rt DIR`).
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
            skip = with_argument.contains(&word) || cluster_ends_in(word, with_argument);
        } else {
            out.push(Some(word));
        }
    }
    out
}

/// Whether a cluster of short options (`-rt`) ends in one that takes an argument (`-t`), which is then
/// the next word. A letter that takes an argument earlier in the cluster takes the rest of it instead.
fn cluster_ends_in(word: &str, with_argument: &[&str]) -> bool {
    let Some(cluster) = word.strip_prefix('-').filter(|c| !c.starts_with('-')) else {
        return false;
    };
    for (k, c) in cluster.char_indices() {
        if with_argument
            .iter()
            .any(|o| o.len() == 2 && o.ends_with(c) && o.starts_with('-'))
        {
            return k + c.len_utf8() == cluster.len();
        }
    }
    false
}

/// The folder a cluster of short options names with `-t`: `-t DIR`'s DIR when `t` ends the cluster (the
/// next word, which may not be literal), or the rest of the cluster after it (`-tDIR`, `-rtDIR`). `None`
/// when the cluster has no `-t`.
fn target_option<'a>(word: &'a str, next: Option<&'a Option<String>>) -> Option<TargetDir<'a>> {
    let cluster = word.strip_prefix('-').filter(|c| !c.starts_with('-'))?;
    let at = cluster.find('t')?;
    // Letters before `t` must be flags (no argument of their own).
    if cluster[..at].contains('S') {
        return None;
    }
    let rest = &cluster[at + 1..];
    Some(if rest.is_empty() {
        next.and_then(Option::as_deref)
            .map_or(TargetDir::Unknown, TargetDir::Named)
    } else {
        TargetDir::Named(rest)
    })
}

/// The folder `-t` names.
enum TargetDir<'a> {
    Named(&'a str),
    Unknown,
}

/// `cp`/`mv`/`install`/`ln`: the destination, and the files that land in a destination folder. When the
/// sources cannot be known (a glob, an expansion) the destination folder itself is reported.
fn copies(args: &[Option<String>]) -> Vec<String> {
    let mut target_dir: Option<TargetDir<'_>> = None;
    let mut iter = args.iter().peekable();
    while let Some(a) = iter.next() {
        match a.as_deref() {
            Some("--target-directory") => {
                target_dir = Some(
                    iter.next()
                        .and_then(Option::as_deref)
                        .map_or(TargetDir::Unknown, TargetDir::Named),
                );
            }
            Some(w) if w.starts_with("--target-directory=") => {
                target_dir = Some(TargetDir::Named(&w["--target-directory=".len()..]));
            }
            Some(w) if w.starts_with('-') && !w.starts_with("--") => {
                if let Some(dir) = target_option(w, iter.peek().copied()) {
                    target_dir = Some(dir);
                }
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
        let mut out: Vec<String> = sources
            .iter()
            .flatten()
            .map(|s| {
                let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
                format!("{}/{name}", dir.trim_end_matches('/'))
            })
            .collect();
        if sources.iter().any(Option::is_none) {
            out.insert(0, dir.trim_end_matches('/').to_owned());
        }
        out
    };
    match target_dir {
        Some(TargetDir::Named(dir)) => into(dir, &ops),
        Some(TargetDir::Unknown) => Vec::new(),
        None => match ops.split_last() {
            Some((Some(dest), sources)) if !sources.is_empty() => {
                let mut out = into(dest, sources);
                if !dest.ends_with('/') && out.first().is_none_or(|f| f != dest) {
                    // A destination without a slash is the file itself, unless it is a folder.
                    out.insert(0, (*dest).to_owned());
                }
                out
            }
            _ => Vec::new(),
        },
    }
}
