//! iteration-limit: repeated attempts are capped, and "iterate until done" loops end on a promise.
//!
//! - **Attempt cap** (`PreToolUse`, reset at `UserPromptSubmit` and whenever the `prompt_id` changes):
//!   per agent and per call (a Bash command with its whitespace collapsed, or the tool and its input as
//!   canonical JSON), attempts are counted; past `iteration_limit.max_attempts` (10) the call is denied
//!   with the count and advice to step back and report. Tools in `iteration_limit.exempt_tools` (reading
//!   is not retrying) are not counted.
//! - **Completion promise** (`Stop`): `iteration-limit loop start --promise TEXT -- PROMPT` arms a loop
//!   ([`promise`]). Each Stop of that session is blocked with the prompt fed back as the reason, until the
//!   final answer is exactly `<promise>TEXT</promise>` or the iteration cap is reached (then allowed, with a
//!   `systemMessage`).
//! - **Claude Code's 8-block cap**: every re-fed prompt is a blocked Stop within one turn, so a loop runs
//!   at most `stop.max_consecutive_blocks` + 1 iterations (7 by default). `loop start` refuses a larger
//!   `--max-iterations`, so the loop always ends by its own counter, with its own message, before the
//!   shared stop cap or the client's cap would cut it.
//! - **`ON_ERROR`**: [`Failure::Open`]: a broken counter must not stop work; a loop that cannot be read
//!   simply does not continue.
//! - **State**: `sessions/<id>/attempts.json`, `sessions/<id>/promise-loop.json`, and a loop armed for
//!   "the next session that stops" at `<state>/promise-loop.json`.

pub mod cli;
pub mod promise;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::ExitCode;

use portcullis_core::config::{IterationLimitConfig, Mode};
use portcullis_core::state::{StateFile, stable_hash};
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Result, Verdict};
use serde::{Deserialize, Serialize};

/// The most distinct calls counted per agent and prompt (a bound on state size); further new calls are
/// not counted.
pub const MAX_CALLS: usize = 512;

/// The most agents counted per prompt.
pub const MAX_AGENTS: usize = 64;

/// The hook.
pub struct IterationLimit;

/// Attempts per agent and call, within one prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attempts {
    /// The prompt being counted.
    pub prompt: Option<String>,
    /// Agent key → call key → count.
    pub agents: BTreeMap<String, BTreeMap<String, u32>>,
}

impl StateFile for Attempts {
    const NAME: &'static str = "attempts";
    const SCHEMA_VERSION: u32 = 1;
}

impl Hook for IterationLimit {
    const NAME: &'static str = "iteration-limit";
    const ON_ERROR: Failure = Failure::Open;

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::PreToolUse => count_attempt(event, ctx),
            EventName::UserPromptSubmit => {
                let state = ctx.state().session(event.session()?)?;
                if state.load::<Attempts>()?.0 != Attempts::default() {
                    state.reset::<Attempts>(&ctx.deadline)?;
                }
                Ok(Verdict::allow())
            }
            EventName::Stop => promise::on_stop(event, ctx),
            _ => Ok(Verdict::allow()),
        }
    }

    fn command(args: Vec<OsString>) -> ExitCode {
        cli::main_with(args)
    }
}

/// One call, as counted: a Bash command with whitespace collapsed, or the tool and its canonical input.
/// Returns the key and a short label for messages.
#[must_use]
pub fn call_key(tool: &str, input: &str) -> (String, String) {
    let value = serde_json::from_str::<serde_json::Value>(input).unwrap_or_default();
    if tool == "Bash" {
        if let Some(cmd) = value.get("command").and_then(serde_json::Value::as_str) {
            let cmd = cmd.split_whitespace().collect::<Vec<_>>().join(" ");
            let label = format!("Bash: {}", shorten(&cmd, 80));
            return (format!("Bash\0{cmd}"), label);
        }
    }
    let canonical = value.to_string();
    (
        format!("{tool}\0{canonical}"),
        format!("{tool} with the same input"),
    )
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

fn count_attempt(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let config = &ctx.config()?.iteration_limit;
    if config.mode == Mode::Off {
        return Ok(Verdict::allow());
    }
    let Some(tool) = event.tool() else {
        return Ok(Verdict::allow());
    };
    if config.exempt_tools.iter().any(|t| t == tool) {
        return Ok(Verdict::allow());
    }
    let input = event.tool_input.as_ref().map_or("null", |r| r.get());
    let (key, label) = call_key(tool, input);
    // Keys are stored hashed-short: the full command can be long.
    let key = format!("{:016x}", stable_hash(key.bytes()));
    let agent = event.agent_key().to_owned();
    let prompt = event.prompt_id.clone();
    let state = ctx.state().session(event.session()?)?;
    let count = state.update::<Attempts, _>(&ctx.deadline, |a| {
        if a.prompt != prompt {
            *a = Attempts {
                prompt: prompt.clone(),
                ..Attempts::default()
            };
        }
        if !a.agents.contains_key(&agent) && a.agents.len() >= MAX_AGENTS {
            return 0;
        }
        let calls = a.agents.entry(agent.clone()).or_default();
        if !calls.contains_key(&key) && calls.len() >= MAX_CALLS {
            return 0;
        }
        let n = calls.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    })?;
    Ok(verdict_for(count, &label, config))
}

/// The verdict for the `count`th attempt of a call.
#[must_use]
pub fn verdict_for(count: u32, label: &str, config: &IterationLimitConfig) -> Verdict {
    let max = config.max_attempts;
    if count <= max {
        return Verdict::allow();
    }
    let text = format!(
        "[iteration-limit] This is attempt {count} of the same call in this prompt (`{label}`); the limit is \
         {max}. Repeating it has not worked. Step back: tell the user what you tried, what happened, and what \
         you need to go on."
    );
    match config.mode {
        Mode::Enforce => Verdict::deny(text),
        _ => Verdict::allow().with_user_message(text),
    }
}
