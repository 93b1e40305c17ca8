//! skill-gateway: intent-based skill loading as a hook (seed 002 §3.3 and §5.1 layer 4), and skill
//! compliance (§5.6 layer 1).
//!
//! - **`UserPromptSubmit`**: the prompt is ranked against the skill library (every `SKILL.md` under
//!   `.claude/skill-library/`, `~/.claude/skill-library/` and `skills.libraries`, any depth) with BM25
//!   over stemmed terms ([`index`]); the few skills that clear the threshold go into Claude's context as
//!   paths to read, with their one-line descriptions. Small talk gets nothing; a skill offered once in
//!   a session is not offered again unless the prompt names it.
//! - **`PreToolUse` of `Agent`**: the task prompt is routed the same way and the paths are appended to
//!   it (`updatedInput`), so they are in the subagent's first request. A subagent starts with a clean
//!   context, so nothing is held back as already offered.
//! - **`SubagentStop`**: an agent whose type must load skills (`skills.required`) and did not is
//!   reported to the orchestrator ([`compliance`]); in `enforce` mode it is first sent back once.
//! - **`PostToolUse` of `Agent`**: a foreground agent's report is delivered with its result.
//! - **`SessionStart` (compact)**: the skills offered so far are forgotten, as the context that held
//!   them was summarised away.
//! - **`ON_ERROR`**: [`Failure::Open`]: routing is advice; a broken library must not cost a prompt.
//! - **Budget**: the index is cached in the project's state folder and re-validated by one `stat` per
//!   library folder and `SKILL.md` (about 1 ms for 300 skills); a prompt with no library costs a `stat`
//!   per library folder.

mod compliance;
mod config;
mod index;
mod library;
mod text;

use std::fmt::Write as _;
use std::path::Path;

use portcullis_core::client::ClientSupport;
use portcullis_core::config::SectionSpec;
use portcullis_core::{
    Client, Ctx, Event, EventName, Failure, Hook, Mode, Registration, Result, Verdict,
};
use serde_json::{Value, json};

pub use config::{Requirement, SkillsConfig};
pub use library::{Library, Skill, Skipped};

use compliance::{Loaded, Session, Skip};
use index::{Doc, Index, Origin, Scored};
use library::Roots;

/// The hook.
#[derive(Debug)]
pub struct SkillGateway;

/// The text that introduces the chosen skills, in the main thread's context and in a subagent's prompt.
pub const READ_THESE: &str = "Read these skill files before you start";

impl Hook for SkillGateway {
    const NAME: &'static str = "skill-gateway";
    const SUMMARY: &'static str = "Puts the few library skills that fit a prompt, or an agent's task, in front of the agent as paths to read; reports agents that skip the skills their type requires.";
    const EVENTS: &'static [Registration] = &[
        Registration::every("UserPromptSubmit"),
        // A task rewrite and the compliance check need Claude Code's Agent tool and transcripts.
        Registration::matching("PreToolUse", "Agent").claude_code_only(),
        Registration::matching("PostToolUse", "Agent").claude_code_only(),
        Registration::every("SubagentStop").claude_code_only(),
        Registration::matching("SessionStart", "compact"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<SkillsConfig>()];
    const CODEX: ClientSupport = ClientSupport::Partly(
        "prompts only: a Codex subagent's task is not rewritten, and its transcript is not read for compliance",
    );
    const GEMINI: ClientSupport = ClientSupport::Partly(
        "prompts only: Gemini's subagents are invisible to hooks (no agent id, no start or stop event)",
    );
    const COPILOT: ClientSupport = ClientSupport::Partly(
        "prompts only: a Copilot subagent's task is not rewritten, and its transcript is not read for compliance",
    );

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        // Codex honours updatedInput only as verified for shell commands, and its rollouts name no Skill
        // or Read calls: there the gateway routes prompts and nothing else (its other registrations are
        // Claude Code's only; this guards a hand-written Codex registration).
        if event.client == Client::Codex
            && !matches!(
                event.name(),
                EventName::UserPromptSubmit | EventName::SessionStart
            )
        {
            return Ok(Verdict::allow());
        }
        match event.name() {
            EventName::UserPromptSubmit => on_prompt(event, ctx),
            EventName::PreToolUse if event.tool() == Some("Agent") => on_agent_call(event, ctx),
            EventName::PostToolUse if event.tool() == Some("Agent") => on_agent_result(event, ctx),
            EventName::SubagentStop => on_subagent_stop(event, ctx),
            EventName::SessionStart => on_compact(event, ctx),
            _ => Ok(Verdict::allow()),
        }
    }
}

fn roots(ctx: &Ctx, config: &SkillsConfig) -> Roots {
    let home = ctx
        .env
        .var(portcullis_core::env_vars::HOME)
        .map(std::path::PathBuf::from);
    Roots::new(
        &ctx.project,
        ctx.env.claude_home().as_deref(),
        home.as_deref(),
        config,
    )
}

/// The index, from the cache when it holds; a one-line note of what the library skipped when it was
/// rebuilt.
fn index(ctx: &Ctx, config: &SkillsConfig) -> Index {
    let roots = roots(ctx, config);
    let (index, origin) = Index::load(&ctx.state(), &roots, config);
    if let Origin::Built(lib) = &origin
        && (!lib.skipped.is_empty() || lib.truncated)
    {
        let first = lib
            .skipped
            .first()
            .map_or(String::new(), |s| format!("; first: {}: {}", s.path, s.why));
        let cut = if lib.truncated {
            format!("; stopped after {} entries", config.max_entries)
        } else {
            String::new()
        };
        ctx.warn(&format!(
            "skill library: {} skipped{first}{cut} (`portcullis skills list` shows all)",
            lib.skipped.len()
        ));
    }
    index
}

fn skill_lines(index: &Index, chosen: &[Scored]) -> String {
    let mut out = format!("{READ_THESE} (skill-gateway chose them for this task):");
    for s in chosen {
        let d = &index.docs[s.skill];
        let _ = write!(out, "\n- `{}`", d.path);
        if !d.summary.is_empty() {
            let _ = write!(out, ": {}", d.summary);
        }
    }
    out
}

/// True when the prompt names the skill (its name, or its name with spaces for hyphens).
fn names(prompt: &str, doc: &Doc) -> bool {
    let p = prompt.to_lowercase();
    let n = doc.name.to_lowercase();
    p.contains(&n) || p.contains(&n.replace('-', " "))
}

fn on_prompt(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    // Task notifications and other turns the client starts are not the user's asks.
    if event
        .source
        .as_deref()
        .is_some_and(|s| s != "user" && s != "sdk")
    {
        return Ok(Verdict::allow());
    }
    let config = ctx.section::<SkillsConfig>()?;
    let session = ctx.state().session(event.session()?)?;
    let mut verdict = Verdict::allow();
    // Skips of background agents, told at the next prompt.
    let (state, _) = session.load::<Session>()?;
    if !state.pending.is_empty() {
        let skips =
            session.update::<Session, _>(&ctx.deadline, |s| std::mem::take(&mut s.pending))?;
        if !skips.is_empty() {
            verdict = verdict.with_context(compliance::report(&skips));
        }
    }
    let prompt = event.prompt.as_deref().unwrap_or("");
    let stemmer = text::stemmer();
    // Small talk is ruled out before the library is looked at.
    if !config.route_prompts || text::is_small_talk(prompt, &stemmer) {
        return Ok(verdict);
    }
    let index = index(ctx, &config);
    let mut chosen = index::choose(&index.rank(prompt, &stemmer), &config);
    chosen.retain(|s| {
        let d = &index.docs[s.skill];
        !state.offered.contains(&d.path) || names(prompt, d)
    });
    if chosen.is_empty() {
        return Ok(verdict);
    }
    session.update::<Session, _>(&ctx.deadline, |s| {
        for c in &chosen {
            s.offered.insert(index.docs[c.skill].path.clone());
        }
    })?;
    Ok(verdict
        .with_context(skill_lines(&index, &chosen))
        .with_log_mark("route", routed(&index, &chosen)))
}

/// After a compaction the skills offered earlier may be gone from the context: they may be offered again.
fn on_compact(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let session = ctx.state().session(event.session()?)?;
    let (state, _) = session.load::<Session>()?;
    if !state.offered.is_empty() {
        session.update::<Session, _>(&ctx.deadline, |s| s.offered.clear())?;
    }
    Ok(Verdict::allow())
}

fn routed(index: &Index, chosen: &[Scored]) -> Value {
    json!({
        "skills": chosen
            .iter()
            .map(|s| json!({"path": index.docs[s.skill].path, "score": (s.score * 100.0).round() / 100.0}))
            .collect::<Vec<_>>()
    })
}

fn on_agent_call(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let config = ctx.section::<SkillsConfig>()?;
    if !config.route_agents {
        return Ok(Verdict::allow());
    }
    let Some(raw) = &event.tool_input else {
        return Ok(Verdict::allow());
    };
    let Ok(Value::Object(mut input)) = serde_json::from_str::<Value>(raw.get()) else {
        return Ok(Verdict::allow());
    };
    let Some(prompt) = input
        .get("prompt")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Ok(Verdict::allow());
    };
    let stemmer = text::stemmer();
    if text::is_small_talk(&prompt, &stemmer) {
        return Ok(Verdict::allow());
    }
    let index = index(ctx, &config);
    let mut chosen = index::choose(&index.rank(&prompt, &stemmer), &config);
    // Paths the orchestrator already put in the task are not added again.
    chosen.retain(|s| !prompt.contains(&index.docs[s.skill].path));
    if chosen.is_empty() {
        return Ok(Verdict::allow());
    }
    let task = format!("{prompt}\n\n{}", skill_lines(&index, &chosen));
    input.insert("prompt".into(), Value::String(task));
    Ok(Verdict::allow()
        .with_updated_input(Value::Object(input))
        .with_log_mark("route", routed(&index, &chosen)))
}

/// The one field of an `Agent` call's result that names the agent.
#[derive(serde::Deserialize)]
struct AgentResult {
    #[serde(rename = "agentId")]
    agent_id: Option<String>,
}

fn on_agent_result(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    // Most results have no skip waiting: one failed open, and the (maybe large) result is not parsed.
    let session = ctx.state().session(event.session()?)?;
    let (state, _) = session.load::<Session>()?;
    if state.pending.is_empty() {
        return Ok(Verdict::allow());
    }
    let agent = event
        .tool_response
        .as_ref()
        .and_then(|raw| serde_json::from_str::<AgentResult>(raw.get()).ok())
        .and_then(|r| r.agent_id);
    let Some(agent) = agent.filter(|a| state.pending.iter().any(|s| &s.agent_id == a)) else {
        return Ok(Verdict::allow());
    };
    let skips = session.update::<Session, _>(&ctx.deadline, |s| {
        let (mine, rest): (Vec<Skip>, Vec<Skip>) = std::mem::take(&mut s.pending)
            .into_iter()
            .partition(|p| p.agent_id == agent);
        s.pending = rest;
        mine
    })?;
    if skips.is_empty() {
        return Ok(Verdict::allow());
    }
    Ok(Verdict::allow().with_context(compliance::report(&skips)))
}

fn on_subagent_stop(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let config = ctx.section::<SkillsConfig>()?;
    if config.compliance == Mode::Off || config.required.is_empty() {
        return Ok(Verdict::allow());
    }
    let agent_type = event.agent_type.as_deref().unwrap_or("");
    let required = compliance::required(agent_type, &config);
    if required.is_empty() {
        return Ok(Verdict::allow());
    }
    let Some(transcript) = event.agent_transcript_path.as_deref() else {
        ctx.warn("SubagentStop without agent_transcript_path: skill compliance not checked");
        return Ok(Verdict::allow());
    };
    let loaded = match Loaded::from_transcript(Path::new(transcript)) {
        Ok(l) => l,
        Err(e) => {
            ctx.warn(&format!("reading the agent's transcript {transcript}: {e}"));
            return Ok(Verdict::allow());
        }
    };
    let index = index(ctx, &config);
    let missing: Vec<String> = required
        .into_iter()
        .filter(|r| !loaded.has(r, &index))
        .collect();
    if missing.is_empty() {
        return Ok(Verdict::allow());
    }
    let agent_id = event.agent_id.clone().unwrap_or_default();
    let session = ctx.state().session(event.session()?)?;
    let enforce = config.compliance == Mode::Enforce;
    let detail = json!({"agent_type": agent_type, "agent_id": agent_id, "missing": missing});
    let step = session.update::<Session, _>(&ctx.deadline, |s| {
        if enforce && s.sent_back.insert(agent_id.clone()) {
            return Step::SendBack;
        }
        if !s.reported.insert(agent_id.clone()) {
            return Step::AlreadyReported;
        }
        s.pending.push(Skip {
            agent_id: agent_id.clone(),
            agent_type: agent_type.to_owned(),
            missing: missing.clone(),
        });
        Step::Report
    })?;
    Ok(match step {
        Step::SendBack => Verdict::block(format!(
            "Before you finish: a `{agent_type}` agent must load {}. Load it now, check your work against it, fix what it asks for, then finish.",
            compliance::how_to_load(&missing, &index)
        ))
        .with_log_mark("skills-skipped", detail),
        Step::Report => Verdict::allow().with_log_mark("skills-skipped", detail),
        Step::AlreadyReported => Verdict::allow(),
    })
}

/// What a skipped required skill does at this stop.
enum Step {
    /// `enforce`, first stop: the agent is sent back to load it.
    SendBack,
    /// Put on record for the orchestrator.
    Report,
    /// Another stop of an agent already on record.
    AlreadyReported,
}

/// The library as the gateway sees it, read now (not from the cache).
#[must_use]
pub fn library(
    project: &Path,
    claude_home: Option<&Path>,
    home: Option<&Path>,
    config: &SkillsConfig,
) -> Library {
    library::read(&Roots::new(project, claude_home, home, config), config)
}

/// One candidate of [`route`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    /// The skill's name.
    pub name: String,
    /// Its `SKILL.md`, as the agent would be told.
    pub path: String,
    /// Its BM25 score for the prompt.
    pub score: f64,
    /// Whether the gateway would offer it (before any per-session repeat check).
    pub chosen: bool,
}

/// What the gateway would do with a prompt: `small_talk` (nothing offered, whatever the scores), the
/// best candidates with their scores, and the text it would inject.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RouteReport {
    /// The prompt reads as conversation, not a task.
    pub small_talk: bool,
    /// The ten best-scoring skills.
    pub candidates: Vec<Candidate>,
    /// The context the gateway would add, if any.
    pub context: Option<String>,
}

/// Routes `prompt` as the hook would, for tuning: every score, not only the chosen.
#[must_use]
pub fn route(
    project: &Path,
    claude_home: Option<&Path>,
    home: Option<&Path>,
    config: &SkillsConfig,
    prompt: &str,
) -> RouteReport {
    let (index, _) = Index::build(&Roots::new(project, claude_home, home, config), config);
    route_in(&index, config, prompt)
}

fn route_in(index: &Index, config: &SkillsConfig, prompt: &str) -> RouteReport {
    let stemmer = text::stemmer();
    let small_talk = text::is_small_talk(prompt, &stemmer);
    let ranked = index.rank(prompt, &stemmer);
    let chosen = if small_talk {
        Vec::new()
    } else {
        index::choose(&ranked, config)
    };
    RouteReport {
        small_talk,
        candidates: ranked
            .iter()
            .take(10)
            .map(|s| Candidate {
                name: index.docs[s.skill].name.clone(),
                path: index.docs[s.skill].path.clone(),
                score: (s.score * 100.0).round() / 100.0,
                chosen: chosen.iter().any(|c| c.skill == s.skill),
            })
            .collect(),
        context: (!chosen.is_empty()).then(|| skill_lines(index, &chosen)),
    }
}

#[cfg(test)]
mod tests;
