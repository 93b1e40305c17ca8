//! `portcullis explain`: which installed portcullis handlers an event would run, and what each decides,
//! on a throwaway copy of the project's state and claims (nothing live changes). Also the handler lookup
//! `replay` shares.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_core::Env;
use portcullis_core::ctx::find_project_root;
use portcullis_core::event::Event;
use serde_json::Value;

use super::{CmdResult, Report, settings_files};
use crate::exec;
use crate::matcher;
use crate::settings;

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
    let name = event.client_event_name();
    let mut out: Vec<Handler> = Vec::new();
    for value in settings {
        let groups = value
            .get("hooks")
            .and_then(|h| h.get(name))
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
                // Copilot names the command line `bash`.
                let Some(command) = h
                    .get("command")
                    .or_else(|| h.get("bash"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                if !settings::is_ours(command) {
                    continue;
                }
                // A Codex or Gemini handler is one shell command line: its program, and the flag that
                // names the client.
                let shell_line = settings::program(command) != command.trim();
                let client = command
                    .trim_end()
                    .rsplit_once("--client ")
                    .map_or("codex", |(_, c)| c.trim());
                let handler = Handler {
                    command: settings::program(command),
                    args: if shell_line {
                        vec!["--client".into(), client.into()]
                    } else {
                        h.get("args")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_owned)
                                    .collect()
                            })
                            .unwrap_or_default()
                    },
                    // Gemini counts the timeout in milliseconds.
                    timeout: h
                        .get("timeout")
                        .or_else(|| h.get("timeoutSec"))
                        .and_then(Value::as_u64)
                        .map_or(600, |t| {
                            if client == "gemini" && shell_line {
                                t.div_ceil(1000)
                            } else {
                                t
                            }
                        }),
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
    // The hooks decide on a throwaway copy of the project's state and claims, as replay does: explaining
    // an event must not count an attempt, log a decision, or leave a claim for a made-up session.
    let scratch = tempfile::Builder::new()
        .prefix("portcullis-explain-")
        .tempdir()
        .map_err(|e| format!("making a scratch folder: {e}"))?;
    let state = scratch.path().join("state");
    let locks = scratch.path().join("locks");
    let live_state = env
        .var(portcullis_core::env_vars::PORTCULLIS_STATE_DIR)
        .map_or_else(|| project.join(".claude/portcullis"), PathBuf::from);
    copy_tree(&live_state, &state).map_err(|e| format!("copying the state: {e}"))?;
    copy_tree(&project.join(".claude/locks"), &locks)
        .map_err(|e| format!("copying the claims: {e}"))?;
    let scratch_env = [
        (
            portcullis_core::env_vars::PORTCULLIS_STATE_DIR,
            state.as_os_str(),
        ),
        (
            portcullis_core::env_vars::PORTCULLIS_LOCKS_DIR,
            locks.as_os_str(),
        ),
    ];
    let mut overall = ("allow".to_owned(), 0u8);
    for h in &handlers {
        let name = Path::new(&h.command)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&h.command)
            .to_owned();
        let timeout = Duration::from_secs(h.timeout.clamp(1, 600));
        let (verdict, reason) = match exec::run_hook(
            &h.command,
            &h.args,
            input,
            &cwd,
            &project,
            timeout,
            &scratch_env,
        ) {
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

/// Copies the regular files and folders below `from` to `to` (links are not followed; a missing `from`
/// copies nothing).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    let Ok(entries) = fs::read_dir(from) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
