//! The run loop every hook binary shares: bounded stdin, parse, decide, render, log, exit.
//!
//! | situation | stdout | stderr | exit |
//! |---|---|---|---|
//! | allow, nothing to add | empty | empty | 0 |
//! | deny / ask / block / context / warning | verdict JSON | empty | 0 |
//! | error, [`Failure::Open`] | empty | `portcullis <hook>: <cause>` | 1 |
//! | error, [`Failure::Closed`] | empty | a reason Claude can act on | 2 |
//! | panic | empty | one line | by policy |
//! | `PORTCULLIS_DISABLED` set | empty | empty | 0 |
//!
//! Exit 1 with empty stdout blocks nothing (Claude Code shows the user a notice and goes on; Codex marks
//! the run failed and goes on; Gemini warns and goes on). Exit 2 blocks the action and feeds stderr to the
//! model. Copilot CLI differs: it denies a tool call whose hook exits 1 and hides an exit 2's reason, so
//! there a failure exits 0 ([`fail_in`]).
//! `--client codex` (what `portcullis install --client codex` registers) names the client for certain;
//! without it the client is recognised from the event ([`crate::Client::detect`]). Any other arguments
//! mean a person at a terminal: [`Hook::command`] handles them instead.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use crate::budget;
use crate::client::Client;
use crate::ctx::Ctx;
use crate::deadline::Deadline;
use crate::env::Env;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::hook::{Failure, Hook};
use crate::log::{self, LogEntry};
use crate::verdict;

/// The entry point of every hook binary: `fn main() -> ExitCode { portcullis_core::run::<MyHook>() }`.
#[must_use]
pub fn run<H: Hook>() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let client = match take_client_flag(&mut args) {
        Ok(c) => c,
        Err(e) => {
            install_panic_hook(H::NAME, H::ON_ERROR, None);
            return fail(H::NAME, Failure::Open, &e);
        }
    };
    install_panic_hook(H::NAME, H::ON_ERROR, client);
    if !args.is_empty() {
        return H::command(args);
    }
    let env = Env::Process;
    if env.var(env_vars::PORTCULLIS_DISABLED).is_some() {
        return ExitCode::SUCCESS;
    }
    let cap = env
        .var(env_vars::PORTCULLIS_MAX_STDIN)
        .and_then(|v| v.parse().ok())
        .unwrap_or(budget::MAX_STDIN_BYTES);
    run_once::<H>(&mut io::stdin().lock(), cap, env, client)
}

/// Removes a leading `--client NAME` (or `--client=NAME`) from the arguments: the client the hook is
/// registered for. `Err` for a name no client has.
pub fn take_client_flag(args: &mut Vec<OsString>) -> Result<Option<Client>> {
    let Some(first) = args.first().and_then(|a| a.to_str()) else {
        return Ok(None);
    };
    let (name, used) = if let Some(v) = first.strip_prefix("--client=") {
        (v.to_owned(), 1)
    } else if first == "--client" {
        match args.get(1).and_then(|a| a.to_str()) {
            Some(v) => (v.to_owned(), 2),
            None => {
                return Err(Error::Other(
                    "--client needs a name: claude, codex, gemini or copilot".into(),
                ));
            }
        }
    } else {
        return Ok(None);
    };
    let client = Client::parse(&name).ok_or_else(|| {
        Error::Other(format!(
            "--client {name}: unknown client (claude, codex, gemini or copilot)"
        ))
    })?;
    args.drain(..used);
    Ok(Some(client))
}

/// One run on the given input: the testable body of [`run`]. `client` is the one named on the command
/// line, if any.
pub fn run_once<H: Hook>(
    input: &mut dyn Read,
    cap: u64,
    env: Env,
    client: Option<Client>,
) -> ExitCode {
    let started = Instant::now();
    let deadline = Deadline::after(H::DEADLINE);
    let event = match read_capped(input, cap).and_then(|bytes| Event::parse_as(&bytes, client)) {
        Ok(e) => e,
        Err(e) => return fail_in(H::NAME, H::ON_ERROR, &e, client),
    };
    let ctx = Ctx::for_event(H::NAME, &event, env, deadline).with_sections(H::SECTIONS);
    let verdict = match decide_with(H::decide, &event, &ctx) {
        Ok(v) => v,
        Err(e) => {
            record(&event, &ctx, "error", &e.to_string(), started);
            return fail_in(H::NAME, H::ON_ERROR, &e, Some(event.client));
        }
    };
    for note in ctx.take_notes() {
        record(&event, &ctx, "warning", &note, started);
    }
    let name = event.name();
    if let Some(json) = verdict.render_for(&name, event.client)
        && let Err(e) = verdict::emit(&json)
    {
        // Claude Code closed our stdout: nobody is listening for a verdict anymore.
        return fail_in(
            H::NAME,
            H::ON_ERROR,
            &Error::Other(format!("writing verdict: {e}")),
            Some(event.client),
        );
    }
    if let Some(mark) = &verdict.log_mark {
        let text = verdict
            .reasons
            .iter()
            .chain(&verdict.context)
            .chain(&verdict.user_messages)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n");
        record_with(
            &event,
            &ctx,
            Logged {
                verdict: mark.verdict,
                reason: &text,
                held: verdict.holds(),
                detail: Some(mark.detail.clone()),
            },
            started,
        );
    } else if verdict.is_silent() {
        if ctx.env.var(env_vars::PORTCULLIS_LOG_ALLOWS).is_some() {
            record(&event, &ctx, "allow", "", started);
        }
    } else {
        let text = if verdict.reasons.is_empty() {
            verdict
                .context
                .iter()
                .chain(&verdict.user_messages)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        } else {
            verdict.reason_text()
        };
        record_with(
            &event,
            &ctx,
            Logged {
                verdict: verdict.label(&name),
                reason: &text,
                held: verdict.holds(),
                detail: None,
            },
            started,
        );
    }
    if let Some(line) = crate::warnings::one_line(H::NAME, &crate::warnings::take()) {
        let _ = writeln!(io::stderr().lock(), "{line}");
    }
    ExitCode::SUCCESS
}

/// What the run loop does with a parsed event short of rendering and logging: the continuation of a held
/// turn passes (Gemini, Copilot: [`crate::continuation`]), a tool event counts as the agent's progress,
/// the hook decides, and a Stop verdict passes through the stop chain ([`crate::stop_chain`]). In-process
/// callers (unit tests, the fuzzer) use it to get the binary's verdict.
pub fn decide_with(
    decide: crate::hook::DecideFn,
    event: &Event,
    ctx: &Ctx,
) -> Result<crate::Verdict> {
    if crate::continuation::before_agent(event, ctx) {
        return Ok(crate::Verdict::allow());
    }
    crate::stop_chain::progress(event, ctx);
    decide(event, ctx).map(|v| crate::stop_chain::apply(event, ctx, v))
}

/// Appends one entry to the decision log unless logging is off. A log failure costs one stderr line,
/// never the verdict.
fn record(event: &Event, ctx: &Ctx, verdict: &str, reason: &str, started: Instant) {
    record_with(
        event,
        ctx,
        Logged {
            verdict,
            reason,
            held: false,
            detail: None,
        },
        started,
    );
}

/// What one log entry says of a verdict.
struct Logged<'a> {
    /// The label (`deny`, `block`, a hook's own marker).
    verdict: &'a str,
    reason: &'a str,
    /// The verdict denied the call or held the stop, whatever its label.
    held: bool,
    detail: Option<serde_json::Value>,
}

/// [`record`] with all of [`Logged`].
fn record_with(event: &Event, ctx: &Ctx, logged: Logged<'_>, started: Instant) {
    let Logged {
        verdict,
        reason,
        held,
        detail,
    } = logged;
    if ctx.config().is_ok_and(|c| !c.log.enabled) {
        return;
    }
    let entry = LogEntry {
        time: ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        session: event.session_id.clone().unwrap_or_default(),
        agent: event.agent_key().to_owned(),
        agent_type: event.agent_type.clone(),
        held,
        // Only for what held the agent, the entries `portcullis anneal` diagnoses: a path on every line
        // would double the log of a busy session for nothing.
        transcript: held
            .then(|| {
                event
                    .agent_transcript_path
                    .clone()
                    .or_else(|| event.transcript_path.clone())
            })
            .flatten(),
        hook: ctx.hook.to_owned(),
        event: event.name().as_str().to_owned(),
        tool: event.tool().map(str::to_owned),
        verdict: verdict.to_owned(),
        reason: reason.to_owned(),
        micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        detail,
    };
    // No log folder is made where no project is known to be.
    let state = ctx.state();
    if let Err(e) = state
        .may_create()
        .and_then(|()| log::append(&state.log_path(), &entry, &ctx.deadline))
    {
        ctx.warn(&format!("decision log: {e}"));
    }
}

/// Reads at most `cap` bytes; more is an error and nothing further is read.
pub fn read_capped(input: &mut dyn Read, cap: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Error::ReadInput)?;
    if bytes.len() as u64 > cap {
        return Err(Error::InputTooLarge { cap });
    }
    Ok(bytes)
}

/// Maps an error to the hook's policy: one stderr line, exit 1 (open) or 2 (closed). Warnings collected so
/// far are dropped: the failure line says what went wrong.
#[must_use]
pub fn fail(hook: &str, policy: Failure, error: &Error) -> ExitCode {
    fail_in(hook, policy, error, None)
}

/// [`fail`] in `client`'s terms. Copilot CLI denies a tool call whose hook exits 1 ("hook errored") and
/// hides the reason of an exit 2, and a Stop hook's exit code never holds the turn (PROTOCOL-COPILOT.md
/// §5): there a hook that fails open exits 0 with nothing on stdout (the stderr line stays), and one that
/// fails closed answers a deny and a hold with its reason ([`closed_answer`]) and exits 0.
#[must_use]
pub fn fail_in(hook: &str, policy: Failure, error: &Error, client: Option<Client>) -> ExitCode {
    let _ = crate::warnings::take();
    let line = failure_line(hook, policy, &error.to_string());
    let _ = writeln!(io::stderr().lock(), "{line}");
    exit_for(policy, client, &line)
}

/// The exit code of a failure under `policy` in `client` (see [`fail_in`]); in Copilot, a closed failure's
/// answer is written to stdout first.
fn exit_for(policy: Failure, client: Option<Client>, line: &str) -> ExitCode {
    ExitCode::from(failure_code(policy, client, line))
}

/// [`exit_for`] as a number, for the panic hook, which exits by itself.
fn failure_code(policy: Failure, client: Option<Client>, line: &str) -> u8 {
    if client != Some(Client::Copilot) {
        return policy.code();
    }
    if policy == Failure::Closed {
        let _ = verdict::emit(&closed_answer(line));
    }
    0
}

/// What a hook that fails closed answers Copilot, whatever the event: a PreToolUse deny (read from
/// `hookSpecificOutput`) and a top-level block (read at Stop and PostToolUse), both with the reason.
#[must_use]
pub fn closed_answer(reason: &str) -> serde_json::Value {
    serde_json::json!({
        "decision": "block",
        "reason": reason,
        "hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": reason},
    })
}

/// The one stderr line for a failure (newlines folded so it stays one line).
#[must_use]
pub fn failure_line(hook: &str, policy: Failure, cause: &str) -> String {
    let cause = cause.replace(['\n', '\r'], " ");
    match policy {
        Failure::Open => format!("portcullis {hook}: {cause}"),
        Failure::Closed => format!(
            "portcullis {hook} could not check this action ({cause}); it is blocked to be safe. \
             Retry once; if it fails again, tell the user that `portcullis doctor` should be run."
        ),
    }
}

fn install_panic_hook(hook: &'static str, policy: Failure, client: Option<Client>) {
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let line = failure_line(hook, policy, &format!("internal error: {what}{at}"));
        let _ = writeln!(io::stderr().lock(), "{line}");
        let code = i32::from(failure_code(policy, client, &line));
        // The one place that exits directly: the policy's code must win over the default panic exit (101,
        // or SIGABRT under panic = "abort"). Release builds unwind so that portcullis-shell can catch its
        // parser's panics, which it does with this hook swapped out.
        #[allow(clippy::exit)]
        std::process::exit(code);
    }));
}
