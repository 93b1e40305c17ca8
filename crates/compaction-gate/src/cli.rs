//! `compaction-gate status` and `compaction-gate statusline`: the same measure, by hand.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portcullis_core::cli::{finish_command, parse_command};
use portcullis_core::config::{Config, Schema};
use portcullis_core::ctx::cli_project;
use portcullis_core::{Env, Hook};
use serde_json::{Value, json};

use crate::{Band, CompactionGate, CompactionGateConfig};
use portcullis_context::{self as context, Measure, Scope, short_tokens};

/// The exit code of `status --check` when the band is `block`.
pub(crate) const CHECK_BLOCK_EXIT: u8 = 3;

/// compaction-gate: the context in use of a Claude Code session. Without a subcommand it is the hook (one
/// event on stdin).
#[derive(Debug, Parser)]
#[command(
    name = "compaction-gate",
    version,
    about,
    long_about = None,
    after_help = "Hook mode: the client runs it with one hook event as JSON on stdin.\n\nUsage: compaction-gate [--client claude|codex|gemini|copilot] < EVENT.json\n  --client NAME  the client the event comes from (recognised from the event when left out)\n\nExamples:\n  compaction-gate status\n  compaction-gate statusline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the context in use of a session: used, window, percent, band, model, auto-compact point.
    Status {
        /// The transcript to measure.
        #[arg(long, value_name = "PATH", conflicts_with = "session")]
        transcript: Option<PathBuf>,
        /// The session id (its transcript in the project's folder under ~/.claude/projects/).
        #[arg(long, value_name = "ID")]
        session: Option<String>,
        /// The project (default: $CLAUDE_PROJECT_DIR, else the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// One JSON object.
        #[arg(long)]
        json: bool,
        /// Exit 3 when the band is `block` (for scripts).
        #[arg(long)]
        check: bool,
    },
    /// Read Claude Code's status-line JSON on stdin and print one short line (for `statusLine`).
    Statusline,
}

/// Runs the command line (`args` without the program name).
#[must_use]
pub(crate) fn main_with(args: Vec<OsString>) -> ExitCode {
    let cli = match parse_command::<Cli>("compaction-gate", args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let env = Env::Process;
    let result = match cli.command {
        Command::Status {
            transcript,
            session,
            project,
            json,
            check,
        } => status(&env, transcript, session.as_deref(), project, json, check),
        Command::Statusline => statusline(&env),
    };
    finish_command("compaction-gate", result)
}

fn gate_config(project: &Path, env: &Env) -> Result<CompactionGateConfig, String> {
    Config::load(env, project, Schema::hook(CompactionGate::SECTIONS))
        .and_then(|c| c.section())
        .map_err(|e| e.to_string())
}

fn status(
    env: &Env,
    transcript: Option<PathBuf>,
    session: Option<&str>,
    project: Option<PathBuf>,
    json: bool,
    check: bool,
) -> Result<(String, u8), String> {
    let project = cli_project(project, env);
    let path = match (transcript, session) {
        (Some(p), _) => p,
        (None, sessions) => {
            let home = env
                .claude_home()
                .ok_or("HOME (or CLAUDE_CONFIG_DIR) is not set")?;
            let dir = context::project_sessions_dir(&home, &project);
            match sessions {
                Some(id) => dir.join(format!("{id}.jsonl")),
                None => context::newest_transcript(&dir).ok_or_else(|| {
                    format!(
                        "no session transcript for `{}` in `{}`; pass --transcript PATH",
                        project.display(),
                        dir.display()
                    )
                })?,
            }
        }
    };
    let cfg = gate_config(&project, env)?;
    let m = context::measure(&path, Scope::Main, cfg.window_tokens, env)
        .map_err(|e| format!("reading `{}`: {e}", path.display()))?;
    let band = Band::of(m.percent, &cfg);
    let code = if check && band == Band::Block {
        CHECK_BLOCK_EXIT
    } else {
        0
    };
    if json {
        let v = json!({
            "used_tokens": m.used_tokens,
            "window_tokens": m.window_tokens,
            "percent": m.percent,
            "band": band.as_str(),
            "model": m.model,
            "autocompact_tokens": m.autocompact_tokens,
            "transcript": m.transcript.display().to_string(),
            "window_source": m.window_source,
            "after_compaction": m.after_compaction,
            "skipped_lines": m.skipped,
        });
        return Ok((format!("{v}\n"), code));
    }
    Ok((status_text(&m, band, &cfg), code))
}

fn status_text(m: &Measure, band: Band, cfg: &CompactionGateConfig) -> String {
    let mut t = String::new();
    if m.empty {
        let _ = writeln!(t, "context: no model response yet (0 tokens)");
    } else {
        let _ = writeln!(
            t,
            "context: {} of {} tokens ({:.1}%): {}{}",
            m.used_tokens,
            m.window_tokens,
            m.percent,
            band.as_str(),
            if m.after_compaction {
                " (just compacted)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        t,
        "model: {} (window {}: {})",
        m.model.as_deref().unwrap_or("unknown"),
        short_tokens(m.window_tokens),
        m.window_source
    );
    let _ = writeln!(
        t,
        "auto-compact at: about {} tokens ({:.1}%)",
        m.autocompact_tokens,
        context::percent(m.autocompact_tokens, m.window_tokens)
    );
    let _ = writeln!(
        t,
        "bands: warn {}%, compact {}%, block {}% (of the whole window)",
        cfg.warn_percent, cfg.compact_percent, cfg.block_percent
    );
    let _ = writeln!(t, "transcript: {}", m.transcript.display());
    if m.skipped > 0 {
        let _ = writeln!(t, "({} unreadable lines skipped)", m.skipped);
    }
    t
}

fn statusline(env: &Env) -> Result<(String, u8), String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(portcullis_core::budget::MAX_STDIN_BYTES)
        .read_to_end(&mut input)
        .map_err(|e| format!("reading stdin: {e}"))?;
    let v: Value = serde_json::from_slice(&input).map_err(|e| format!("stdin is not JSON: {e}"))?;
    Ok((statusline_text(&v, env), 0))
}

/// One status line from Claude Code's status-line input: the client's own `context_window` figures when
/// present, else a measure of `transcript_path`.
#[must_use]
pub(crate) fn statusline_text(v: &Value, env: &Env) -> String {
    let model = v
        .pointer("/model/display_name")
        .or_else(|| v.pointer("/model/id"))
        .and_then(Value::as_str)
        .unwrap_or("Claude")
        .to_owned();
    let project = v
        .pointer("/workspace/project_dir")
        .and_then(Value::as_str)
        .map(PathBuf::from);
    let cfg = project
        .as_deref()
        .and_then(|p| gate_config(p, env).ok())
        .unwrap_or_default();
    let cw = v.get("context_window");
    let client_figures = cw.and_then(|cw| {
        let size = cw.get("context_window_size").and_then(Value::as_u64)?;
        let u = cw.get("current_usage")?;
        let part = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        let used = part("input_tokens")
            + part("cache_read_input_tokens")
            + part("cache_creation_input_tokens")
            + part("output_tokens");
        let percent = cw
            .get("used_percentage")
            .and_then(Value::as_f64)
            .unwrap_or_else(|| context::percent(used, size));
        Some((used, size, percent))
    });
    let figures = client_figures.or_else(|| {
        let path = v.get("transcript_path").and_then(Value::as_str)?;
        let m = context::measure(Path::new(path), Scope::Main, cfg.window_tokens, env).ok()?;
        (!m.empty).then_some((m.used_tokens, m.window_tokens, m.percent))
    });
    let Some((used, window, percent)) = figures else {
        return format!("{model} · context —\n");
    };
    let band = Band::of(percent, &cfg);
    let filled = (0..10usize)
        .take_while(|i| percent >= (*i as f64) * 10.0 + 5.0)
        .count();
    let bar: String = "█".repeat(filled) + &"░".repeat(10 - filled);
    let flag = match band {
        Band::Ok => "",
        Band::Warn => " ⚠",
        Band::ShouldCompact => " ⚠ /compact",
        Band::Block => " ⛔ /compact",
    };
    format!(
        "{model} {bar} {percent:.0}% {}/{}{flag}\n",
        short_tokens(used),
        short_tokens(window)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statusline_prefers_the_clients_figures() {
        let v = json!({"model": {"display_name": "Opus"}, "transcript_path": "/nonexistent.jsonl",
            "context_window": {"context_window_size": 200_000,
                "current_usage": {"input_tokens": 150_000, "cache_read_input_tokens": 20_000, "output_tokens": 2000}}});
        assert_eq!(
            statusline_text(&v, &Env::from_pairs([])),
            "Opus █████████░ 86% 172K/200K ⛔ /compact\n"
        );
    }

    #[test]
    fn statusline_without_figures_or_transcript_says_so() {
        let v = json!({"model": {"id": "claude-sonnet-4-5"}});
        assert_eq!(
            statusline_text(&v, &Env::from_pairs([])),
            "claude-sonnet-4-5 · context —\n"
        );
    }
}
