//! What the hooks see, written into the active feature's manifest: each agent that stops
//! (`SubagentStop`), and at each stop of the main thread the last verdict feedback-loop logged and the
//! context in use (compaction-gate's measure of the transcript, or of a Codex rollout). Only with
//! exactly one active feature: with several, nothing says which the work belongs to.

use std::path::Path;

use portcullis_context as context;
use portcullis_core::log::tail;
use portcullis_core::{Ctx, Event, Result};

use crate::manifest::{AgentRun, ContextFigure, GateVerdict};
use crate::store::{Store, StoreError};

/// How far back the decision log is read for feedback-loop's last verdict.
const LOG_TAIL_BYTES: u64 = 256 << 10;

/// The one active feature's id, if there is exactly one.
fn active_one(store: &Store) -> Option<String> {
    match store.active_ids().as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` hands over
fn store_error(e: StoreError) -> portcullis_core::Error {
    portcullis_core::Error::Other(e.to_string())
}

/// SubagentStop: the agent, its type and the first line of its answer.
pub(crate) fn agent_stopped(event: &Event, ctx: &Ctx, store: &Store) -> Result<()> {
    let Some(id) = active_one(store) else {
        return Ok(());
    };
    let run = AgentRun {
        at: ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        agent_type: event.agent_type.clone().unwrap_or_else(|| "agent".into()),
        id: event.agent_id.clone().unwrap_or_default(),
        outcome: first_line(event.last_assistant_message.as_deref().unwrap_or("")),
    };
    store
        .update(&id, &ctx.deadline, |m| {
            m.record_agent(run);
            Ok(())
        })
        .map_err(store_error)
}

/// Stop of the main thread: feedback-loop's last logged verdict in this session, and the context in use.
pub(crate) fn session_stopped(event: &Event, ctx: &Ctx, store: &Store) -> Result<()> {
    let Some(id) = active_one(store) else {
        return Ok(());
    };
    let now = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let session = event.session().unwrap_or_default().to_string();
    let (entries, _) = tail(&ctx.state().log_path(), 1, LOG_TAIL_BYTES, |e| {
        e.hook == "feedback-loop" && e.session == session
    })?;
    let verdict = entries.into_iter().next().map(|e| GateVerdict {
        at: e.time,
        verdict: e.verdict,
        reason: first_line(&e.reason),
    });
    let figure = event
        .transcript_path
        .as_deref()
        .filter(|p| !p.is_empty())
        .and_then(|p| context::measure_main(Path::new(p), event.client, None, &ctx.env).ok())
        .filter(|m| !m.empty)
        .map(|m| ContextFigure {
            at: now.clone(),
            percent: m.percent,
            used_tokens: m.used_tokens,
            window_tokens: m.window_tokens,
        });
    if verdict.is_none() && figure.is_none() {
        return Ok(());
    }
    store
        .update(&id, &ctx.deadline, |m| {
            if verdict.is_some() {
                m.feedback_loop = verdict;
            }
            if figure.is_some() {
                m.context = figure;
            }
            Ok(())
        })
        .map_err(store_error)
}
