//! `iteration-limit loop start | cancel | status`: completion-promise loops by hand (or by the agent, from
//! a Bash call).

use portcullis_core::client::COPILOT_STOP_CAP;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use portcullis_core::cli::{finish_command, parse_command};
use portcullis_core::config::{Config, Schema};
use portcullis_core::ctx::cli_project;
use portcullis_core::state::{StateDir, StateFile};
use portcullis_core::{Deadline, Env, Hook};

use crate::promise::PromiseLoop;

/// The environment variable Claude Code sets for Bash tool calls: the session they belong to.
pub(crate) const SESSION_ENV: &str = "CLAUDE_CODE_SESSION_ID";

/// iteration-limit: caps repeated attempts and runs completion-promise loops in Claude Code sessions.
/// Without a subcommand it is the hook (one event on stdin).
#[derive(Debug, Parser)]
#[command(
    name = "iteration-limit",
    version,
    about,
    long_about = None,
    after_help = "Hook mode: the client runs it with one hook event as JSON on stdin.\n\nUsage: iteration-limit [--client claude|codex|gemini|copilot] < EVENT.json\n  --client NAME  the client the event comes from (recognised from the event when left out)\n\nExamples:\n  iteration-limit loop start --promise DONE -- \"migrate every module\""
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    /// Completion-promise loops: the prompt is fed back at every Stop until the answer is
    /// `<promise>TEXT</promise>`.
    Loop {
        #[command(subcommand)]
        command: LoopCommand,
        /// The session (default: $CLAUDE_CODE_SESSION_ID, else the next session that stops here).
        #[arg(long, value_name = "ID", global = true)]
        session: Option<String>,
        /// The project (default: $CLAUDE_PROJECT_DIR, else the one around the current folder).
        #[arg(long, value_name = "DIR", global = true)]
        project: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum LoopCommand {
    /// Arm a loop.
    Start {
        /// The promise: the loop ends when the answer is exactly `<promise>TEXT</promise>`.
        #[arg(long, value_name = "TEXT")]
        promise: String,
        /// The most iterations, the first included (1 to 10000, default 10). Iterations that do work (a
        /// tool call between two stops) may run as long as this allows; an agent that only answers text is
        /// let go by the shared stop chain after stop.max_consecutive_blocks blocks.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_ITERATIONS)]
        max_iterations: u32,
        /// The prompt fed back at every Stop.
        #[arg(last = true, required = true, value_name = "PROMPT")]
        prompt: Vec<String>,
    },
    /// Disarm the session's loop (without a session: every loop in the project, pending or not).
    Cancel,
    /// Show the armed loops.
    Status,
}

/// The seed's default: ten iterations unless asked for more.
const DEFAULT_ITERATIONS: u32 = 10;

/// The most iterations one loop may be armed for. Each iteration is a model turn; long "ralph" loops run
/// 20 to 100, and ten thousand leaves room without being unbounded.
const MAX_ITERATIONS: u32 = 10_000;

/// Runs the command line (`args` without the program name).
#[must_use]
pub(crate) fn main_with(args: Vec<OsString>) -> ExitCode {
    let cli = match parse_command::<Cli>("iteration-limit", args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    finish_command(
        "iteration-limit",
        run(cli, &Env::Process).map(|text| (text, 0)),
    )
}

/// Set by Copilot CLI in the environment of the commands it runs (PROTOCOL-COPILOT.md §2).
const COPILOT_ENV: &str = "COPILOT_CLI";

/// In Copilot CLI, which ends a turn itself after [`COPILOT_STOP_CAP`] held turn ends in one prompt, tool
/// calls or not: how many iterations a loop gets there, when fewer than asked.
fn copilot_note(env: &Env, max_iterations: u32) -> String {
    let most = COPILOT_STOP_CAP - 1;
    if env.var(COPILOT_ENV).is_none_or(|v| v != "1") || max_iterations <= most {
        return String::new();
    }
    format!(
        "Note: Copilot CLI ends a turn after {COPILOT_STOP_CAP} held turn ends in one prompt, whatever is done between \
         them, so this loop runs at most {most} iterations in this prompt; portcullis lets it go at the {most}th with \
         what is still open. Continue it with a new prompt.\n"
    )
}

fn run(cli: Cli, env: &Env) -> Result<String, String> {
    let Top::Loop {
        command,
        session,
        project,
    } = cli.command;
    let project = cli_project(project, env);
    let top = StateDir::for_project(env, &project);
    let session = session
        .or_else(|| env.var(SESSION_ENV))
        .filter(|s| !s.is_empty());
    let deadline = Deadline::after(Duration::from_secs(10));
    let err = |e: portcullis_core::Error| e.to_string();
    match command {
        LoopCommand::Start {
            promise,
            max_iterations,
            prompt,
        } => {
            // A broken config is reported here rather than at the first Stop.
            Config::load(env, &project, Schema::hook(crate::IterationLimit::SECTIONS))
                .map_err(err)?;
            if !(1..=MAX_ITERATIONS).contains(&max_iterations) {
                return Err(format!(
                    "--max-iterations must be 1 to {MAX_ITERATIONS} (found {max_iterations})"
                ));
            }
            if promise.trim().is_empty() || promise.contains('\n') {
                return Err("--promise must be one non-empty line".into());
            }
            let armed = PromiseLoop {
                active: true,
                promise,
                prompt: prompt.join(" "),
                max_iterations,
                iteration: 0,
                armed_at: chrono::Utc::now().to_rfc3339(),
            };
            let (dir, whose) = match &session {
                Some(id) => (top.session(id).map_err(err)?, format!("session {id}")),
                None => (
                    top.clone(),
                    "the next session that stops in this project".to_owned(),
                ),
            };
            dir.update::<PromiseLoop, _>(&deadline, |l| *l = armed.clone())
                .map_err(err)?;
            let mut out = format!(
                "Loop armed for {whose}: up to {max_iterations} iterations, until the answer is exactly <promise>{}</promise>.\n",
                armed.promise
            );
            out.push_str(&copilot_note(env, max_iterations));
            Ok(out)
        }
        LoopCommand::Cancel => {
            let mut out = String::new();
            for (name, dir) in loops(&top, session.as_deref()).map_err(err)? {
                dir.reset::<PromiseLoop>(&deadline).map_err(err)?;
                let _ = writeln!(out, "Cancelled the loop of {name}.");
            }
            if out.is_empty() {
                out.push_str("No loop is armed.\n");
            }
            Ok(out)
        }
        LoopCommand::Status => {
            let mut out = String::new();
            for (name, dir) in loops(&top, session.as_deref()).map_err(err)? {
                let (l, _) = dir.load::<PromiseLoop>().map_err(err)?;
                let _ = writeln!(
                    out,
                    "{name}: iteration {} of {}, promise <promise>{}</promise>, armed {}",
                    l.iteration, l.max_iterations, l.promise, l.armed_at
                );
            }
            if out.is_empty() {
                out.push_str("No loop is armed.\n");
            }
            Ok(out)
        }
    }
}

/// The armed loops: the session's, or (without one) the pending one and every session's.
fn loops(
    top: &StateDir,
    session: Option<&str>,
) -> portcullis_core::Result<Vec<(String, StateDir)>> {
    let mut dirs = Vec::new();
    if let Some(id) = session {
        dirs.push((format!("session {id}"), top.session(id)?));
    } else {
        dirs.push(("the next session to stop (pending)".to_owned(), top.clone()));
        for id in session_ids(top.path()) {
            dirs.push((format!("session {id}"), top.session(&id)?));
        }
    }
    let mut armed = Vec::new();
    for (name, dir) in dirs {
        if dir.load::<PromiseLoop>()?.0.active {
            armed.push((name, dir));
        }
    }
    Ok(armed)
}

/// Every session folder with a loop file.
fn session_ids(top: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(top.join("sessions")) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .flatten()
        .filter(|e| {
            e.path()
                .join(format!("{}.json", PromiseLoop::NAME))
                .exists()
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids
}
