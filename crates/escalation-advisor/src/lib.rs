//! escalation-advisor: when an agent keeps getting blocked, another model says in one sentence why.
//!
//! - **When** (`Stop`, `SubagentStop`; `streak`): more than `escalation_advisor.threshold` (3) stops of one
//!   agent in a row were blocked with no tool call between them (the shared stop chain's count), or
//!   loop-detect logged the agent as stuck. Once per streak level: the same situation never calls the
//!   advisor twice.
//! - **What it is asked** ([`prompt`]): the agent's last instruction, why its stops were blocked (decision
//!   log and transcript), and its last answers, from the tail of its own transcript, secrets redacted,
//!   at most `max_prompt_bytes` (24 KiB).
//! - **Who answers** (`advisor`): `escalation_advisor.command`, prompt on stdin, hint on stdout, at most
//!   `timeout_secs` (25). By default the Claude Code CLI with a small model, no tools, no session file and
//!   `disableAllHooks`; `PORTCULLIS_DISABLED=1` in its environment makes every portcullis hook a no-op
//!   there too, so it cannot recurse.
//! - **Where the hint goes**: `additionalContext` on the stop (the client then lets Claude answer again
//!   with the hint, as a block would; the shared stop chain counts it as one, gives it only when a gate
//!   holds the same stop, and at its cap or at a stop every gate lets end the hint goes to the user
//!   instead), a `systemMessage` for the user, and an `escalate` entry in the decision log. It never
//!   blocks.
//! - **When the advisor fails** (missing, exit code, timeout, garbage): a deterministic hint from the
//!   decision log (which hook blocked how often and its last reason), and one stderr line.
//! - **`ON_ERROR`**: [`Failure::Open`]; its deadline is 50 s (hooks.json gives it 60 s), the only hook
//!   that waits on something slow, and only when it escalates.

mod history;
pub mod prompt;
mod streak;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use portcullis_core::config::{Config, Mode, SectionSpec};
use portcullis_core::hook::DoctorNote;
use portcullis_core::transcript::{self, Thread};
use portcullis_core::{
    Ctx, Env, Event, EventName, Failure, Hook, Registration, Result, Verdict, budget,
};

use portcullis_advisor as advisor;
pub use portcullis_advisor::{
    ADVISOR_HOOK_DEADLINE, ADVISOR_HOOK_TIMEOUT_SECS, ADVISOR_MAX_TIMEOUT_SECS,
    EscalationAdvisorConfig,
};

use serde_json::json;

use crate::history::History;
use crate::streak::{Seen, Streak, Streaks, Trigger};

/// The hook.
pub struct EscalationAdvisor;

/// Hooks of one stop run in parallel and start within this many milliseconds of each other: log entries
/// this much older than a stop still belong to it.
pub const SLACK_MS: i64 = 1_000;

/// Time kept back from the hook's deadline for building the fallback and answering.
const RESERVE: Duration = Duration::from_secs(5);

impl Hook for EscalationAdvisor {
    const NAME: &'static str = "escalation-advisor";
    const SUMMARY: &'static str = "When more than 3 stops of an agent in a row were blocked with no tool call between them, or loop-detect found it stuck, another model reads the transcript tail and gives a one-line hint (a fallback from the decision log when it cannot).";
    const EVENTS: &'static [Registration] = &[
        Registration::every("Stop"),
        Registration::every("SubagentStop"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    // It may wait for the advisor model (`escalation_advisor.timeout_secs`, at most 40 s).
    const DEADLINE: Duration = ADVISOR_HOOK_DEADLINE;
    const TIMEOUT_SECS: u32 = ADVISOR_HOOK_TIMEOUT_SECS;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<EscalationAdvisorConfig>()];

    fn doctor(config: &Config, env: &Env) -> Option<DoctorNote> {
        advisor_note(&config.section::<EscalationAdvisorConfig>().ok()?, env)
    }

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::Stop | EventName::SubagentStop => on_stop(event, ctx),
            _ => Ok(Verdict::allow()),
        }
    }
}

fn on_stop(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let config = &ctx.section::<EscalationAdvisorConfig>()?;
    if config.mode == Mode::Off {
        return Ok(Verdict::allow());
    }
    let session = event.session()?;
    let state = ctx.state().session(session)?;
    let agent = event.agent_key();
    let prompt = event.prompt_id.as_deref();
    let now_ms = ctx.now.timestamp_millis();

    // The log is read only when the agent stopped before in this prompt: the first stop of a prompt (the
    // common case) costs one state load and one small write.
    let (streaks, _) = state.load::<Streaks>()?;
    let since = streaks
        .agents
        .get(agent)
        .filter(|p| p.prompt.as_deref() == prompt)
        .map(|p| p.last_stop_ms.saturating_sub(SLACK_MS));
    let mut seen = Seen {
        earlier: portcullis_core::stop_chain::earlier(event, ctx),
        ..Seen::default()
    };
    if let Some(since) = since {
        let recent = read_history(ctx, session, agent, since);
        // `read` keeps only entries from `since` on, newest first.
        seen.stuck = recent.stuck.first().map(|e| e.time.clone());
    }
    let (streak, trigger) = state.update::<Streaks, _>(&ctx.deadline, |s| {
        let (next, trigger) =
            streak::step(s.agents.get(agent), prompt, now_ms, &seen, config.threshold);
        streak::remember(s, agent, next.clone());
        (next, trigger)
    })?;
    match trigger {
        Some(trigger) => Ok(escalate(event, ctx, config, &streak, trigger)),
        None => Ok(Verdict::allow()),
    }
}

fn read_history(ctx: &Ctx, session: &str, agent: &str, since_ms: i64) -> History {
    history::read(&ctx.state().log_path(), session, agent, since_ms).unwrap_or_else(|e| {
        ctx.warn(&e.to_string());
        History::default()
    })
}

/// Asks the advisor (or builds the fallback) and shapes the verdict.
fn escalate(
    event: &Event,
    ctx: &Ctx,
    config: &EscalationAdvisorConfig,
    streak: &Streak,
    trigger: Trigger,
) -> Verdict {
    let session = event.session_id.as_deref().unwrap_or_default();
    let agent = event.agent_key();
    let history = read_history(
        ctx,
        session,
        agent,
        streak.started_ms.saturating_sub(SLACK_MS),
    );
    let material = gather(event, ctx, &history, streak, trigger);
    let text = prompt::build(&material, config.max_prompt_bytes as usize);
    let timeout = Duration::from_secs(u64::from(config.timeout_secs))
        .min(ctx.deadline.remaining().saturating_sub(RESERVE));
    let started = Instant::now();
    // The advisor of the client the agent runs in: that one is installed and signed in.
    let command = match event.client {
        portcullis_core::Client::Codex => &config.codex_command,
        portcullis_core::Client::Gemini => &config.gemini_command,
        portcullis_core::Client::Copilot => &config.copilot_command,
        portcullis_core::Client::ClaudeCode => &config.command,
    };
    let asked = advisor::ask(command, &text, &ctx.project, timeout);
    let advisor_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (hint, source, error) = match asked {
        Ok(hint) => (hint, "advisor", None),
        Err(e) => {
            ctx.warn(&format!(
                "{e}; giving the fallback hint from the decision log"
            ));
            (
                fallback_hint(&history, streak, trigger),
                "fallback",
                Some(e.to_string()),
            )
        }
    };
    let from = if source == "advisor" {
        "an advisor model that read your recent transcript"
    } else {
        "portcullis's decision log (the advisor model could not be asked)"
    };
    let mut verdict = Verdict::allow();
    if config.mode == Mode::Enforce {
        verdict = verdict.with_context(format!(
            "[escalation-advisor] You seem stuck: {why}. A hint from {from}: {hint}",
            why = material.why
        ));
    }
    verdict
        .with_user_message(format!(
            "[escalation-advisor] {who} seems stuck ({why}). Hint: {hint}",
            who = capitalise(&material.who),
            why = material.why
        ))
        .with_log_mark(
            "escalate",
            json!({
                "trigger": trigger,
                "streak": streak.streak,
                "level": streak.level,
                "source": source,
                "hint": hint,
                "advisor_ms": advisor_ms,
                "prompt_bytes": text.len(),
                "error": error,
            }),
        )
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// The material for the prompt: the decision log's blocks, then the transcript's instruction, block
/// feedback and answers, and the event's own last answer.
fn gather(
    event: &Event,
    ctx: &Ctx,
    history: &History,
    streak: &Streak,
    trigger: Trigger,
) -> prompt::Material {
    let who = if event.is_subagent() {
        format!(
            "the subagent `{}`",
            event.agent_type.as_deref().unwrap_or("?")
        )
    } else {
        "the main agent".to_owned()
    };
    let why = match trigger {
        Trigger::Streak => format!("its last {} stops in a row were blocked", streak.streak),
        Trigger::Stuck => "loop-detect found its last answers near-identical".to_owned(),
    };
    let mut material = prompt::Material {
        who,
        why,
        block_reasons: history
            .blocks
            .iter()
            .map(|e| (e.hook.clone(), e.reason.clone()))
            .collect(),
        ..prompt::Material::default()
    };
    if let Some(last) = &event.last_assistant_message {
        material.answers.push(last.clone());
    }
    let (path, thread) = match (&event.agent_transcript_path, event.is_subagent()) {
        (Some(p), true) => (PathBuf::from(p), Thread::Any),
        _ => (
            PathBuf::from(event.transcript_path.as_deref().unwrap_or_default()),
            Thread::Main,
        ),
    };
    match transcript::tail(
        &path,
        &["user", "assistant"],
        thread,
        400,
        budget::TRANSCRIPT_SCAN_BYTES,
        |_| true,
    ) {
        Ok(tail) => read_transcript(&tail.entries, &mut material),
        Err(e) => ctx.note(format!("escalation prompt without the transcript: {e}")),
    }
    material
}

/// Fills `material` from transcript entries (newest first) up to the agent's latest instruction.
fn read_transcript(entries: &[transcript::Entry], material: &mut prompt::Material) {
    for entry in entries {
        let Some(message) = &entry.message else {
            continue;
        };
        let text = strip_reminders(&message.text());
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if entry.kind() == "assistant" {
            if material.answers.len() < 3
                && material.answers.first().map(|a| a.trim()) != Some(text)
            {
                material.answers.push(text.to_owned());
            }
            continue;
        }
        if entry.is_meta.unwrap_or(false) {
            if let Some((_, reason)) = text.split_once("hook feedback:") {
                let reason = reason.trim();
                if !material
                    .block_reasons
                    .iter()
                    .any(|(_, r)| r.trim() == reason)
                {
                    material
                        .block_reasons
                        .push((String::new(), reason.to_owned()));
                }
            }
            continue;
        }
        if entry.is_compact_summary.unwrap_or(false) {
            continue;
        }
        material.instruction = Some(text.to_owned());
        break;
    }
}

/// `text` without `<system-reminder>…</system-reminder>` blocks.
fn strip_reminders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<system-reminder>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</system-reminder>") {
            Some(end) => rest = &rest[start + end + "</system-reminder>".len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// The hint when the advisor cannot give one: which portcullis hooks blocked how often, and the latest
/// reason of the one that blocked most. Deterministic for a given log.
#[must_use]
pub fn fallback_hint(history: &History, streak: &Streak, trigger: Trigger) -> String {
    // hook → (count, latest reason); entries are newest first.
    let mut by_hook: Vec<(&str, usize, &str)> = Vec::new();
    for e in &history.blocks {
        match by_hook.iter_mut().find(|(h, _, _)| *h == e.hook) {
            Some(slot) => slot.1 += 1,
            None => by_hook.push((&e.hook, 1, &e.reason)),
        }
    }
    by_hook.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let opening = match trigger {
        Trigger::Stuck => {
            "Your last answers were near-identical, so repeating the same approach will not work"
                .to_owned()
        }
        Trigger::Streak => format!("{} stops in a row were blocked", streak.streak),
    };
    let Some((hook, count, reason)) = by_hook.first() else {
        return format!(
            "{opening}; no portcullis hook recorded why, so re-read the last hook message in your context \
             and do exactly what it asks, or tell the user what blocks you and what you need."
        );
    };
    let reason = prompt::cut_middle(
        &reason.split_whitespace().collect::<Vec<_>>().join(" "),
        240,
    );
    let others = by_hook
        .iter()
        .skip(1)
        .map(|(h, n, _)| format!("`{h}` {n}"))
        .collect::<Vec<_>>();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!(" (also: {})", others.join(", "))
    };
    format!(
        "{opening}; `{hook}` blocked {count} time{s}{others}, last saying \"{reason}\": do exactly what that \
         asks, or stop retrying and tell the user what blocks you and what you need.",
        s = if *count == 1 { "" } else { "s" }
    )
}

/// doctor's line on the advisor programs, Claude Code's and Codex's: `ok` when one is found (the other
/// client is perhaps not used here), a note when neither is (the fallback hint still works without them).
/// Nothing when the hook is off.
fn advisor_note(advisor: &EscalationAdvisorConfig, env: &Env) -> Option<DoctorNote> {
    if advisor.mode == Mode::Off {
        return None;
    }
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let find = |program: &str| {
        if program.contains('/') {
            executable(Path::new(program)).then(|| PathBuf::from(program))
        } else {
            env.var("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(program))
                    .find(|p| executable(p))
            })
        }
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (client, key, command) in [
        ("Claude Code", "command", &advisor.command),
        ("Codex", "codex_command", &advisor.codex_command),
        ("Gemini", "gemini_command", &advisor.gemini_command),
        ("Copilot", "copilot_command", &advisor.copilot_command),
    ] {
        let program = command.first()?;
        match find(program) {
            Some(p) => found.push(format!("`{}` ({client})", p.display())),
            None => missing.push(format!("`{program}` (`escalation_advisor.{key}`)")),
        }
    }
    Some(if found.is_empty() {
        DoctorNote {
            label: "advisor",
            ok: false,
            message: format!(
                "{} not found; escalation-advisor will give its fallback hint from the decision log",
                listed(&missing)
            ),
        }
    } else {
        DoctorNote {
            label: "advisor",
            ok: true,
            message: if missing.is_empty() {
                found.join(", ")
            } else {
                format!(
                    "{}; not found: {} (that client's sessions get the fallback hint)",
                    found.join(", "),
                    missing.join(", ")
                )
            },
        }
    })
}

/// `a`, `a and b`, `a, b and c`.
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::log::LogEntry;
    use portcullis_testkit::decide::TestProject;
    use serde_json::json;

    /// `n` stops of the main thread in one prompt, the first unflagged and the rest flagged as re-fires.
    fn chain(p: &TestProject, n: usize, config: &serde_json::Value) -> Vec<Verdict> {
        (0..n)
            .map(|i| {
                let e = p.event(
                    "Stop",
                    &json!({"prompt_id": "p", "stop_hook_active": i > 0}),
                );
                let ctx = p.ctx::<EscalationAdvisor>().config(config).build();
                // As the binary does: the verdict passes through the shared stop chain.
                portcullis_core::run::decide_with(EscalationAdvisor::decide, &e, &ctx).unwrap()
            })
            .collect()
    }

    #[test]
    fn the_fifth_stop_of_a_blocked_chain_gets_a_hint_once() {
        let p = TestProject::new();
        // An advisor that answers nothing: the deterministic fallback is the hint.
        let config = json!({"escalation_advisor": {"command": ["true"]}});
        let verdicts = chain(&p, 7, &config);
        let hinted: Vec<usize> = (0..7)
            .filter(|i| !verdicts[*i].context.is_empty())
            .collect();
        assert_eq!(hinted, [4], "{verdicts:?}");
    }

    #[test]
    fn off_mode_and_the_threshold_come_from_the_section() {
        let p = TestProject::new();
        let off = json!({"escalation_advisor": {"command": ["true"], "mode": "off"}});
        assert!(chain(&p, 7, &off).iter().all(Verdict::is_silent));
        let q = TestProject::new();
        let low = json!({"escalation_advisor": {"command": ["true"], "threshold": 1}});
        let verdicts = chain(&q, 3, &low);
        assert!(!verdicts[2].context.is_empty(), "{verdicts:?}");
    }

    fn block(hook: &str, reason: &str) -> LogEntry {
        LogEntry {
            hook: hook.into(),
            reason: reason.into(),
            verdict: "block".into(),
            event: "Stop".into(),
            ..LogEntry::default()
        }
    }

    #[test]
    fn the_fallback_names_the_hook_that_blocked_most_and_its_latest_reason() {
        let history = History {
            blocks: vec![
                block("feedback-loop", "run the tests of api"),
                block("output-location", "move NOTES.md"),
                block("feedback-loop", "review api"),
            ],
            stuck: vec![],
        };
        let streak = Streak {
            streak: 4,
            ..Streak::default()
        };
        let hint = fallback_hint(&history, &streak, Trigger::Streak);
        assert!(hint.starts_with("4 stops in a row were blocked; `feedback-loop` blocked 2 times (also: `output-location` 1), last saying \"run the tests of api\""), "{hint}");
        let none = fallback_hint(&History::default(), &streak, Trigger::Stuck);
        assert!(
            none.contains("near-identical") && none.contains("no portcullis hook recorded why")
        );
    }

    #[test]
    fn reminders_are_stripped() {
        assert_eq!(
            strip_reminders("a<system-reminder>x</system-reminder>b<system-reminder>y"),
            "ab"
        );
    }

    #[test]
    fn the_longest_advisor_fits_the_deadline_and_the_deadline_the_timeout() {
        assert!(
            u64::from(ADVISOR_MAX_TIMEOUT_SECS) + RESERVE.as_secs()
                <= EscalationAdvisor::DEADLINE.as_secs()
        );
        assert!(EscalationAdvisor::DEADLINE.as_secs() < u64::from(EscalationAdvisor::TIMEOUT_SECS));
    }
}
