//! `portcullis install` and `uninstall`: the suite's hooks merged into (or removed from) a Claude Code
//! settings.json, a Codex hooks.json or a Gemini settings.json, everything else kept byte for byte. For Codex, install also
//! records our handlers' trust ([`crate::codex`]), without which Codex skips them silently.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use portcullis_suite::HOOKS;

use portcullis_core::{Client, Env};

use super::{CmdResult, Report, is_executable};
use crate::settings::{self, Scope};
use crate::{codex, diff};

fn read_settings(path: &Path) -> Result<String, String> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("reading `{}`: {e}", path.display())),
    }
}

fn write_settings(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating `{}`: {e}", dir.display()))?;
    }
    portcullis_core::state::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
}

/// How to reach Codex for trust (ignored for Claude Code).
#[derive(Debug, Default)]
pub struct CodexOptions {
    /// `--codex-bin`: the `codex` program, else `codex` on PATH.
    pub binary: Option<std::path::PathBuf>,
    /// `--no-trust`: write hooks.json only.
    pub no_trust: bool,
}

/// `portcullis install`.
pub fn install(
    scope: &Scope,
    bin_dir: &Path,
    dry_run: bool,
    codex_options: &CodexOptions,
    env: &Env,
) -> CmdResult {
    let missing: Vec<&str> = HOOKS
        .iter()
        .map(|h| h.name)
        .filter(|n| !is_executable(&bin_dir.join(n)))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "hook binaries missing from `{}`: {} (run ./install.sh, or pass --bin-dir)",
            bin_dir.display(),
            missing.join(", ")
        ));
    }
    let path = scope.settings_path();
    let before = read_settings(&path)?;
    // The committed project file names the hooks by their bare names when this machine finds the very
    // binaries on PATH, so the file works on a teammate's machine too; otherwise it needs this machine's
    // paths, and says where a team should put them instead.
    let shared = matches!(scope, Scope::Project(_));
    let bare = shared && HOOKS.iter().all(|h| on_path(h.name, bin_dir, env));
    let named_by = if bare { Path::new("") } else { bin_dir };
    let after =
        settings::install(&path, &before, named_by, HOOKS, scope.client()).map_err(|e| e.0)?;
    let mut report = apply(&path, &before, &after, dry_run, "installed")?;
    if shared && !bare {
        let _ = writeln!(
            report.text,
            "note: `{}` names the hooks by this machine's paths (`{}` is not on PATH); a team that commits \
             it should put the binaries on PATH and install again, or use `portcullis install --local` \
             (`.claude/settings.local.json`, not committed)",
            path.display(),
            bin_dir.display()
        );
    }
    if scope.client() == Client::Codex && !dry_run {
        report
            .text
            .push_str(&codex_trust(scope, &path, codex_options, env));
    }
    if let Scope::CopilotProject(dir) = scope
        && !crate::copilot::repository_hooks_trusted(env)
    {
        let _ = writeln!(
            report.text,
            "note: Copilot CLI loads a repository's hooks (`.github/hooks/*.json`) only in a trusted folder, and \
             skips them without a word otherwise: start it in `{}` with `--trust-folder`, or set \
             `COPILOT_ALLOW_ALL=true`. `portcullis install --client copilot --user` needs no trust.",
            dir.display()
        );
    }
    if let Scope::GeminiProject(dir) = scope
        && !crate::gemini::gemini_home(env)
            .is_some_and(|home| crate::gemini::project_trusted(&home, dir, env))
    {
        let _ = writeln!(
            report.text,
            "note: Gemini CLI runs a project's hooks only in a trusted folder. Trust `{}` when Gemini asks on \
             its first start there (or with `/permissions`); it then lists these hooks once and runs them. \
             `portcullis install --client gemini --user` needs no trust.",
            dir.display()
        );
    }
    Ok(report)
}

/// Whether `name` on PATH is the binary in `bin_dir` (the same file).
fn on_path(name: &str, bin_dir: &Path, env: &Env) -> bool {
    let Some(path) = env.var("PATH") else {
        return false;
    };
    let ours = bin_dir.join(name).canonicalize().ok();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
        .and_then(|p| p.canonicalize().ok())
        .is_some_and(|p| Some(p) == ours)
}

/// Records trust for our Codex handlers, and says what is left for the user to do.
fn codex_trust(scope: &Scope, hooks_file: &Path, options: &CodexOptions, env: &Env) -> String {
    let Some(home) = codex::codex_home(env) else {
        return "note: neither CODEX_HOME nor HOME is set, so Codex's config.toml was not found: trust \
                was not recorded\n"
            .into();
    };
    let project = match scope {
        Scope::CodexProject(dir) => dir.clone(),
        _ => std::env::current_dir().unwrap_or_else(|_| home.clone()),
    };
    let mut lines = Vec::new();
    if let Scope::CodexProject(dir) = scope
        && !codex::project_trusted(&home, dir)
    {
        lines.push(format!(
            "note: Codex reads `.codex/hooks.json` only in a trusted project. Trust `{}` when Codex asks \
             on its first start there, or run `codex exec --trust` in it once.",
            dir.display()
        ));
    }
    let manual = format!(
        "Codex skips untrusted hooks without a word. To trust them, review them in Codex (`/hooks`), or \
         run `portcullis install --client codex{} --codex-bin <path to codex>`.",
        match scope {
            Scope::CodexProject(dir) => format!(" --project {}", dir.display()),
            _ => " --user".into(),
        }
    );
    let binary = codex::find_codex(options.binary.as_deref(), env);
    lines.push(match (options.no_trust, binary) {
        (true, _) => format!("trust not recorded (--no-trust). {manual}"),
        (false, None) => format!("`codex` is not on PATH, so trust was not recorded. {manual}"),
        (false, Some(binary)) => match codex::trust_ours(&binary, &home, &project, hooks_file) {
            Ok(t) if t.ours == 0 => format!(
                "warning: `{} app-server` lists none of our handlers in `{}`: trust was not recorded. {manual}",
                binary.display(),
                hooks_file.display()
            ),
            Ok(t) => format!(
                "trusted {} handler(s) in `{}` ({} already were)",
                t.newly,
                home.join("config.toml").display(),
                t.ours - t.newly
            ),
            Err(e) => format!("warning: trust was not recorded: {e}. {manual}"),
        },
    });
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// `portcullis uninstall`.
pub fn uninstall(scope: &Scope, dry_run: bool) -> CmdResult {
    let path = scope.settings_path();
    let before = read_settings(&path)?;
    if before.is_empty() {
        return Ok(Report::ok(format!(
            "nothing to remove: `{}` does not exist\n",
            path.display()
        )));
    }
    let after = settings::uninstall(&path, &before).map_err(|e| e.0)?;
    apply(&path, &before, &after, dry_run, "removed")
}

fn apply(path: &Path, before: &str, after: &str, dry_run: bool, verb: &str) -> CmdResult {
    let label = path.display().to_string();
    if dry_run {
        let d = diff::unified(before, after, &label, 3);
        return Ok(Report::ok(if d.is_empty() {
            format!("no change to `{label}`\n")
        } else {
            d
        }));
    }
    if before == after {
        return Ok(Report::ok(format!("`{label}` already up to date\n")));
    }
    write_settings(path, after)?;
    Ok(Report::ok(format!(
        "{verb} portcullis hooks in `{label}`\n"
    )))
}
