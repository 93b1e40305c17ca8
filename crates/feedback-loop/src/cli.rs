//! `feedback-loop status | record | reset`: the ledger by hand.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use portcullis_core::Hook;
use portcullis_core::cli::{finish_command, parse_command};
use portcullis_core::config::{Config, Schema};
use portcullis_core::ctx::cli_project;
use portcullis_core::state::{StateDir, StateFile};
use portcullis_core::{Deadline, Env};
use portcullis_domains::AgentCatalog;
use serde_json::json;

use crate::ledger::{Heard, Ledger, Outcome, Phase, Recorded};
use crate::rules::{self, Need, Rules};

/// feedback-loop: which modified domains still need review and testing in a Claude Code session. Without
/// a subcommand it is the hook (one event on stdin).
#[derive(Debug, Parser)]
#[command(
    name = "feedback-loop",
    version,
    about,
    long_about = None,
    after_help = "Hook mode: the client runs it with one hook event as JSON on stdin.\n\nUsage: feedback-loop [--client claude|codex|gemini|copilot] < EVENT.json\n  --client NAME  the client the event comes from (recognised from the event when left out)\n\nExamples:\n  feedback-loop status\n  feedback-loop record --domain backend --phase testing --result pass"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The session (default: the one whose record changed last).
    #[arg(long, value_name = "ID", global = true)]
    session: Option<String>,
    /// The project (default: $CLAUDE_PROJECT_DIR, else the one around the current folder).
    #[arg(long, value_name = "DIR", global = true)]
    project: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show modified domains, their files, each phase and the round.
    Status {
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Record a verdict from another workflow (a CI run, a human review).
    Record {
        /// The domain.
        #[arg(long)]
        domain: String,
        /// The phase.
        #[arg(long, value_enum)]
        phase: PhaseArg,
        /// The result.
        #[arg(long, value_enum)]
        result: ResultArg,
    },
    /// Forget the session's record (modified domains, verdicts, rounds).
    Reset,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PhaseArg {
    Review,
    Testing,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ResultArg {
    Pass,
    Fail,
}

/// Runs the command line (`args` without the program name).
#[must_use]
pub(crate) fn main_with(args: Vec<OsString>) -> ExitCode {
    let cli = match parse_command::<Cli>("feedback-loop", args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    finish_command(
        "feedback-loop",
        run(cli, &Env::Process).map(|text| (text, 0)),
    )
}

fn run(cli: Cli, env: &Env) -> Result<String, String> {
    let project = cli_project(cli.project, env);
    let top = StateDir::for_project(env, &project);
    let session = match cli.session {
        Some(id) => id,
        None => newest_session(top.path()).ok_or_else(|| {
            format!(
                "no session has changes on record in `{}`; pass --session ID",
                top.path().display()
            )
        })?,
    };
    let dir = top.session(&session).map_err(|e| e.to_string())?;
    let config = Config::load(env, &project, Schema::hook(crate::FeedbackLoop::SECTIONS))
        .and_then(|c| c.section::<crate::FeedbackLoopConfig>())
        .map_err(|e| e.to_string())?;
    let rules = Rules::new(&config).map_err(|e| e.to_string())?;
    let deadline = Deadline::after(Duration::from_secs(10));
    match cli.command {
        Command::Status { json } => {
            let (ledger, _) = dir.load::<Ledger>().map_err(|e| e.to_string())?;
            let catalog = AgentCatalog::discover(&project, env.claude_home().as_deref());
            Ok(status(&session, &ledger, &rules, &catalog, &project, json))
        }
        Command::Record {
            domain,
            phase,
            result,
        } => {
            let phase = match phase {
                PhaseArg::Review => Phase::Review,
                PhaseArg::Testing => Phase::Testing,
            };
            let outcome = match result {
                ResultArg::Pass => Outcome::Pass,
                ResultArg::Fail => Outcome::Fail,
            };
            let heard = Heard {
                domain: domain.clone(),
                phase: Some(phase),
                by: "`feedback-loop record`".into(),
                at: chrono::Utc::now().to_rfc3339(),
                detail: format!(
                    "recorded by hand: {phase} {}",
                    if outcome == Outcome::Pass {
                        "pass"
                    } else {
                        "fail"
                    }
                ),
            };
            let recorded = dir
                .update::<Ledger, _>(&deadline, |l| l.record(phase, outcome, heard))
                .map_err(|e| e.to_string())?;
            match recorded {
                Recorded::Set => Ok(format!("{domain}: {phase} recorded\n")),
                Recorded::ResetAll => Ok(format!(
                    "{domain}: testing failed; every modified domain is pending again\n"
                )),
                Recorded::NotModified => Err(format!(
                    "the `{domain}` domain has no changes on record in session {session}"
                )),
            }
        }
        Command::Reset => {
            dir.reset::<Ledger>(&deadline).map_err(|e| e.to_string())?;
            Ok(format!("session {session}: record cleared\n"))
        }
    }
}

/// The session folder whose ledger changed last.
fn newest_session(state: &Path) -> Option<String> {
    let sessions = std::fs::read_dir(state.join("sessions")).ok()?;
    sessions
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.path().join(format!("{}.json", Ledger::NAME));
            let modified = file.metadata().ok()?.modified().ok()?;
            Some((modified, e.file_name().to_string_lossy().into_owned()))
        })
        .max()
        .map(|(_, id)| id)
}

fn need_text(need: &Need) -> String {
    match need {
        Need::Yes { how } => how.clone(),
        Need::Skipped { why } => format!("skipped: {why}"),
    }
}

fn status(
    session: &str,
    ledger: &Ledger,
    rules: &Rules,
    catalog: &AgentCatalog,
    project: &Path,
    json: bool,
) -> String {
    let checks = match rules.check(ledger, catalog, project) {
        Ok(c) => c,
        Err(e) => return format!("feedback-loop: {e}\n"),
    };
    if json {
        let domains: Vec<_> = checks
            .iter()
            .map(|c| {
                let state = &ledger.domains[&c.domain];
                json!({
                    "domain": c.domain,
                    "files": state.files,
                    "more_files": state.more_files,
                    "review": {"status": c.review.1, "need": c.review.0, "heard": state.review.heard},
                    "testing": {"status": c.testing.1, "need": c.testing.0, "heard": state.testing.heard},
                    "missing": c.missing(),
                })
            })
            .collect();
        let v = json!({
            "session": session,
            "iteration": ledger.iteration,
            "max_iterations": rules.max_iterations,
            "clean": ledger.is_clean(),
            "verified": checks.iter().all(|c| c.missing().is_empty()),
            "domains": domains,
            "last_failure": ledger.last_failure,
        });
        return format!("{v}\n");
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "session {session}: round {} of {}",
        ledger.iteration + 1,
        rules.max_iterations
    );
    if ledger.is_clean() {
        let _ = writeln!(t, "nothing modified since the last verified stop");
        return t;
    }
    t.push_str(&phase_table(&checks, ledger));
    if let Some(f) = &ledger.last_failure {
        let _ = writeln!(
            t,
            "last failed test: {} in `{}` ({})",
            f.by, f.domain, f.detail
        );
    }
    let missing = checks.iter().any(|c| !c.missing().is_empty());
    let _ = writeln!(
        t,
        "{}",
        if missing {
            "the main thread's Stop is blocked until every required phase passes"
        } else {
            "verified: the next Stop clears this record"
        }
    );
    t
}

/// The phases of every modified domain as one table, its columns as wide as their widest cell (issue 36:
/// the phase's status, who set it and what to do ran together on one line).
fn phase_table(checks: &[rules::DomainCheck], ledger: &Ledger) -> String {
    let mut t = String::new();
    let mut rows: Vec<[String; 4]> = vec![[
        "phase".into(),
        "status".into(),
        "heard from".into(),
        "to pass".into(),
    ]];
    let mut heads: Vec<(usize, String)> = Vec::new();
    for c in checks {
        let state = &ledger.domains[&c.domain];
        heads.push((
            rows.len(),
            format!("{} ({})", c.domain, rules::files_text(state)),
        ));
        for (phase, (need, status), heard) in [
            (Phase::Review, &c.review, &state.review.heard),
            (Phase::Testing, &c.testing, &state.testing.heard),
        ] {
            let skipped = matches!(need, Need::Skipped { .. });
            let mut status_text = if skipped {
                "-".to_owned()
            } else {
                status.as_str().to_owned()
            };
            let untested = state.untested().len();
            if phase == Phase::Testing && !state.tested.is_empty() && untested > 0 {
                status_text = format!("{status_text} ({untested} untested)");
            }
            let heard = heard
                .as_ref()
                .map_or_else(|| "-".to_owned(), |h| format!("{} ({})", h.by, h.detail));
            let to_pass = if *status == crate::ledger::Status::Pass && !skipped {
                "-".to_owned()
            } else {
                need_text(need)
            };
            rows.push([phase.as_str().to_owned(), status_text, heard, to_pass]);
        }
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for (at, row) in rows.iter().enumerate() {
        for (_, head) in heads.iter().filter(|(h, _)| *h == at) {
            let _ = writeln!(t, "{head}");
        }
        let _ = writeln!(
            t,
            "  {:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    t
}
