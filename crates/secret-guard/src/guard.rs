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
    let absolute = absolutize(Path::new(path), &ctx.cwd);
    let secret = is_secret_file(&absolute) || extra(ctx, rules, &absolute)?;
    if secret && !allowed(ctx, rules, path)? {
        return Ok(Some(path.to_owned()));
    }
    Ok(None)
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
    if !extra && !SHELL_HINTS.iter().any(|h| lower.contains(h)) {
        return Ok(None);
    }
    if let Some(var) = printed_variable(command) {
        return Ok(Some(Exposure::Variable(var)));
    }
    let Some(runs) = portcullis_shell::runs(command) else {
        return Ok(None);
    };
    for run in runs {
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
            continue;
        };
        let args: Vec<&str> = words[i + 1..].to_vec();
        let operands: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
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
            p if READERS.contains(&p) => {
                for a in &operands {
                    if let Some(f) = secret_file(ctx, rules, a)? {
                        return Ok(Some(Exposure::File(f)));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// A secret-named variable (`AWS_SECRET_ACCESS_KEY`, `$GITHUB_TOKEN`), not `PWD`.
fn secret_variable(name: &str) -> bool {
    let name = name.trim_start_matches('$').trim_matches(['{', '}']);
    !matches!(name, "PWD" | "OLDPWD") && portcullis_secrets::judge::secret_name(name).is_some()
}

/// The secret-named variable an `echo`/`printf` prints (`echo $DB_PASSWORD`, `printf '%s' "${TOKEN}"`).
fn printed_variable(command: &str) -> Option<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            Regex::new(r"(?:^|[;&|(\s])(?:echo|printf)\b[^;&|\n]*?\$\{?([A-Za-z_][A-Za-z0-9_]*)")
                .ok()
        })
        .as_ref()?;
    re.captures_iter(command)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .find(|v| secret_variable(v))
        .map(|v| format!("${v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_variables() {
        assert_eq!(
            printed_variable("echo $AWS_SECRET_ACCESS_KEY"),
            Some("$AWS_SECRET_ACCESS_KEY".into())
        );
        assert_eq!(
            printed_variable("ls && printf '%s' \"${GITHUB_TOKEN}\""),
            Some("$GITHUB_TOKEN".into())
        );
        assert_eq!(printed_variable("echo $PWD $HOME"), None);
        assert_eq!(printed_variable("echo done; X=$TOKEN cargo build"), None);
    }
}
