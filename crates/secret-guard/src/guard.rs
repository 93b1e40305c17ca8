//! The guard (PreToolUse): Read and Grep of a secret file, and Bash commands that plainly print one or
//! dump the environment, are refused before they run.
//!
//! Glob is not guarded: it lists names, and the name of `.env` is no secret. A command is read by the
//! bash parser (`portcullis_shell::runs`); a file a script or a program reads by its own logic is not
//! seen, which is what the redaction of the output is for.

use std::path::Path;
use std::sync::OnceLock;

use portcullis_core::event::absolutize;
use portcullis_core::{Ctx, Event, Result};
use portcullis_domains::{GlobList, Resolved, resolve};
use portcullis_secrets::files::is_secret_file;
use regex::Regex;

use crate::config::SecretGuardConfig;

/// Programs that print what they read.
const READERS: &[&str] = &[
    "cat",
    "tac",
    "less",
    "more",
    "head",
    "tail",
    "nl",
    "bat",
    "batcat",
    "grep",
    "egrep",
    "fgrep",
    "rg",
    "ag",
    "ack",
    "awk",
    "gawk",
    "mawk",
    "sed",
    "cut",
    "sort",
    "uniq",
    "strings",
    "xxd",
    "od",
    "hexdump",
    "base64",
    "jq",
    "yq",
    "diff",
    "colordiff",
    "column",
    "fold",
    "paste",
    "view",
    "vim",
    "vi",
    "nvim",
    "nano",
    "emacs",
    "openssl",
    "pr",
    "fmt",
    "expand",
    "rev",
    "shuf",
];

/// Programs that run another: the program after them is the one that counts.
const WRAPPERS: &[&str] = &[
    "sudo", "command", "nohup", "time", "nice", "exec", "doas", "stdbuf",
];

/// What a call would expose, for the denial's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exposure {
    /// A secret file's contents.
    File(String),
    /// The whole environment.
    Environment(String),
    /// A secret-named variable.
    Variable(String),
}

/// What the call would expose, or `None`.
pub(crate) fn exposure(
    event: &Event,
    ctx: &Ctx,
    rules: &SecretGuardConfig,
) -> Result<Option<Exposure>> {
    let raw = event.tool_input.as_ref().map_or("{}", |r| r.get());
    match event.tool() {
        Some("Read" | "Grep") => {
            #[derive(serde::Deserialize, Default)]
            #[serde(default)]
            struct Input {
                file_path: Option<String>,
                path: Option<String>,
                glob: Option<String>,
            }
            let input: Input = serde_json::from_str(raw).unwrap_or_default();
            if let Some(glob) = input.glob.as_deref() {
                // `Grep(glob: ".env*")` searches the secret files by name.
                let glob_tail = glob.trim_start_matches("**/");
                // Files the glob could name: `*` as nothing (`.env*` → `.env`) and as a stage (`.env.x`).
                let secret = ["", "x", ".x"].iter().find_map(|fill| {
                    let name = glob_tail.replace('*', fill);
                    is_secret_file(Path::new(&name)).then_some(name)
                });
                if secret.is_some_and(|name| !allowed(ctx, rules, &name).unwrap_or(false)) {
                    return Ok(Some(Exposure::File(glob.to_owned())));
                }
            }
            let Some(path) = input.file_path.or(input.path).filter(|p| !p.is_empty()) else {
                return Ok(None);
            };
            if event.tool() == Some("Grep") && input.glob.is_none() && searches_home(ctx, &path) {
                return Ok(Some(Exposure::File(format!(
                    "{path} (the home folder, with ~/.netrc, ~/.ssh and ~/.aws in it)"
                ))));
            }
            Ok(secret_file(ctx, rules, &path)?.map(Exposure::File))
        }
        Some("Bash") => {
            let command = match event.tool_input()? {
                portcullis_core::ToolInput::Bash(b) => b.command.unwrap_or_default(),
                _ => return Ok(None),
            };
            shell(ctx, rules, &command)
        }
        _ => Ok(None),
    }
}

/// `path` (as the tool or command gives it) when it is a secret file and not allowed.
fn secret_file(ctx: &Ctx, rules: &SecretGuardConfig, path: &str) -> Result<Option<String>> {
    let home = ctx.env.var("HOME");
    let expanded = portcullis_domains::expand_home(path, home.as_deref());
    let absolute = absolutize(Path::new(&expanded), &ctx.cwd);
    // The file a path leads to is the one read: a link named `notes.txt` to `~/.netrc` is `.netrc`.
    let real = std::fs::canonicalize(&absolute).ok();
    let secret = is_secret_file(&absolute)
        || is_environ(&absolute)
        || real
            .as_deref()
            .is_some_and(|r| is_secret_file(r) || is_environ(r))
        || extra(ctx, rules, &absolute)?
        || real
            .as_deref()
            .map_or(Ok(false), |r| extra(ctx, rules, r))?;
    if secret && !allowed(ctx, rules, path)? {
        return Ok(Some(path.to_owned()));
    }
    Ok(None)
}

/// A process's environment as a file (`/proc/self/environ`, `/proc/1234/environ`): every variable, secret
/// ones included.
fn is_environ(path: &Path) -> bool {
    path.starts_with("/proc") && path.file_name().is_some_and(|n| n == "environ")
}

/// Whether a Grep searches the home folder (or a folder above it) as a whole, where `~/.netrc`, `~/.ssh`
/// and `~/.aws` lie.
fn searches_home(ctx: &Ctx, path: &str) -> bool {
    let Some(home) = ctx.env.var("HOME").map(std::path::PathBuf::from) else {
        return false;
    };
    let expanded = portcullis_domains::expand_home(path, home.to_str());
    let absolute = portcullis_core::event::lexical(&absolutize(Path::new(&expanded), &ctx.cwd));
    let home = std::fs::canonicalize(&home).unwrap_or(home);
    let absolute = std::fs::canonicalize(&absolute).unwrap_or(absolute);
    home.starts_with(&absolute)
}

/// The project-relative form of `path` (or its file name, outside the project), for the config's globs.
fn relative(ctx: &Ctx, path: &str) -> String {
    match resolve(path, &ctx.cwd, &ctx.project) {
        Resolved::Inside(rel) => rel,
        Resolved::Outside(p) => p.display().to_string(),
    }
}

fn extra(ctx: &Ctx, rules: &SecretGuardConfig, path: &Path) -> Result<bool> {
    if rules.secret_files.is_empty() {
        return Ok(false);
    }
    let list = globs(&rules.secret_files, "secret_guard.secret_files")?;
    Ok(list.is_match(&relative(ctx, &path.to_string_lossy())))
}

fn allowed(ctx: &Ctx, rules: &SecretGuardConfig, path: &str) -> Result<bool> {
    if rules.allow_files.is_empty() {
        return Ok(false);
    }
    let list = globs(&rules.allow_files, "secret_guard.allow_files")?;
    Ok(list.is_match(&relative(ctx, path)))
}

fn globs(list: &[String], key: &str) -> Result<GlobList> {
    GlobList::new(list).map_err(|e| portcullis_core::Error::Other(format!("{key}: {e}")))
}

/// Text a command that could expose a secret holds one of: a secret file's name part, or a word that
/// dumps or prints variables. A command with none is never parsed (most are like that).
const SHELL_HINTS: &[&str] = &[
    ".env", "env", "pem", "key", "id_", ".p12", ".pfx", "rc", "pass", "cred", "kube", "docker",
    "keystore", ".jks", ".ppk", "secret", "service", "set", "export", "declare", "typeset", "echo",
    "printf",
];

/// What a shell command would expose.
fn shell(ctx: &Ctx, rules: &SecretGuardConfig, command: &str) -> Result<Option<Exposure>> {
    let lower = command.to_ascii_lowercase();
    let extra = !rules.secret_files.is_empty();
    if !extra
        && !SHELL_HINTS.iter().any(|h| lower.contains(h))
        && !command.contains("/proc/")
        && !names_a_link_to_a_secret(ctx, command)
    {
        return Ok(None);
    }
    let runs = portcullis_shell::runs(command);
    let scrubbed = runs
        .as_deref()
        .map(|r| wrapped_secrets(ctx, r))
        .unwrap_or_default();
    if let Some(var) = printed_variable(command, &scrubbed) {
        return Ok(Some(Exposure::Variable(var)));
    }
    for file in portcullis_shell::input_files(command) {
        if let Some(f) = secret_file(ctx, rules, &file)? {
            return Ok(Some(Exposure::File(format!("{f} (as input)"))));
        }
    }
    let Some(runs) = runs else {
        return Ok(None);
    };
    // Copies of a secret file made earlier in the command: reading one reads the secret.
    let mut copies: Vec<String> = Vec::new();
    for run in runs {
        if let Some(exposure) = run_exposure(ctx, rules, &run, &mut copies)? {
            return Ok(Some(exposure));
        }
    }
    Ok(None)
}

/// What one simple command of a shell command exposes; the copies of secret files it makes are added to
/// `copies`.
fn run_exposure(
    ctx: &Ctx,
    rules: &SecretGuardConfig,
    run: &portcullis_shell::Run,
    copies: &mut Vec<String>,
) -> Result<Option<Exposure>> {
    let words: Vec<&str> = run
        .words
        .iter()
        .map(|w| w.as_deref().unwrap_or("$…"))
        .collect();
    let mut i = 0;
    while i < words.len() && (words[i].contains('=') || WRAPPERS.contains(&base(words[i]))) {
        i += 1;
    }
    let Some(program) = words.get(i).map(|p| base(p)) else {
        return Ok(None);
    };
    let args: Vec<&str> = words[i + 1..].to_vec();
    let operands: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let secret = |a: &str| secret_or_copy(ctx, rules, copies, a);
    let mut new_copies: Vec<String> = Vec::new();
    match program {
        "env" | "printenv" if operands.iter().all(|a| a.contains('=')) => {
            return Ok(Some(Exposure::Environment(program.to_owned())));
        }
        "printenv" => {
            if let Some(v) = operands.iter().find(|a| secret_variable(a)) {
                return Ok(Some(Exposure::Variable((*v).to_owned())));
            }
        }
        "set" | "export" | "declare" | "typeset" if operands.is_empty() => {
            let dumps = program == "set"
                || args.is_empty()
                || args.iter().any(|a| *a == "-p" || *a == "-x" || *a == "-px");
            if dumps {
                return Ok(Some(Exposure::Environment(words[i..].join(" "))));
            }
        }
        // `declare -p GITHUB_TOKEN` prints its value.
        "declare" | "typeset" | "export"
            if args.iter().any(|a| a.starts_with('-') && a.contains('p')) =>
        {
            if let Some(v) = operands.iter().find(|a| secret_variable(a)) {
                return Ok(Some(Exposure::Variable((*v).to_owned())));
            }
        }
        "cp" | "install" | "ln" | "rsync" if operands.len() >= 2 => {
            let (dest, sources) = operands.split_last().unwrap_or((&"", &[]));
            for src in sources {
                if let Some(f) = secret(src)? {
                    if is_terminal_device(dest) {
                        return Ok(Some(Exposure::File(f)));
                    }
                    new_copies.push((*dest).to_owned());
                    new_copies.push(format!("{}/{}", dest.trim_end_matches('/'), base(src)));
                }
            }
        }
        "dd" => {
            let input = args.iter().find_map(|a| a.strip_prefix("if="));
            let output = args.iter().find_map(|a| a.strip_prefix("of="));
            if let Some(f) = input.map(secret).transpose()?.flatten() {
                match output {
                    Some(o) if !is_terminal_device(o) => new_copies.push(o.to_owned()),
                    _ => return Ok(Some(Exposure::File(f))),
                }
            }
        }
        // `git diff --no-index /dev/null .env`, `git show HEAD:.env`, `git log -p -- .env`.
        "git"
            if operands.first().is_some_and(|c| {
                matches!(*c, "diff" | "show" | "log" | "cat-file" | "blame" | "grep")
            }) =>
        {
            for a in &operands[1..] {
                let path = a.rsplit_once(':').map_or(*a, |(_, p)| p);
                if !path.is_empty()
                    && let Some(f) = secret(path)?
                {
                    return Ok(Some(Exposure::File(f)));
                }
            }
        }
        p if READERS.contains(&p) => {
            for a in &operands {
                if let Some(f) = secret(a)? {
                    return Ok(Some(Exposure::File(f)));
                }
            }
        }
        _ => {}
    }
    copies.extend(new_copies);
    Ok(None)
}

/// [`secret_file`], or a copy of one made earlier in the command.
fn secret_or_copy(
    ctx: &Ctx,
    rules: &SecretGuardConfig,
    copies: &[String],
    path: &str,
) -> Result<Option<String>> {
    if copies.iter().any(|c| c == path) {
        return Ok(Some(format!("{path} (a copy of a secret file)")));
    }
    secret_file(ctx, rules, path)
}

/// Whether a word of `command` is a symbolic link to a secret file (`notes.txt` → `~/.netrc`): a name the
/// hints cannot see. One `lstat` per word, most of which name nothing.
fn names_a_link_to_a_secret(ctx: &Ctx, command: &str) -> bool {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')'))
        .map(|w| w.trim_matches(['\'', '"']))
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .any(|w| {
            let path = absolutize(Path::new(w), &ctx.cwd);
            std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink())
                && std::fs::canonicalize(&path).is_ok_and(|real| is_secret_file(&real))
        })
}

/// Where a copy prints instead of storing: standard output or error, or the terminal.
fn is_terminal_device(path: &str) -> bool {
    matches!(
        path,
        "-" | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/tty"
            | "/dev/fd/1"
            | "/dev/fd/2"
            | "/proc/self/fd/1"
            | "/proc/self/fd/2"
    )
}

/// The variables `portcullis run-with-secrets` gives the command it wraps, when the whole command is
/// that one wrapper: their values come back scrubbed from its output, so printing them exposes nothing
/// (issue 35, item 18: the guard refused its own remedy).
fn wrapped_secrets(ctx: &Ctx, runs: &[portcullis_shell::Run]) -> Vec<String> {
    let [run] = runs else {
        return Vec::new();
    };
    let words: Vec<&str> = run
        .words
        .iter()
        .map(|w| w.as_deref().unwrap_or(""))
        .collect();
    let Some(at) = words.iter().position(|w| base(w) == "portcullis") else {
        return Vec::new();
    };
    if words.get(at + 1) != Some(&"run-with-secrets") {
        return Vec::new();
    }
    let named = ctx.section::<crate::config::SecretsConfig>().ok();
    let mut out = Vec::new();
    let mut iter = words[at + 2..].iter();
    while let Some(w) = iter.next() {
        match *w {
            "--" => break,
            "--env" => {
                if let Some(pair) = iter.next() {
                    out.extend(pair.split_once('=').map(|(v, _)| v.to_owned()));
                }
            }
            "--project" => {
                iter.next();
            }
            w if w.starts_with("--env=") => {
                out.extend(
                    w["--env=".len()..]
                        .split_once('=')
                        .map(|(v, _)| v.to_owned()),
                );
            }
            w if !w.starts_with('-') => {
                if let Some(s) = named.as_ref().and_then(|n| n.0.get(w)) {
                    out.push(s.env.clone());
                }
            }
            _ => {}
        }
    }
    out
}

fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// A secret-named variable (`AWS_SECRET_ACCESS_KEY`, `$GITHUB_TOKEN`), not `PWD`.
fn secret_variable(name: &str) -> bool {
    let name = name.trim_start_matches('$').trim_matches(['{', '}']);
    !matches!(name, "PWD" | "OLDPWD") && portcullis_secrets::judge::secret_name(name).is_some()
}

/// The secret-named variable a command prints, directly or not: `echo $DB_PASSWORD`, `printf '%s'
/// "${TOKEN}"`, through a copy (`t=$TOKEN; echo $t`), by indirection (`echo ${!name}`), through
/// `printenv NAME` anywhere (a substitution included), or from a script's own reading of the environment
/// (`ENVIRON["TOKEN"]`, `os.environ["TOKEN"]`, `process.env.TOKEN`, `getenv("TOKEN")`, `ENV["TOKEN"]`).
/// The variables in `scrubbed` are not counted: their values are scrubbed from the output.
fn printed_variable(command: &str, scrubbed: &[String]) -> Option<String> {
    static PATTERNS: OnceLock<Option<[Regex; 4]>> = OnceLock::new();
    let [echo, copy, reads, indirect] = PATTERNS
        .get_or_init(|| {
            Some([
                Regex::new(r#"(?:^|[;&|(\s'"`])(?:echo|printf)\b[^;&|\n]*?\$\{?([A-Za-z_][A-Za-z0-9_]*)"#).ok()?,
                Regex::new(r#"(?:^|[;&|(\s])([A-Za-z_][A-Za-z0-9_]*)=["']?\$\{?([A-Za-z_][A-Za-z0-9_]*)"#).ok()?,
                Regex::new(
                    r#"(?:printenv\s+|ENVIRON\[\s*["']|environ(?:\.get\(|\[)\s*["']|getenv\(\s*["']|process\.env\.|process\.env\[\s*["']|ENV\[\s*["']|ENV\.fetch\(\s*["'])([A-Za-z_][A-Za-z0-9_]*)"#,
                )
                .ok()?,
                Regex::new(r#"(?:^|[;&|(\s'"`])(?:echo|printf)\b[^;&|\n]*?\$\{!([A-Za-z_][A-Za-z0-9_]*)"#).ok()?,
            ])
        })
        .as_ref()?;
    let counted = |v: &str| secret_variable(v) && !scrubbed.iter().any(|s| s == v);
    let mut tainted: Vec<&str> = copy
        .captures_iter(command)
        .filter(|c| c.get(2).is_some_and(|m| counted(m.as_str())))
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    tainted.dedup();
    if let Some(c) = indirect.captures(command) {
        return Some(format!("${{!{}}}", c.get(1).map_or("", |m| m.as_str())));
    }
    echo.captures_iter(command)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .find(|v| counted(v) || tainted.contains(v))
        .or_else(|| {
            reads
                .captures_iter(command)
                .filter_map(|c| c.get(1))
                .map(|m| m.as_str())
                .find(|v| counted(v))
        })
        .map(|v| format!("${v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_variables() {
        assert_eq!(
            printed_variable("echo $AWS_SECRET_ACCESS_KEY", &[]),
            Some("$AWS_SECRET_ACCESS_KEY".into())
        );
        assert_eq!(
            printed_variable("ls && printf '%s' \"${GITHUB_TOKEN}\"", &[]),
            Some("$GITHUB_TOKEN".into())
        );
        assert_eq!(printed_variable("echo $PWD $HOME", &[]), None);
        assert_eq!(
            printed_variable("echo done; X=$TOKEN cargo build", &[]),
            None
        );
    }
}
