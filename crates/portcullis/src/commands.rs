//! The subcommands. Each returns its report as text plus success/failure; `cli` prints it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_core::ctx::{Env, find_project_root};
use portcullis_core::event::Event;
use portcullis_core::log::{self, LogEntry};
use portcullis_core::registry::{self, HOOKS};
use portcullis_core::state::StateDir;
use portcullis_core::{Config, budget};
use serde_json::Value;

use crate::diff;
use crate::exec;
use crate::matcher;
use crate::settings::{self, Scope};

/// A command's result: the text to print and whether it succeeded.
#[derive(Debug)]
pub struct Report {
    /// What to print on stdout.
    pub text: String,
    /// False makes the process exit 1.
    pub ok: bool,
}

impl Report {
    fn ok(text: String) -> Self {
        Self { text, ok: true }
    }
}

/// A failure worded for the user.
pub type CmdResult = Result<Report, String>;

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

/// `portcullis install`.
pub fn install(scope: &Scope, bin_dir: &Path, dry_run: bool) -> CmdResult {
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
    let after = settings::install(&path, &before, bin_dir, HOOKS).map_err(|e| e.0)?;
    apply(&path, &before, &after, dry_run, "installed")
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

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The settings files Claude Code reads for a project, most specific first.
#[must_use]
pub fn settings_files(project: &Path, env: &Env) -> Vec<PathBuf> {
    let mut v = vec![
        project.join(".claude/settings.local.json"),
        project.join(".claude/settings.json"),
    ];
    if let Some(home) = env.claude_home() {
        v.push(home.join("settings.json"));
    }
    v
}

/// `portcullis doctor`.
pub fn doctor(project: &Path, bin_dir: &Path, env: &Env) -> CmdResult {
    let mut lines = Vec::new();
    let mut ok = true;
    let mut check = |name: &str, result: Result<String, String>| match result {
        Ok(m) => lines.push(format!("ok    {name}: {m}")),
        Err(m) => {
            ok = false;
            lines.push(format!("FAIL  {name}: {m}"));
        }
    };

    let files: Vec<String> = Config::paths(env, project)
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    check(
        "config",
        Config::load(env, project)
            .map(|_| {
                if files.is_empty() {
                    "no config files; defaults apply".into()
                } else {
                    format!("parsed {}", files.join(", "))
                }
            })
            .map_err(|e| e.to_string()),
    );

    let missing: Vec<&str> = registry::binaries()
        .into_iter()
        .filter(|n| !is_executable(&bin_dir.join(n)))
        .collect();
    check(
        "binaries",
        if missing.is_empty() {
            Ok(format!(
                "{} binaries in `{}`",
                registry::binaries().len(),
                bin_dir.display()
            ))
        } else {
            Err(format!(
                "missing from `{}`: {}",
                bin_dir.display(),
                missing.join(", ")
            ))
        },
    );

    check("settings", check_registered(project, env));

    let state = StateDir::for_project(env, project);
    check(
        "state",
        state
            .ensure()
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let probe = state.path().join(format!(".doctor-{}", std::process::id()));
                fs::write(&probe, b"ok")
                    .and_then(|()| fs::remove_file(&probe))
                    .map_err(|e| format!("`{}` is not writable: {e}", state.path().display()))
            })
            .map(|()| format!("`{}` is writable", state.path().display())),
    );
    // Not a failure: without its advisor, escalation-advisor still gives its fallback hint.
    if let Ok(config) = Config::load(env, project) {
        if let Some(line) = advisor_line(&config, env) {
            lines.push(line);
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    Ok(Report { text, ok })
}

/// doctor's line on escalation-advisor's advisor program: `ok` when it is found, `note` when not.
fn advisor_line(config: &Config, env: &Env) -> Option<String> {
    let advisor = &config.escalation_advisor;
    if advisor.mode == portcullis_core::config::Mode::Off {
        return None;
    }
    let program = advisor.command.first()?;
    let found = if program.contains('/') {
        is_executable(Path::new(program)).then(|| PathBuf::from(program))
    } else {
        env.var("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(program))
                .find(|p| is_executable(p))
        })
    };
    Some(match found {
        Some(p) => format!("ok    advisor: `{}`", p.display()),
        None => format!(
            "note  advisor: `{program}` was not found; escalation-advisor will give its fallback hint from \
             the decision log (set `escalation_advisor.command`)"
        ),
    })
}

fn check_registered(project: &Path, env: &Env) -> Result<String, String> {
    let mut found: Vec<(String, Option<String>, String, PathBuf)> = Vec::new();
    for file in settings_files(project, env) {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let value = settings::check_json(&file, &text).map_err(|e| e.0)?;
        for (e, m, c) in settings::registered(&value) {
            found.push((e, m, c, file.clone()));
        }
    }
    let mut problems = Vec::new();
    for hook in HOOKS {
        for reg in hook.registrations {
            let hit = found.iter().find(|(e, m, c, _)| {
                e == reg.event
                    && m.as_deref() == reg.matcher
                    && Path::new(c).file_name().is_some_and(|n| n == hook.name)
            });
            match hit {
                None => problems.push(format!("{} is not registered for {}", hook.name, reg.event)),
                Some((_, _, c, f)) if !is_executable(Path::new(c)) => {
                    problems.push(format!(
                        "`{}` registers `{c}`, which does not exist",
                        f.display()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() {
        let files: std::collections::BTreeSet<String> =
            found.iter().map(|f| f.3.display().to_string()).collect();
        Ok(format!(
            "{} registrations found in {}",
            found.len(),
            if files.is_empty() {
                "no settings file".into()
            } else {
                files.into_iter().collect::<Vec<_>>().join(", ")
            }
        ))
    } else {
        problems.dedup();
        Err(format!(
            "{} (run `portcullis install --project {}`)",
            problems.join("; "),
            project.display()
        ))
    }
}

/// Filters for `portcullis log`.
#[derive(Debug, Default)]
pub struct LogFilter {
    /// Only this session.
    pub session: Option<String>,
    /// Only this hook.
    pub hook: Option<String>,
    /// Only deny/block/ask.
    pub blocked: bool,
    /// At most this many (the newest).
    pub n: usize,
    /// Raw JSON lines.
    pub json: bool,
}

/// `portcullis log`.
pub fn show_log(project: &Path, env: &Env, f: &LogFilter) -> CmdResult {
    let path = StateDir::for_project(env, project).log_path();
    let keep = |e: &LogEntry| {
        f.session
            .as_ref()
            .is_none_or(|s| e.session.starts_with(s.as_str()))
            && f.hook.as_ref().is_none_or(|h| &e.hook == h)
            && (!f.blocked || matches!(e.verdict.as_str(), "deny" | "block" | "ask"))
    };
    let (mut entries, skipped) =
        log::tail(&path, f.n, u64::MAX, keep).map_err(|e| e.to_string())?;
    entries.reverse();
    let mut text = String::new();
    for e in &entries {
        if f.json {
            let _ = writeln!(text, "{}", serde_json::to_string(e).unwrap_or_default());
            continue;
        }
        let what = match &e.tool {
            Some(t) => format!("{} {t}", e.event),
            None => e.event.clone(),
        };
        let first = e.reason.lines().next().unwrap_or_default();
        let reason: String = first.chars().take(160).collect();
        let session: String = e.session.chars().take(8).collect();
        let _ = writeln!(
            text,
            "{}  {:<18} {:<22} {:<7} {session} {:<8} {:>6}µs  {reason}",
            e.time, e.hook, what, e.verdict, e.agent, e.micros
        );
    }
    if entries.is_empty() && !f.json {
        let _ = writeln!(text, "no decisions logged in `{}`", path.display());
    }
    if skipped > 0 && !f.json {
        let _ = writeln!(text, "({skipped} unreadable lines skipped)");
    }
    Ok(Report::ok(text))
}

/// A handler found in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// The command.
    pub command: String,
    /// Its args (exec form).
    pub args: Vec<String>,
    /// Timeout in seconds.
    pub timeout: u64,
}

/// The parsed settings files of `project` (see [`settings_files`]); unreadable or invalid files are skipped.
#[must_use]
pub fn load_settings(project: &Path, env: &Env) -> Vec<Value> {
    settings_files(project, env)
        .iter()
        .filter_map(|f| fs::read_to_string(f).ok())
        .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
        .collect()
}

/// Our handlers that Claude Code would run for `event`, deduplicated like the client does.
#[must_use]
pub fn matching_handlers(event: &Event, project: &Path, env: &Env) -> Vec<Handler> {
    matching_handlers_in(event, &load_settings(project, env))
}

/// Our handlers among `settings` (settings.json or hooks.json shaped values) that run for `event`.
#[must_use]
pub fn matching_handlers_in(event: &Event, settings: &[Value]) -> Vec<Handler> {
    let name = event.name();
    let mut out: Vec<Handler> = Vec::new();
    for value in settings {
        let groups = value
            .get("hooks")
            .and_then(|h| h.get(name.as_str()))
            .and_then(Value::as_array);
        for group in groups.into_iter().flatten() {
            let m = group.get("matcher").and_then(Value::as_str);
            if !matcher::matches(m, event) {
                continue;
            }
            for h in group
                .get("hooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(command) = h.get("command").and_then(Value::as_str) else {
                    continue;
                };
                if !settings::is_ours(command) {
                    continue;
                }
                let handler = Handler {
                    command: command.to_owned(),
                    args: h
                        .get("args")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    timeout: h.get("timeout").and_then(Value::as_u64).unwrap_or(600),
                };
                if !out.contains(&handler) {
                    out.push(handler);
                }
            }
        }
    }
    out
}

/// `portcullis explain < event.json`.
pub fn explain(input: &[u8], project_override: Option<&Path>, env: &Env) -> CmdResult {
    let event = Event::parse(input).map_err(|e| e.to_string())?;
    let project = project_override.map_or_else(
        || {
            env.var("CLAUDE_PROJECT_DIR").map_or_else(
                || find_project_root(Path::new(event.cwd.as_deref().unwrap_or("."))),
                PathBuf::from,
            )
        },
        Path::to_path_buf,
    );
    let handlers = matching_handlers(&event, &project, env);
    let what = match event.tool() {
        Some(t) => format!("{} {t}", event.name().as_str()),
        None => event.name().as_str().to_owned(),
    };
    let mut text = String::new();
    if handlers.is_empty() {
        let _ = writeln!(
            text,
            "{what}: no installed portcullis hook matches this event (settings of `{}`)",
            project.display()
        );
        return Ok(Report::ok(text));
    }
    let _ = writeln!(text, "{what}: {} portcullis hook(s) match", handlers.len());
    let cwd = event
        .cwd
        .as_deref()
        .map_or_else(|| project.clone(), PathBuf::from);
    let mut overall = ("allow".to_owned(), 0u8);
    for h in &handlers {
        let name = Path::new(&h.command)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&h.command)
            .to_owned();
        let timeout = Duration::from_secs(h.timeout.clamp(1, 600));
        let (verdict, reason) =
            match exec::run_hook(&h.command, &h.args, input, &cwd, &project, timeout, &[]) {
                Ok(o) => o.verdict(),
                Err(e) => (
                    "error".into(),
                    format!("could not start `{}`: {e}", h.command),
                ),
            };
        let rank = match verdict.as_str() {
            "deny" | "block" => 3,
            "ask" => 2,
            "context" | "warn" | "error" | "timeout" => 1,
            _ => 0,
        };
        if rank > overall.1 {
            overall = (verdict.clone(), rank);
        }
        let _ = writeln!(
            text,
            "  {name:<20} {verdict:<8} {}",
            reason.replace('\n', "\n  ")
        );
    }
    let _ = writeln!(text, "overall: {}", overall.0);
    Ok(Report::ok(text))
}

/// Reads stdin with the hooks' cap.
pub fn read_stdin() -> Result<Vec<u8>, String> {
    portcullis_core::run::read_capped(&mut std::io::stdin().lock(), budget::MAX_STDIN_BYTES)
        .map_err(|e| e.to_string())
}
