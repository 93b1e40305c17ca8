//! loop-detect: an agent that repeats itself is stuck; it is told so, and so is the user.
//!
//! - **Events**: `Stop` and `SubagentStop` (near-identical outputs); `PostToolUse` and
//!   `PostToolUseFailure` (the same call failing again and again).
//! - **Stuck outputs**: per agent (the main thread, or each `agent_id`) and per prompt, the last
//!   `loop_detect.window` (3) final outputs are kept, from `last_assistant_message` (the transcript's last
//!   assistant text only when that field is absent). When all of them are pairwise more than
//!   `loop_detect.threshold` (0.9) alike by [`similarity`], the agent is stuck. Empty outputs are not
//!   counted. After a report the window restarts from the latest output, so a loop that goes on is
//!   reported again every `window - 1` outputs.
//! - **Progress is not a loop**: each output carries a fingerprint of the agent's tool calls since its
//!   previous output in the prompt ([`Work`], counted at `PostToolUse`/`PostToolUseFailure` only once an
//!   output of the prompt is on record). Outputs after different work are never stuck.
//! - **Stuck → escalate, not block**: the decision log gets a `stuck` entry (escalation-advisor reads
//!   it), Claude gets `additionalContext` (its last outputs were near-identical: change approach or report
//!   what blocks it; the stop chain gives it only when a gate holds the same stop, else it goes to the
//!   user), and the user a `systemMessage`. loop-detect never blocks, so it can never trap anyone.
//! - **Repeated failures**: when one exact call (tool and input) of one agent has failed
//!   `loop_detect.repeated_failures` (3) times with no success of that call in between, Claude gets
//!   `additionalContext`: it will not work a fourth time unchanged.
//! - **`ON_ERROR`**: [`Failure::Open`]: noticing a loop is advice; a broken state file must not stop work.
//! - **State**: `sessions/<id>/loop-detect.json` (outputs), `sessions/<id>/loop-work.json` (work since
//!   the last output) and `sessions/<id>/loop-failures.json` (failure counts), all bounded.

pub mod banded;
mod config;
pub mod similarity;
#[cfg(test)]
mod strategies;

use std::collections::BTreeMap;
use std::path::Path;

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::state::{StateFile, stable_hash};
use portcullis_core::transcript::{self, Thread};
use portcullis_core::{
    Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict, budget,
};

pub use config::LoopDetectConfig;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::similarity::{MAX_COMPARED, all_similar, comparable};

/// The most agents whose outputs or failures are kept per session; the least recently seen goes first.
/// (Outputs are up to 4 KiB each, so this bounds the state file near 200 KiB.)
pub const MAX_AGENTS: usize = 16;

/// The most distinct failing calls kept per agent.
pub const MAX_FAILING_CALLS: usize = 32;

/// The hook.
pub struct LoopDetect;

/// The recent outputs of every agent of a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Outputs {
    /// A counter that orders agents by when they were last seen.
    pub clock: u64,
    /// Agent key → its window.
    pub agents: BTreeMap<String, Window>,
}

/// One agent's last outputs within one prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Window {
    /// The prompt these outputs answer.
    pub prompt: Option<String>,
    /// When this agent was last seen ([`Outputs::clock`]).
    pub seen: u64,
    /// The comparable forms ([`similarity::comparable`]) of the last outputs, oldest first.
    pub outputs: Vec<String>,
    /// For each output, the work done since the answer before it ([`Work`]): `None` when that is not
    /// known (the first answer of a prompt). Answers after different work are progress, not a loop.
    pub works: Vec<Option<u64>>,
    /// How many times this agent was found stuck in this prompt.
    pub stuck: u32,
}

impl StateFile for Outputs {
    const NAME: &'static str = "loop-detect";
    const SCHEMA_VERSION: u32 = 1;
}

/// The tool calls each agent made since its last answer, as one fingerprint: kept apart from [`Outputs`]
/// (which holds whole answers) because every tool call of an agent between two answers of a prompt
/// updates it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Work {
    /// Agent key → what it did since its last answer in the prompt.
    pub agents: BTreeMap<String, AgentWork>,
}

/// One agent's work since its last answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentWork {
    /// The prompt of that answer: a tool call of another prompt starts nothing.
    pub prompt: Option<String>,
    /// The calls, chained: each the exact tool and input, and the output with numbers and ids masked.
    pub fingerprint: u64,
    /// How many calls.
    pub calls: u32,
}

impl StateFile for Work {
    const NAME: &'static str = "loop-work";
    const SCHEMA_VERSION: u32 = 1;
}

/// How much of a tool's output goes into a call's fingerprint.
const FINGERPRINT_OUTPUT_BYTES: usize = 64 << 10;

/// Failing calls per agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Failures {
    /// A counter that orders agents by when they were last seen.
    pub clock: u64,
    /// Agent key → its failing calls.
    pub agents: BTreeMap<String, AgentFailures>,
}

/// One agent's failing calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentFailures {
    /// When this agent was last seen ([`Failures::clock`]).
    pub seen: u64,
    /// Call key ([`call_key`]) → failures in a row.
    pub calls: BTreeMap<String, u32>,
}

impl StateFile for Failures {
    const NAME: &'static str = "loop-failures";
    const SCHEMA_VERSION: u32 = 1;
}

impl Hook for LoopDetect {
    const NAME: &'static str = "loop-detect";
    const SUMMARY: &'static str = "Near-identical final answers in a row, or one exact call failing again and again, mean an agent is stuck: Claude and the user are told, and the decision log records it.";
    // The main path first.
    const EVENTS: &'static [Registration] = &[
        Registration::every("Stop"),
        Registration::every("SubagentStop"),
        Registration::every("PostToolUse"),
        Registration::every("PostToolUseFailure"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<LoopDetectConfig>()];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        let config = &ctx.section::<LoopDetectConfig>()?;
        if config.mode == Mode::Off {
            return Ok(Verdict::allow());
        }
        match event.name() {
            EventName::Stop | EventName::SubagentStop => on_stop(event, ctx, config),
            EventName::PostToolUse => on_success(event, ctx),
            EventName::PostToolUseFailure => on_failure(event, ctx, config),
            _ => Ok(Verdict::allow()),
        }
    }
}

/// The final output of this stop: `last_assistant_message`, else the transcript's last assistant text.
fn final_output(event: &Event) -> Option<String> {
    if let Some(text) = &event.last_assistant_message {
        return Some(text.clone());
    }
    let (path, thread) = if event.name() == EventName::SubagentStop {
        (event.agent_transcript_path.as_deref()?, Thread::Any)
    } else {
        (event.transcript_path.as_deref()?, Thread::Main)
    };
    let tail = transcript::tail(
        Path::new(path),
        &["assistant"],
        thread,
        1,
        budget::TRANSCRIPT_SCAN_BYTES,
        |e| e.message.as_ref().is_some_and(|m| !m.text().is_empty()),
    )
    .ok()?;
    tail.entries
        .first()?
        .message
        .as_ref()
        .map(transcript::Message::text)
}

fn on_stop(event: &Event, ctx: &Ctx, config: &LoopDetectConfig) -> Result<Verdict> {
    let Some(text) = final_output(event) else {
        return Ok(Verdict::allow());
    };
    if text.trim().is_empty() {
        return Ok(Verdict::allow());
    }
    let form = String::from_utf8_lossy(&comparable(&text, MAX_COMPARED)).into_owned();
    let agent = event.agent_key().to_owned();
    let prompt = event.prompt_id.clone();
    let window = usize::try_from(config.window).unwrap_or(3);
    let state = ctx.state().session(event.session()?)?;
    let work = take_work(&state, ctx, &agent, prompt.as_deref())?;
    let found = state.update::<Outputs, _>(&ctx.deadline, |all| {
        all.clock += 1;
        let clock = all.clock;
        let w = all.agents.entry(agent.clone()).or_default();
        if w.prompt != prompt {
            *w = Window {
                prompt: prompt.clone(),
                ..Window::default()
            };
        }
        w.seen = clock;
        // A window written before works were kept: its outputs' work is unknown.
        w.works.resize(w.outputs.len(), None);
        w.outputs.push(form);
        w.works.push(work);
        let excess = w.outputs.len().saturating_sub(window);
        w.outputs.drain(..excess);
        w.works.drain(..excess);
        let stuck = w.outputs.len() == window && same_work(&w.works) && {
            let forms: Vec<Vec<u8>> = w.outputs.iter().map(|o| o.clone().into_bytes()).collect();
            all_similar(&forms, config.threshold)
        };
        if stuck {
            w.stuck += 1;
            w.outputs.drain(..window - 1);
            w.works.drain(..window - 1);
        }
        let times = w.stuck;
        evict(&mut all.agents, |w| w.seen);
        stuck.then_some(times)
    })?;
    let Some(times) = found else {
        return Ok(Verdict::allow());
    };
    let who = who(event);
    let percent = (config.threshold * 100.0).round();
    let context = format!(
        "[loop-detect] Your last {window} answers were near-identical (more than {percent}% alike). \
         Repeating the same answer will not end this. Change your approach, or, if something outside your \
         control blocks you, say exactly what it is and stop."
    );
    let message = format!(
        "[loop-detect] {who} gave {window} near-identical answers in a row{}: it looks stuck.",
        if times > 1 {
            format!(" (time {times} this prompt)")
        } else {
            String::new()
        }
    );
    let verdict = Verdict::allow().with_user_message(message).with_log_mark(
        "stuck",
        json!({"window": window, "threshold": config.threshold, "times": times}),
    );
    Ok(match config.mode {
        Mode::Enforce => verdict.with_context(context),
        _ => verdict,
    })
}

/// Whether the answers of a window came after the same work (unknown work matches any): answers after
/// different tool calls are progress, however alike they read ("Migrated module 4.", "… 5.", "… 6.").
fn same_work(works: &[Option<u64>]) -> bool {
    let mut known = works.iter().flatten();
    known.next().is_none_or(|first| known.all(|w| w == first))
}

/// The work the agent did since its last answer in this prompt, and a fresh start for the next: `None`
/// when nothing was counted (the first answer of the prompt).
fn take_work(
    state: &portcullis_core::state::StateDir,
    ctx: &Ctx,
    agent: &str,
    prompt: Option<&str>,
) -> Result<Option<u64>> {
    state.update::<Work, _>(&ctx.deadline, |all| {
        let done = all
            .agents
            .get(agent)
            .filter(|w| w.prompt.as_deref() == prompt)
            .map(|w| w.fingerprint);
        all.agents.insert(
            agent.to_owned(),
            AgentWork {
                prompt: prompt.map(str::to_owned),
                fingerprint: 0,
                calls: 0,
            },
        );
        // Bounded: agents of other prompts go first, then any other agent.
        if all.agents.len() > MAX_AGENTS {
            all.agents
                .retain(|k, w| k == agent || w.prompt.as_deref() == prompt);
        }
        while all.agents.len() > MAX_AGENTS {
            let Some(other) = all.agents.keys().find(|k| *k != agent).cloned() else {
                break;
            };
            all.agents.remove(&other);
        }
        done
    })
}

/// Adds a tool call to the agent's work since its last answer, when one is being counted (an answer of
/// this prompt came before). The common path, no answer on record, is one failed file open.
fn count_work(event: &Event, ctx: &Ctx) -> Result<()> {
    let state = ctx.state().session(event.session()?)?;
    let agent = event.agent_key();
    let prompt = event.prompt_id.as_deref();
    let (work, _) = state.load::<Work>()?;
    if work
        .agents
        .get(agent)
        .is_none_or(|w| w.prompt.as_deref() != prompt)
    {
        return Ok(());
    }
    let Some(key) = key_of(event) else {
        return Ok(());
    };
    let output = event.tool_response.as_ref().map_or("", |r| r.get());
    let cut = (0..=FINGERPRINT_OUTPUT_BYTES.min(output.len()))
        .rev()
        .find(|&i| output.is_char_boundary(i))
        .unwrap_or(0);
    let masked = similarity::normalise(&output[..cut], usize::MAX);
    let call = stable_hash(key.bytes().chain([0]).chain(masked));
    state.update::<Work, _>(&ctx.deadline, |all| {
        if let Some(w) = all.agents.get_mut(agent) {
            w.fingerprint = stable_hash(
                w.fingerprint
                    .to_le_bytes()
                    .into_iter()
                    .chain(call.to_le_bytes()),
            );
            w.calls = w.calls.saturating_add(1);
        }
    })
}

/// "the main thread" or "the subagent `type`".
fn who(event: &Event) -> String {
    if event.is_subagent() {
        format!(
            "The subagent `{}`",
            event.agent_type.as_deref().unwrap_or("?")
        )
    } else {
        "The main thread".to_owned()
    }
}

/// Drops the least recently seen agents beyond [`MAX_AGENTS`].
fn evict<T>(agents: &mut BTreeMap<String, T>, seen: impl Fn(&T) -> u64) {
    while agents.len() > MAX_AGENTS {
        let Some(oldest) = agents
            .iter()
            .min_by_key(|(_, v)| seen(v))
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        agents.remove(&oldest);
    }
}

/// One exact call: the tool and its input (as canonical JSON, keys sorted), hashed with [`stable_hash`].
#[must_use]
pub fn call_key(tool: &str, input: &str) -> String {
    let canonical = serde_json::from_str::<serde_json::Value>(input)
        .map_or_else(|_| input.to_owned(), |v| v.to_string());
    let hash = stable_hash(tool.bytes().chain([0]).chain(canonical.bytes()));
    format!("{tool}:{hash:016x}")
}

fn key_of(event: &Event) -> Option<String> {
    let tool = event.tool()?;
    let input = event.tool_input.as_ref().map_or("null", |r| r.get());
    Some(call_key(tool, input))
}

/// A success of a call that failed before clears its count. The common path (no failures on record)
/// is one failed file open.
fn on_success(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    count_work(event, ctx)?;
    let state = ctx.state().session(event.session()?)?;
    let agent = event.agent_key();
    let (failures, _) = state.load::<Failures>()?;
    let Some(failing) = failures.agents.get(agent).filter(|a| !a.calls.is_empty()) else {
        return Ok(Verdict::allow());
    };
    // Only now is the input worth parsing and hashing (a Write's input can be megabytes).
    let Some(key) = key_of(event) else {
        return Ok(Verdict::allow());
    };
    if failing.calls.contains_key(&key) {
        state.update::<Failures, _>(&ctx.deadline, |f| {
            if let Some(a) = f.agents.get_mut(agent) {
                a.calls.remove(&key);
            }
        })?;
    }
    Ok(Verdict::allow())
}

fn on_failure(event: &Event, ctx: &Ctx, config: &LoopDetectConfig) -> Result<Verdict> {
    if event.is_interrupt == Some(true) {
        return Ok(Verdict::allow());
    }
    count_work(event, ctx)?;
    let Some(key) = key_of(event) else {
        return Ok(Verdict::allow());
    };
    let agent = event.agent_key().to_owned();
    let state = ctx.state().session(event.session()?)?;
    let count = state.update::<Failures, _>(&ctx.deadline, |f| {
        f.clock += 1;
        let clock = f.clock;
        let a = f.agents.entry(agent.clone()).or_default();
        a.seen = clock;
        if !a.calls.contains_key(&key) && a.calls.len() >= MAX_FAILING_CALLS {
            // Keep the worst offenders: drop one call that failed only once, if any.
            if let Some(k) = a
                .calls
                .iter()
                .find(|(_, n)| **n <= 1)
                .map(|(k, _)| k.clone())
            {
                a.calls.remove(&k);
            } else {
                return 0;
            }
        }
        let n = a.calls.entry(key.clone()).or_insert(0);
        *n += 1;
        let count = *n;
        evict(&mut f.agents, |a| a.seen);
        count
    })?;
    if count < config.repeated_failures {
        return Ok(Verdict::allow());
    }
    let tool = event.tool().unwrap_or("?");
    let text = format!(
        "[loop-detect] This exact {tool} call has now failed {count} times in a row. It will not work \
         another time unchanged: read the error, change the input or the approach, or report what blocks you."
    );
    let verdict = Verdict::allow()
        .with_log_mark("repeated-failure", json!({"tool": tool, "failures": count}));
    Ok(match config.mode {
        Mode::Enforce => verdict.with_context(text),
        _ => verdict.with_user_message(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_testkit::decide::TestProject;
    use serde_json::{Value, json};

    fn stop(p: &TestProject, text: &str, config: &Value) -> Verdict {
        let e = p.event(
            "Stop",
            &json!({"prompt_id": "p", "last_assistant_message": text}),
        );
        LoopDetect::decide(&e, &p.ctx::<LoopDetect>().config(config).build()).unwrap()
    }

    #[test]
    fn the_third_near_identical_answer_is_stuck() {
        let p = TestProject::new();
        assert!(stop(&p, "Tests fail: 3 errors in run 1", &json!({})).is_silent());
        assert!(stop(&p, "Tests fail: 3 errors in run 2", &json!({})).is_silent());
        let v = stop(&p, "Tests fail: 3 errors in run 3", &json!({}));
        assert!(!v.context.is_empty(), "stuck is told to Claude");
        assert_eq!(v.log_mark.as_ref().map(|m| m.verdict), Some("stuck"));
    }

    /// A tool call of the main thread in prompt `p`.
    fn call(p: &TestProject, command: &str, output: &str) {
        let e = p.event(
            "PostToolUse-Bash",
            &json!({"prompt_id": "p", "tool_input": {"command": command},
                    "tool_response": {"stdout": output, "stderr": ""}}),
        );
        let v = LoopDetect::decide(&e, &p.ctx::<LoopDetect>().build()).unwrap();
        assert!(v.is_silent());
    }

    /// Issue 35, item 26: answers after different tool calls are progress, however alike they read; the
    /// same answers after the same call (or after none) are a loop.
    #[test]
    fn answers_after_different_work_are_progress() {
        let p = TestProject::new();
        for i in 4..10 {
            call(&p, &format!("sed -i s/old/new/ src/module{i}.rs"), "");
            let v = stop(&p, &format!("Migrated module {i}."), &json!({}));
            assert!(v.is_silent(), "module {i}: {v:?}");
        }
        let q = TestProject::new();
        let mut last = Verdict::allow();
        for i in 0..3 {
            call(
                &q,
                "cargo test",
                &format!("test result: FAILED. 3 passed; 1 failed; finished in 0.{i}1s"),
            );
            last = stop(&q, &format!("Tests fail: 1 error in run {i}"), &json!({}));
        }
        assert_eq!(
            last.log_mark.as_ref().map(|m| m.verdict),
            Some("stuck"),
            "the same failing call each time"
        );
    }

    #[test]
    fn the_window_comes_from_the_section_and_off_is_silent() {
        let p = TestProject::new();
        let two = json!({"loop_detect": {"window": 2}});
        assert!(stop(&p, "same answer", &two).is_silent());
        assert!(!stop(&p, "same answer", &two).context.is_empty());
        let q = TestProject::new();
        let off = json!({"loop_detect": {"mode": "off"}});
        for _ in 0..3 {
            assert!(stop(&q, "same answer", &off).is_silent());
        }
    }
}
