//! handoff-router: every subagent ends with a status, and a blocked one is routed (seed 002 §4.6 "Blocked
//! Agent Routing", §6.1 structured handoffs; issue 38).
//!
//! - **`SubagentStart`**: an agent that must end with a status is told how, in its own context
//!   ([`HOW_TO_END`]), so it states one the first time.
//! - **`SubagentStop`**: the agent's final report (`last_assistant_message`) is read for its status
//!   ([`status`]): a closing `STATUS: DONE | DONE_WITH_CONCERNS | NEEDS_CONTEXT | BLOCKED` line with a reason,
//!   or a JSON handoff `{"status", "reason", "needs"}`. A report with none, from an agent type that must give
//!   one (`handoff.required`; default every agent defined in the project's `.claude/agents/`), is sent back
//!   once to state it (`enforce`), then let go with a note to the main thread. A reviewer's or tester's
//!   `VERDICT:` line (feedback-loop's protocol) counts as `DONE`. A stated status is routed
//!   by the table (`handoff.routes`, first match wins; [`config::default_routes`]) and the route is kept
//!   for the main thread.
//! - **Delivery, exactly once**: a foreground agent's route is context on its `Agent` call's result
//!   (`PostToolUse`); a background agent's at the main thread's next prompt or stop (a `Stop` is held with
//!   it: a blocked agent's route must not be lost because the turn ended). Whichever comes first takes it.
//! - **No loops**: the same agent type routed the same way twice in one request (prompt) goes to the user
//!   the second time.
//! - **Record**: every handoff (agent, status, reason, route) is in the decision log, which
//!   `portcullis handoffs` reads; routed ones are also kept in `sessions/<id>/handoffs.json` for the loop
//!   rule. A plain `DONE` writes no state.
//! - **`ON_ERROR`**: [`Failure::Open`]: routing is advice; a broken table must not hold a subagent.

pub mod config;
pub mod route;
pub mod status;

use std::collections::BTreeSet;

use globset::Glob;
use portcullis_core::client::ClientSupport;
use portcullis_core::config::SectionSpec;
use portcullis_core::state::StateFile;
use portcullis_core::{
    Client, Ctx, Event, EventName, Failure, Hook, Mode, Registration, Result, Verdict,
};
use portcullis_domains::AgentFirstConfig;
use portcullis_domains::{AgentCatalog, AgentSource, DomainMap, DomainsConfig, FallbackDomain};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use config::{HandoffConfig, Route, Target};
pub use status::{Reading, Stated, Status};

use route::{Chosen, Project};

/// The hook.
#[derive(Debug)]
pub struct HandoffRouter;

/// Handoffs kept per session (the oldest go first).
const MAX_RECORDS: usize = 500;

/// One subagent's handoff, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Handoff {
    /// When (RFC 3339).
    pub at: String,
    /// The main thread's request (prompt id) it ended in.
    #[serde(default)]
    pub prompt_id: Option<String>,
    /// The agent's id.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// The status it gave; `None`: none.
    pub status: Option<Status>,
    /// Its reason.
    pub reason: String,
    /// Where it was routed (`user`, `agent:<type>`, `retry`, `note`), or empty when no route fits.
    pub route: String,
    /// Where the table would have routed it, when that was not where it went: the same agent type was
    /// already routed there in this request, so it went to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looped_from: Option<String>,
}

/// A route not yet told to the main thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    agent_id: String,
    /// It asks the main thread to act (not only a note): a stop is held with it.
    act: bool,
    text: String,
}

/// The router's per-session state: `sessions/<id>/handoffs.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Handoffs {
    /// The handoffs routed somewhere (or noted), oldest first: what the loop rule looks at. Every
    /// handoff, routed or not, is in the decision log (`portcullis handoffs` reads it there).
    pub(crate) records: Vec<Handoff>,
    /// Agents already sent back once to state their status.
    sent_back: BTreeSet<String>,
    /// Routes not yet given to the main thread.
    pending: Vec<Pending>,
}

impl StateFile for Handoffs {
    const NAME: &'static str = "handoffs";
    const SCHEMA_VERSION: u32 = 1;
}

impl Hook for HandoffRouter {
    const NAME: &'static str = "handoff-router";
    const SUMMARY: &'static str = "Every subagent ends with a status (DONE, DONE_WITH_CONCERNS, NEEDS_CONTEXT, BLOCKED); a blocked one is routed by a table to the user, another agent or back with context, and the main thread is told the call to make, once.";
    // `Stop` first: it is the hook's home event for the suite's bad-input and own-files checks, the
    // event on which it always reads its state.
    const EVENTS: &'static [Registration] = &[
        Registration::every("Stop").claude_code_only(),
        Registration::every("SubagentStart").claude_code_only(),
        Registration::every("SubagentStop").claude_code_only(),
        Registration::matching("PostToolUse", "Agent").claude_code_only(),
        Registration::every("UserPromptSubmit").claude_code_only(),
    ];
    const ON_ERROR: Failure = Failure::Open;
    // A route to the advisor waits for it (`escalation_advisor.timeout_secs`, 40 s at most); every other
    // path ends in milliseconds.
    const DEADLINE: std::time::Duration = portcullis_advisor::ADVISOR_HOOK_DEADLINE;
    const TIMEOUT_SECS: u32 = portcullis_advisor::ADVISOR_HOOK_TIMEOUT_SECS;
    const SECTIONS: &'static [SectionSpec] = &[
        SectionSpec::of::<HandoffConfig>(),
        SectionSpec::of::<portcullis_advisor::EscalationAdvisorConfig>(),
        SectionSpec::of::<AgentFirstConfig>(),
        SectionSpec::of::<DomainsConfig>(),
        SectionSpec::of::<FallbackDomain>(),
    ];
    const CODEX: ClientSupport = ClientSupport::No(
        "Codex 0.169's subagents report `agent_type: \"default\"` and their results reach the parent as \
         spawn_agent output with no stop event of their own to send back: there is no agent type to route by",
    );
    const GEMINI: ClientSupport = ClientSupport::No(
        "Gemini CLI 0.61 fires no event when a subagent ends, and its tool calls carry no agent id: there is no \
         report to send back before the parent reads it",
    );
    const COPILOT: ClientSupport = ClientSupport::No(
        "Copilot CLI 1.0.102 sends SubagentStart in its camelCase dialect whatever the configured case, so a \
         subagent cannot be told how to end, and its own events carry its id as the session",
    );

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        if event.client == Client::Codex {
            return Ok(Verdict::allow());
        }
        // Read at every event, so a broken section is reported (and the hook fails open) wherever it runs.
        if ctx.section::<HandoffConfig>()?.mode == Mode::Off {
            return Ok(Verdict::allow());
        }
        match event.name() {
            EventName::SubagentStart => on_subagent_start(event, ctx),
            EventName::SubagentStop => on_subagent_stop(event, ctx),
            EventName::PostToolUse if event.tool() == Some("Agent") => on_agent_result(event, ctx),
            EventName::Stop | EventName::UserPromptSubmit if !event.is_subagent() => {
                deliver_pending(event, ctx)
            }
            _ => Ok(Verdict::allow()),
        }
    }
}

/// Whether `agent_type` must end with a status.
fn must_state(agent_type: &str, config: &HandoffConfig, ctx: &Ctx) -> bool {
    match &config.required {
        Some(globs) => globs
            .iter()
            .any(|g| Glob::new(g).is_ok_and(|g| g.compile_matcher().is_match(agent_type))),
        None => AgentCatalog::discover_cached(
            &ctx.project,
            ctx.env.claude_home().as_deref(),
            &ctx.state(),
        )
        .agents
        .iter()
        .any(|a| a.source == AgentSource::Project && a.name == agent_type),
    }
}

/// What a subagent that must end with a status is told as it starts (SubagentStart context reaches the
/// subagent), so that it states one the first time instead of being sent back for it.
pub const HOW_TO_END: &str = "[handoff-router] End your final report with one line `STATUS: <status> — <reason>`, the status one of \
     DONE, DONE_WITH_CONCERNS, NEEDS_CONTEXT or BLOCKED (or a JSON handoff {\"status\": \"blocked\", \"reason\": \"…\", \"needs\": \"…\"}). \
     If you cannot finish, say BLOCKED or NEEDS_CONTEXT and what would unblock you; do not guess. A reviewer's or \
     tester's `VERDICT:` line counts as DONE.";

fn on_subagent_start(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let config = ctx.section::<HandoffConfig>()?;
    let agent_type = event.agent_type.as_deref().unwrap_or("");
    if !must_state(agent_type, &config, ctx) {
        return Ok(Verdict::allow());
    }
    Ok(Verdict::allow().with_context(HOW_TO_END))
}

/// The text an agent is sent back with when its report has no status: [`HOW_TO_END`], after what is wrong.
fn ask_for_status(unknown: Option<&str>) -> String {
    let what = match unknown {
        Some(word) => format!("Your report's status `{word}` is none of the four."),
        None => "Your report has no status.".to_owned(),
    };
    let how = HOW_TO_END.trim_start_matches("[handoff-router] ");
    format!("{what} Do not redo the work. {how}")
}

fn on_subagent_stop(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let config = ctx.section::<HandoffConfig>()?;
    let report = event.last_assistant_message.as_deref().unwrap_or("");
    let agent_type = event.agent_type.as_deref().unwrap_or("");
    let agent_id = event.agent_id.clone().unwrap_or_default();
    match status::read(report) {
        Reading::Stated(stated) => route_stated(event, ctx, &config, &stated, report, &agent_id),
        // A reviewer's or tester's verdict (feedback-loop's protocol) is a finished report: feedback-loop
        // routes a FAIL; asking for a status too would make two hooks ask two things of one report.
        _ if portcullis_domains::verdict::parse(report).is_some() => {
            let stated = Stated {
                status: Status::Done,
                reason: "a reviewer's or tester's verdict".into(),
                needs: Vec::new(),
            };
            route_stated(event, ctx, &config, &stated, report, &agent_id)
        }
        reading => {
            if !must_state(agent_type, &config, ctx) {
                return Ok(Verdict::allow());
            }
            let unknown = match &reading {
                Reading::Unknown(word) => Some(word.clone()),
                _ => None,
            };
            let session = ctx.state().session(event.session()?)?;
            let enforce = config.mode == Mode::Enforce;
            let note = format!(
                "[handoff-router] `{agent_type}` ended without a status{}. Read its report before you rely on it: it may not have finished.",
                if enforce {
                    " (it was asked once to give one)"
                } else {
                    ""
                }
            );
            let detail = json!({"agent_type": agent_type, "agent_id": agent_id, "prompt_id": event.prompt_id, "status": "missing", "reason": unknown.as_deref().map(cut).unwrap_or_default(), "route": "note", "looped": false});
            let sent_back = session.update::<Handoffs, _>(&ctx.deadline, |s| {
                if enforce && s.sent_back.insert(agent_id.clone()) {
                    return true;
                }
                record(
                    s,
                    Handoff {
                        at: ctx.now.to_rfc3339(),
                        prompt_id: event.prompt_id.clone(),
                        agent_id: agent_id.clone(),
                        agent_type: agent_type.to_owned(),
                        status: None,
                        reason: unknown.clone().unwrap_or_default(),
                        route: "note".into(),
                        looped_from: None,
                    },
                    Some(Pending {
                        agent_id: agent_id.clone(),
                        act: false,
                        text: note.clone(),
                    }),
                );
                false
            })?;
            Ok(if sent_back {
                Verdict::block(ask_for_status(unknown.as_deref()))
                    .with_log_mark("handoff-missing", detail)
            } else {
                Verdict::allow().with_log_mark("handoff", detail)
            })
        }
    }
}

/// Keeps `handoff` as this agent's record in this request (replacing an earlier stop's), and its route
/// as the one pending for it.
fn record(state: &mut Handoffs, handoff: Handoff, pending: Option<Pending>) {
    state
        .records
        .retain(|r| !(r.agent_id == handoff.agent_id && r.prompt_id == handoff.prompt_id));
    state.pending.retain(|p| p.agent_id != handoff.agent_id);
    state.records.push(handoff);
    if state.records.len() > MAX_RECORDS {
        let extra = state.records.len() - MAX_RECORDS;
        state.records.drain(..extra);
    }
    if let Some(p) = pending {
        state.pending.push(p);
    }
}

/// The project as routing sees it.
fn routed(ctx: &Ctx, stated: &Stated, agent_type: &str, table: &[Route]) -> Result<Option<Chosen>> {
    let domains = DomainMap::from_config(
        &*ctx.section::<DomainsConfig>()?,
        &*ctx.section::<FallbackDomain>()?,
    )?;
    let agent_first = ctx.section::<AgentFirstConfig>()?;
    let catalog =
        AgentCatalog::discover_cached(&ctx.project, ctx.env.claude_home().as_deref(), &ctx.state());
    let project = Project {
        root: &ctx.project,
        domains: &domains,
        agent_first: &agent_first,
        catalog: &catalog,
    };
    Ok(route::choose(stated, agent_type, table, &project))
}

fn route_stated(
    event: &Event,
    ctx: &Ctx,
    config: &HandoffConfig,
    stated: &Stated,
    report: &str,
    agent_id: &str,
) -> Result<Verdict> {
    let agent_type = event.agent_type.as_deref().unwrap_or("");
    // The domain table and the agent catalog are read only when some row could take this status (none
    // takes a plain DONE in the default table).
    let table = config.table();
    let chosen = if table
        .iter()
        .any(|r| r.status.is_empty() || r.status.contains(&stated.status))
    {
        routed(ctx, stated, agent_type, &table)?
    } else {
        None
    };
    let detail = |route: &str, looped: bool| json!({"agent_type": agent_type, "agent_id": agent_id, "prompt_id": event.prompt_id, "status": stated.status.as_str(), "reason": cut(&stated.reason), "route": route, "looped": looped});
    if chosen.is_none() {
        // Nothing for the main thread (a plain DONE): the decision log is the record, and no state is
        // written, so the common stop costs what a read-only hook does.
        return Ok(Verdict::allow().with_log_mark("handoff", detail("", false)));
    }
    // The advisor is asked before the state lock is taken: it may take seconds.
    let chosen = match chosen {
        Some(c) if c.target == Target::Advisor => {
            Some(ask_advisor(ctx, stated, agent_type, report)?)
        }
        other => other,
    };
    let session = ctx.state().session(event.session()?)?;
    let prompt_id = event.prompt_id.clone();
    let outcome = session.update::<Handoffs, _>(&ctx.deadline, |s| {
        let mut chosen = chosen.clone();
        // The same agent type blocked again on the same route in this request goes to the user.
        let table_route = chosen.as_ref().map(|c| c.target.as_string());
        let looped = chosen.as_ref().is_some_and(|c| {
            !matches!(c.target, Target::User | Target::Note)
                && s.records.iter().any(|r| {
                    r.agent_id != agent_id
                        && r.prompt_id == prompt_id
                        && r.agent_type == agent_type
                        && (Some(&r.route) == table_route.as_ref() || r.looped_from == table_route)
                })
        });
        if looped {
            chosen = Some(Chosen {
                target: Target::User,
                row: None,
                because: String::new(),
            });
        }
        let pending = chosen.as_ref().map(|c| Pending {
            agent_id: agent_id.to_owned(),
            act: c.target != Target::Note,
            text: route::advice(agent_type, stated, c, report, looped),
        });
        let route_name = chosen
            .as_ref()
            .map(|c| c.target.as_string())
            .unwrap_or_default();
        record(
            s,
            Handoff {
                at: ctx.now.to_rfc3339(),
                prompt_id: prompt_id.clone(),
                agent_id: agent_id.to_owned(),
                agent_type: agent_type.to_owned(),
                status: Some(stated.status),
                reason: stated.reason.clone(),
                route: route_name.clone(),
                looped_from: if looped { table_route } else { None },
            },
            pending,
        );
        (route_name, looped)
    })?;
    let (route_name, looped) = outcome;
    Ok(Verdict::allow().with_log_mark("handoff", detail(&route_name, looped)))
}

/// The advisor's hint for a blocked handoff, as the route's `because`; when it gives none, the user is
/// the route, and the main thread is told why.
fn ask_advisor(ctx: &Ctx, stated: &Stated, agent_type: &str, report: &str) -> Result<Chosen> {
    let advisor = ctx.section::<portcullis_advisor::EscalationAdvisorConfig>()?;
    let needs = if stated.needs.is_empty() {
        String::new()
    } else {
        format!(" It needs: {}.", stated.needs.join("; "))
    };
    let mut prompt = format!(
        "A subagent of type `{agent_type}`, working for an orchestrating AI coding agent, stopped and reports \
         {}: {}.{needs} Its report (cut):\n{}\n\nIn one or two sentences, say what the orchestrator should do \
         next to unblock it: what to find out, from whom, or what to change. Answer with the advice only.",
        stated.status.as_line(),
        stated.reason,
        route::excerpt(report, 4000)
    );
    let scanner =
        portcullis_secrets::Scanner::new(portcullis_secrets::files::project_values(&ctx.project));
    if let Some((clean, _)) = scanner.redact(&prompt) {
        prompt = clean;
    }
    let timeout = std::time::Duration::from_secs(u64::from(advisor.timeout_secs))
        .min(ctx.deadline.remaining());
    Ok(
        match portcullis_advisor::ask(&advisor.command, &prompt, &ctx.project, timeout) {
            Ok(hint) => Chosen {
                target: Target::Advisor,
                row: None,
                because: hint,
            },
            Err(why) => {
                ctx.warn(&format!(
                    "handoff-router: {why}; the handoff goes to the user"
                ));
                Chosen {
                    target: Target::User,
                    row: None,
                    because: String::new(),
                }
            }
        },
    )
}

/// A reason as the decision log keeps it: at most 300 bytes.
fn cut(reason: &str) -> String {
    if reason.len() <= 300 {
        return reason.to_owned();
    }
    let mut end = 300;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &reason[..end])
}

/// The fields of an `Agent` call's result the router reads.
#[derive(Deserialize)]
struct AgentResult {
    #[serde(rename = "agentId")]
    agent_id: Option<String>,
    status: Option<String>,
}

/// A foreground agent's result: its pending route goes with it, as context.
fn on_agent_result(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let Some(raw) = event.tool_response.as_ref() else {
        return Ok(Verdict::allow());
    };
    let Ok(result) = serde_json::from_str::<AgentResult>(raw.get()) else {
        return Ok(Verdict::allow());
    };
    if result.status.as_deref() == Some("async_launched") {
        return Ok(Verdict::allow());
    }
    let Some(agent_id) = result.agent_id else {
        return Ok(Verdict::allow());
    };
    let session = ctx.state().session(event.session()?)?;
    let (state, _) = session.load::<Handoffs>()?;
    if !state.pending.iter().any(|p| p.agent_id == agent_id) {
        return Ok(Verdict::allow());
    }
    let taken = session.update::<Handoffs, _>(&ctx.deadline, |s| {
        let (mine, rest): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut s.pending)
            .into_iter()
            .partition(|p| p.agent_id == agent_id);
        s.pending = rest;
        mine
    })?;
    Ok(match taken.as_slice() {
        [] => Verdict::allow(),
        _ => Verdict::allow().with_context(texts(&taken)),
    })
}

fn texts(pending: &[Pending]) -> String {
    pending
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The main thread's prompt or stop: routes of agents whose results came without them (background
/// agents) are given now. A stop is held when one asks the main thread to act.
fn deliver_pending(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let session = ctx.state().session(event.session()?)?;
    let (state, _) = session.load::<Handoffs>()?;
    if state.pending.is_empty() {
        return Ok(Verdict::allow());
    }
    let taken = session.update::<Handoffs, _>(&ctx.deadline, |s| std::mem::take(&mut s.pending))?;
    if taken.is_empty() {
        return Ok(Verdict::allow());
    }
    let text = texts(&taken);
    let agents: Vec<Value> = taken.iter().map(|p| json!(p.agent_id)).collect();
    let detail = json!({"delivered": agents});
    Ok(
        if event.name() == EventName::Stop && taken.iter().any(|p| p.act) {
            Verdict::block(text).with_log_mark("handoff-delivered", detail)
        } else {
            Verdict::allow()
                .with_context(text)
                .with_log_mark("handoff-delivered", detail)
        },
    )
}

#[cfg(test)]
mod tests;
