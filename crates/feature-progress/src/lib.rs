//! feature-progress: the work itself survives sessions (seed 000; seed 002 §4.3-4.4, §5.4).
//!
//! - **The manifest** ([`manifest::Manifest`]): `.claude/.output/features/<id>/MANIFEST.yaml`, one per
//!   feature: its title and work type, the 16 phases of the orchestration template minus those its type
//!   skips, the current phase, and a log. A person may edit it; keys they add are kept.
//! - **The store** ([`store::Store`]): every change is read, changed and written back whole under a lock
//!   beside the manifest, through a temp file and a rename. A manifest that does not parse is reported
//!   with its line and never overwritten.
//! - **`portcullis progress`** drives it (start, phase, done, note, status), for a person or an agent
//!   through Bash.
//! - **The hook** (`SessionStart`: startup, resume, clear, compact): the active features, a line each
//!   (title, current phase, what is done, what is next, the last note), go into Claude's context, so no
//!   session starts blind to the work in progress. A finished feature is not announced.
//! - **What the hooks see** is recorded in the one active feature's manifest: each agent that stops
//!   (type, id, the first line of its answer), and at each stop of the main thread feedback-loop's last
//!   logged verdict and the context in use (compaction-gate's measure). Never a block.
//! - **`ON_ERROR`**: [`Failure::Open`]: a session must start whatever the manifests hold.
//! - **Budget**: with no features folder, one failed `stat`.

pub mod manifest;
mod record;
pub mod store;

use std::fmt::Write as _;

use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};
use serde_json::json;

use manifest::FeatureStatus;
use store::{Store, StoreError};

/// The most features told at a session start; more are counted.
const MAX_TOLD: usize = 5;

/// The hook.
pub struct FeatureProgress;

impl Hook for FeatureProgress {
    const NAME: &'static str = "feature-progress";
    const SUMMARY: &'static str = "At every session start, resume and compaction, the features in progress (MANIFEST.yaml: title, phase, what is done and next) go into Claude's context.";
    const EVENTS: &'static [Registration] = &[
        Registration::matching("SessionStart", "startup|resume|clear|compact"),
        Registration::every("SubagentStop"),
        Registration::every("Stop"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    // The context figure at each stop reads the same variables as compaction-gate.
    const ENV_VARS: &'static [&'static str] = portcullis_context::ENV_VARS;

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        let store = Store::new(&ctx.project);
        if !store.dir().is_dir() {
            return Ok(Verdict::allow());
        }
        match event.name() {
            EventName::SessionStart => {}
            EventName::SubagentStop => {
                record::agent_stopped(event, ctx, &store)?;
                return Ok(Verdict::allow());
            }
            EventName::Stop => {
                record::session_stopped(event, ctx, &store)?;
                return Ok(Verdict::allow());
            }
            _ => return Ok(Verdict::allow()),
        }
        Ok(briefing(&store).map_or_else(Verdict::allow, |(text, ids)| {
            Verdict::allow()
                .with_context(text)
                .with_log_mark("progress", json!({"features": ids, "source": event.source}))
        }))
    }
}

/// What a session is told of the work in progress, and the features told; `None` when nothing is
/// active and nothing is broken.
#[must_use]
pub fn briefing(store: &Store) -> Option<(String, Vec<String>)> {
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    let mut more = 0;
    for (id, m) in store.all() {
        let line = match m {
            Ok(m) if m.status == FeatureStatus::Done => continue,
            Ok(m) => m.summary(),
            Err(StoreError::Unreadable(path, line, why)) => {
                let rel = path.strip_prefix(store.dir()).unwrap_or(&path);
                format!(
                    "- `.claude/.output/features/{}:{line}` does not parse ({why}): fix it by hand",
                    rel.display()
                )
            }
            Err(StoreError::Other(why)) => format!("- `{id}`: {why}"),
        };
        if lines.len() == MAX_TOLD {
            more += 1;
            continue;
        }
        lines.push(line);
        ids.push(id);
    }
    if lines.is_empty() {
        return None;
    }
    let mut text = String::from(
        "[feature-progress] Work in progress (from .claude/.output/features/*/MANIFEST.yaml). Carry on \
         from the current phase; record progress with `portcullis progress phase NAME`, `portcullis \
         progress note \"TEXT\"` and `portcullis progress done`.\n",
    );
    text.push_str(&lines.join("\n"));
    if more > 0 {
        let _ = write!(text, "\n- and {more} more (`portcullis progress status`)");
    }
    Some((text, ids))
}

#[cfg(test)]
mod tests;
