//! iteration-limit: repeated attempts are capped, and "iterate until done" loops end on a promise.
//!
//! - **Attempt cap** (`PreToolUse`, reset at `UserPromptSubmit` and whenever the `prompt_id` changes):
//!   per agent and per call (a Bash command with its whitespace collapsed, or the tool and its input as
//!   canonical JSON), attempts are counted; past `iteration_limit.max_attempts` (10) the call is denied
//!   with the count and advice to step back and report. Tools in `iteration_limit.exempt_tools` (reading
//!   is not retrying) are not counted.
//! - **Completion promise** (`Stop`): `iteration-limit loop start --promise TEXT -- PROMPT` arms a loop
//!   (`promise`). Each Stop of that session is blocked with the prompt fed back as the reason, until the
//!   final answer is exactly `<promise>TEXT</promise>` or the iteration cap is reached (then allowed, with a
//!   `systemMessage`).
//! - **Long loops**: the client's cap of 8 blocked stops restarts at every tool call, and so does the
//!   shared stop chain ([`portcullis_core::stop_chain`]), so a loop whose iterations do work runs to its own
//!   `--max-iterations` (default 10, up to 10,000) and ends on its own counter with its own message. An
//!   iteration that answers text only makes no progress: six of those in a row and the stop chain lets the
//!   turn end, with the loop's prompt named as what was still wanted.
//! - **`ON_ERROR`**: [`Failure::Open`]: a broken counter must not stop work; a loop that cannot be read
//!   simply does not continue.
//! - **State**: `sessions/<id>/attempts.json`, `sessions/<id>/promise-loop.json`, and a loop armed for
//!   "the next session that stops" at `<state>/promise-loop.json`.

mod cli;
mod config;
mod promise;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::ExitCode;

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::state::{StateFile, stable_hash};
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};

pub use config::IterationLimitConfig;
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
    const SUMMARY: &'static str = "Attempts of one call are capped per agent and prompt (10); `iteration-limit loop start --promise TEXT -- PROMPT` feeds the prompt back at each Stop until the answer is exactly <promise>TEXT</promise>.";
    const EVENTS: &'static [Registration] = &[
        // Calls that change something or cost something; reads never spawn the hook at all.
        Registration::matching(
            "PreToolUse",
            "^(Bash|Write|Edit|MultiEdit|NotebookEdit|Agent|Task|WebFetch|WebSearch|Skill|mcp__.*)$",
        ),
        Registration::every("UserPromptSubmit"),
        Registration::every("Stop"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<IterationLimitConfig>()];

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
    if tool == "Bash"
        && let Some(cmd) = value.get("command").and_then(serde_json::Value::as_str)
    {
        let cmd = cmd.split_whitespace().collect::<Vec<_>>().join(" ");
        let label = format!("Bash: {}", shorten(&cmd, 80));
        return (format!("Bash\0{cmd}"), label);
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
    let config = &ctx.section::<IterationLimitConfig>()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::Decision;
    use portcullis_testkit::decide::TestProject;
    use serde_json::json;

    #[test]
    fn the_attempt_past_the_cap_is_denied_and_reads_are_exempt() {
        let p = TestProject::new();
        let config = json!({"iteration_limit": {"max_attempts": 2}});
        let bash = p.event(
            "PreToolUse-Bash",
            &json!({"prompt_id": "p1", "tool_input": {"command": "cargo build"}}),
        );
        for _ in 0..2 {
            let ctx = p.ctx::<IterationLimit>().config(&config).build();
            assert_ne!(
                IterationLimit::decide(&bash, &ctx).unwrap().decision,
                Decision::Block
            );
        }
        let ctx = p.ctx::<IterationLimit>().config(&config).build();
        let v = IterationLimit::decide(&bash, &ctx).unwrap();
        assert_eq!(v.decision, Decision::Block);
        assert!(
            v.reason_text().contains("cargo build"),
            "{}",
            v.reason_text()
        );
        let read = p.event("PreToolUse-Read", &json!({"prompt_id": "p1"}));
        for _ in 0..3 {
            let ctx = p.ctx::<IterationLimit>().config(&config).build();
            assert!(IterationLimit::decide(&read, &ctx).unwrap().is_silent());
        }
    }

    #[test]
    fn a_new_prompt_starts_the_count_again() {
        let p = TestProject::new();
        let config = json!({"iteration_limit": {"max_attempts": 1}});
        let call = |prompt: &str| {
            let e = p.event(
                "PreToolUse-Bash",
                &json!({"prompt_id": prompt, "tool_input": {"command": "make"}}),
            );
            IterationLimit::decide(&e, &p.ctx::<IterationLimit>().config(&config).build()).unwrap()
        };
        assert_ne!(call("a").decision, Decision::Block);
        assert_eq!(call("a").decision, Decision::Block);
        assert_ne!(call("b").decision, Decision::Block);
    }
}
