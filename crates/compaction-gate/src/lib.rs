//! compaction-gate: knows the context in use, warns, and refuses to spawn subagents near the limit.
//!
//! - **Events**: `PreToolUse` with matcher `Agent|Task`, and `UserPromptSubmit`.
//! - **Measures**: the last main-thread response's usage in the session transcript ([`portcullis_context`]); for a
//!   subagent's own calls, the subagent's transcript (`<session>/subagents/agent-<agent_id>.jsonl`).
//! - **Decides** (bands in percent of the whole window, `compaction_gate.*_percent`): below `warn` nothing;
//!   from `warn` (75) and from `compact` (80) a spawn is allowed with the figures in Claude's context and a
//!   `systemMessage` for the user; from `block` (85) a spawn is denied (`mode: enforce`) with the figures and
//!   the remedy. A prompt is never blocked: from `warn` on it gets the figures as context.
//! - **`ON_ERROR`**: [`Failure::Open`]. A missing, empty or unreadable transcript is an allow with one stderr
//!   line: not knowing the context is no reason to stop work.
//! - **Budget**: reads from the end of the transcript and stops at the last response and its request line;
//!   the cost does not grow with the file (benchmarked on 1 MB to 1 GB).
//! - **State**: none.

mod cli;
mod config;

use std::path::Path;

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};

pub use config::CompactionGateConfig;

use portcullis_context::{self as context, Measure, Scope, short_tokens};

/// The hook.
pub struct CompactionGate;

/// Where a measure falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    /// Below `warn_percent`.
    Ok,
    /// From `warn_percent`.
    Warn,
    /// From `compact_percent`.
    ShouldCompact,
    /// From `block_percent`.
    Block,
}

impl Band {
    /// The band of `percent` under `cfg`.
    #[must_use]
    pub fn of(percent: f64, cfg: &CompactionGateConfig) -> Self {
        if percent >= cfg.block_percent {
            Self::Block
        } else if percent >= cfg.compact_percent {
            Self::ShouldCompact
        } else if percent >= cfg.warn_percent {
            Self::Warn
        } else {
            Self::Ok
        }
    }

    /// `ok`, `warn`, `should_compact`, `block`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::ShouldCompact => "should_compact",
            Self::Block => "block",
        }
    }
}

impl Hook for CompactionGate {
    const NAME: &'static str = "compaction-gate";
    const SUMMARY: &'static str = "Measures the context in use from the transcript: warns from 75%, refuses to spawn subagents from 85%.";
    const EVENTS: &'static [Registration] = &[
        Registration::matching("PreToolUse", "Agent|Task"),
        Registration::every("UserPromptSubmit"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<CompactionGateConfig>()];
    const ENV_VARS: &'static [&'static str] = context::ENV_VARS;

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        let name = event.name();
        let spawning = name == EventName::PreToolUse && matches!(event.tool(), Some("Agent"));
        if !spawning && name != EventName::UserPromptSubmit {
            return Ok(Verdict::allow());
        }
        let cfg = &ctx.section::<CompactionGateConfig>()?;
        if cfg.mode == Mode::Off {
            return Ok(Verdict::allow());
        }
        let Some(measure) = measure_event(event, ctx, cfg) else {
            return Ok(Verdict::allow());
        };
        Ok(decide(&measure, cfg, spawning, event.is_subagent()))
    }

    fn command(args: Vec<std::ffi::OsString>) -> std::process::ExitCode {
        cli::main_with(args)
    }
}

/// Measures the transcript that belongs to the event's thread; `None` (with one stderr line) when it
/// cannot be read.
fn measure_event(event: &Event, ctx: &Ctx, cfg: &CompactionGateConfig) -> Option<Measure> {
    if event.client == portcullis_core::Client::Copilot {
        // Copilot names its event log only at a Stop; it is always in the same place.
        let path = event
            .transcript_path
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| context::copilot::session_events(&ctx.env, event.session_id.as_deref()?));
        let Some(path) = path else {
            ctx.warn("the Copilot session's event log is not known; context not measured");
            return None;
        };
        return finish_measure(
            &path,
            context::copilot::measure_copilot(&path, cfg.window_tokens, &ctx.env),
            ctx,
        );
    }
    let Some(main) = event.transcript_path.as_deref().filter(|p| !p.is_empty()) else {
        ctx.warn("the event has no transcript_path; context not measured");
        return None;
    };
    if event.client == portcullis_core::Client::Codex {
        // Every Codex thread, a subagent's too, has its own rollout as `transcript_path`, and the usage
        // record of a response is written before its tool calls reach the hooks: nothing to wait for.
        return finish_measure(
            Path::new(main),
            context::codex::measure_codex(Path::new(main), cfg.window_tokens, &ctx.env),
            ctx,
        );
    }
    if event.client == portcullis_core::Client::Gemini {
        // Gemini's subagents share the parent's session file as `transcript_path` (their own is not
        // named in the event): the main thread's usage is what is measured.
        return finish_measure(
            Path::new(main),
            context::gemini::measure_gemini(Path::new(main), cfg.window_tokens, &ctx.env),
            ctx,
        );
    }
    let (path, scope) = match event.agent_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => (
            context::subagent_transcript(Path::new(main), id),
            Scope::Subagent,
        ),
        None => (Path::new(main).to_path_buf(), Scope::Main),
    };
    if let Some(id) = event
        .tool_use_id
        .as_deref()
        .filter(|_| event.name() == EventName::PreToolUse)
    {
        wait_for_tool_use(&path, id, ctx);
    }
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
        ctx.warn(&format!(
            "the transcript `{}` is empty; context not measured",
            path.display()
        ));
        return None;
    }
    finish_measure(
        &path,
        context::measure(&path, scope, cfg.window_tokens, &ctx.env),
        ctx,
    )
}

/// The measure, or `None` (with one stderr line when the transcript could not be read).
fn finish_measure(path: &Path, measured: std::io::Result<Measure>, ctx: &Ctx) -> Option<Measure> {
    match measured {
        Ok(m) if m.empty => None,
        Ok(m) => Some(m),
        Err(e) => {
            ctx.warn(&format!(
                "cannot read the transcript `{}` ({e}); context not measured",
                path.display()
            ));
            None
        }
    }
}

/// The longest the gate waits for the client to write the response that asked for the tool call.
const TOOL_USE_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// How much of the transcript's end is searched for the tool call's id (the line holding it carries the
/// call's whole input, so it can be long).
const TOOL_USE_WINDOW: u64 = 1 << 20;

/// Waits, at most [`TOOL_USE_WAIT`] and within the deadline, until the transcript holds the response with
/// the tool call `id`: the client writes the transcript asynchronously, and may call the hook before the
/// response that triggered it is on disk; measured then, the context would miss that response's usage.
/// A transcript that cannot be read, or never shows the id, is measured as it is.
fn wait_for_tool_use(path: &Path, id: &str, ctx: &Ctx) {
    let needle = format!("\"{id}\"");
    let started = std::time::Instant::now();
    loop {
        match tail_holds(path, needle.as_bytes()) {
            Ok(false) => {}
            Ok(true) | Err(_) => return,
        }
        if started.elapsed() >= TOOL_USE_WAIT || ctx.deadline.remaining().is_zero() {
            ctx.note(format!(
                "the transcript did not show the tool call `{id}` within {} ms: measured without it",
                TOOL_USE_WAIT.as_millis()
            ));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Whether the last [`TOOL_USE_WINDOW`] bytes of the file hold `needle`: the last 64 KiB first (the id is
/// usually there), then the whole window.
fn tail_holds(path: &Path, needle: &[u8]) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = portcullis_core::files::open_regular(path)?;
    let len = file.metadata()?.len();
    let mut tail = Vec::new();
    for window in [64 << 10, TOOL_USE_WINDOW] {
        file.seek(SeekFrom::Start(len.saturating_sub(window)))?;
        tail.clear();
        (&mut file).take(window).read_to_end(&mut tail)?;
        if memchr::memmem::find(&tail, needle).is_some() {
            return Ok(true);
        }
        if window >= len {
            break;
        }
    }
    Ok(false)
}

/// The verdict for a measure: pure.
#[must_use]
pub fn decide(
    m: &Measure,
    cfg: &CompactionGateConfig,
    spawning: bool,
    in_subagent: bool,
) -> Verdict {
    let band = Band::of(m.percent, cfg);
    if band == Band::Ok {
        return Verdict::allow();
    }
    let figures = figures(m);
    let whose = if in_subagent {
        "This subagent's context"
    } else {
        "The context"
    };
    let told = Verdict::allow().with_context(format!(
        "[compaction-gate] {whose} is at {figures}. {}",
        advice(band, cfg, in_subagent)
    ));
    if !spawning {
        return told;
    }
    if band == Band::Block && cfg.mode == Mode::Enforce {
        let remedy = if in_subagent {
            "Finish your own task and report back; the main thread can spawn further agents."
        } else {
            "Ask the user to run /compact, then spawn the agent; meanwhile read, plan and write notes under \
             `.claude/.output/` (code edits still go to agents)."
        };
        return Verdict::deny(format!(
            "[compaction-gate] {whose} is at {figures}, above the {}% limit for spawning subagents: the agent's \
             report would arrive in a context with no room left for it. {remedy}",
            cfg.block_percent
        ));
    }
    told.with_user_message(format!(
        "compaction-gate: context at {:.1}% ({} of {}){}",
        m.percent,
        short_tokens(m.used_tokens),
        short_tokens(m.window_tokens),
        if band >= Band::ShouldCompact {
            "; consider /compact"
        } else {
            ""
        }
    ))
}

fn figures(m: &Measure) -> String {
    format!(
        "{:.1}% of the {}-token window ({} tokens used; {} auto-compacts at about {})",
        m.percent,
        short_tokens(m.window_tokens),
        m.used_tokens,
        m.client.display_name(),
        m.autocompact_tokens
    )
}

fn advice(band: Band, cfg: &CompactionGateConfig, in_subagent: bool) -> String {
    match (band, in_subagent) {
        (Band::Block | Band::ShouldCompact, false) => format!(
            "Compact now (/compact) or wrap up: from {}% new subagents are refused.",
            cfg.block_percent
        ),
        (Band::Block | Band::ShouldCompact, true) => {
            "Wrap up and report back soon; keep what you read small.".into()
        }
        _ => format!(
            "Prefer finishing the current piece of work; plan a /compact before {}%.",
            cfg.compact_percent
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::Decision;
    use portcullis_testkit::decide::TestProject;
    use serde_json::json;

    /// A transcript whose last main-thread response used `tokens` of context.
    fn project_at(tokens: u64) -> TestProject {
        let p = TestProject::new();
        let line = json!({"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": tokens, "output_tokens": 1}}});
        p.put("transcript.jsonl", &format!("{line}\n"));
        p
    }

    #[test]
    fn spawning_in_the_block_band_is_denied_and_a_prompt_never_is() {
        let p = project_at(176_000);
        let ctx = p.ctx::<CompactionGate>().build();
        let v = CompactionGate::decide(&p.event("PreToolUse-Agent", &json!({})), &ctx).unwrap();
        assert_eq!(v.decision, Decision::Block);
        assert!(v.reason_text().contains("88"), "{}", v.reason_text());
        let v = CompactionGate::decide(&p.event("UserPromptSubmit", &json!({})), &ctx).unwrap();
        assert_ne!(v.decision, Decision::Block);
    }

    #[test]
    fn bands_and_mode_come_from_the_section() {
        let p = project_at(176_000);
        let event = p.event("PreToolUse-Agent", &json!({}));
        let off = p
            .ctx::<CompactionGate>()
            .config(&json!({"compaction_gate": {"mode": "off"}}));
        assert!(
            CompactionGate::decide(&event, &off.build())
                .unwrap()
                .is_silent()
        );
        let wide = json!({"compaction_gate": {"block_percent": 95, "compact_percent": 90, "warn_percent": 89}});
        let v = CompactionGate::decide(&event, &p.ctx::<CompactionGate>().config(&wide).build());
        assert!(v.unwrap().is_silent(), "88% is below every band");
    }

    #[test]
    fn the_window_comes_from_the_environment_first() {
        let p = project_at(176_000);
        let ctx = p
            .ctx::<CompactionGate>()
            .env(context::env_vars::PORTCULLIS_CONTEXT_WINDOW, "1000000");
        let v = CompactionGate::decide(&p.event("PreToolUse-Agent", &json!({})), &ctx.build());
        assert!(v.unwrap().is_silent(), "17.6% of a 1M window");
    }
}
