//! `portcullis progress`: the feature manifests feature-progress announces at every session start —
//! `start "TITLE" [--type T]`, `phase NAME|NUMBER`, `note "TEXT"`, `done`, `status [--json]`.

use std::fmt::Write as _;
use std::path::Path;

use compaction_gate::{Band, CompactionGateConfig};
use feature_progress::manifest::{FeatureStatus, HEAVY_PHASES, WorkType};
use feature_progress::store::Store;
use portcullis_context::{self as context, Scope};
use portcullis_core::config::{Config, Mode, Schema};
use portcullis_core::{Deadline, Env, budget};
use serde_json::{Value, json};

use super::{CmdResult, Report};

/// What `portcullis progress` was asked.
#[derive(Debug)]
pub enum ProgressAction {
    /// Start a feature.
    Start {
        /// Its title.
        title: String,
        /// bugfix, small, medium or large.
        work_type: String,
    },
    /// Move a feature to a phase.
    Phase {
        /// A number or a name.
        phase: String,
        /// The feature (default: the one active).
        feature: Option<String>,
    },
    /// Append to a feature's log.
    Note {
        /// The text.
        text: String,
        /// The feature (default: the one active).
        feature: Option<String>,
    },
    /// Finish a feature.
    Done {
        /// The feature (default: the one active).
        feature: Option<String>,
    },
    /// Show the features.
    Status {
        /// Print JSON.
        json: bool,
    },
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `portcullis progress`.
pub fn progress(project: &Path, action: ProgressAction, env: &Env) -> CmdResult {
    let store = Store::new(project);
    let deadline = Deadline::after(budget::LOCK_WAIT * 4);
    let text = match action {
        ProgressAction::Start { title, work_type } => {
            let t = WorkType::parse(&work_type)
                .ok_or_else(|| format!("--type {work_type}: use bugfix, small, medium or large"))?;
            let m = store.start(&title, t, &now()).map_err(|e| e.to_string())?;
            let path = store.manifest_path(&m.id);
            let shown = path.strip_prefix(project).unwrap_or(&path);
            format!(
                "started `{}` ({}): {}\n{}\n",
                m.id,
                shown.display(),
                m.title,
                m.summary()
            )
        }
        ProgressAction::Phase { phase, feature } => {
            let id = store.pick(feature.as_deref()).map_err(|e| e.to_string())?;
            store
                .update(&id, &deadline, |m| {
                    let n = m
                        .find_phase(&phase)
                        .map_err(feature_progress::store::StoreError::Other)?;
                    heavy_phase_gate(project, env, n, m.phases[usize::from(n) - 1].name.as_str())
                        .map_err(feature_progress::store::StoreError::Other)?;
                    m.move_to(n, &now());
                    Ok(m.summary())
                })
                .map_err(|e| e.to_string())?
                + "\n"
        }
        ProgressAction::Note { text, feature } => {
            let id = store.pick(feature.as_deref()).map_err(|e| e.to_string())?;
            store
                .update(&id, &deadline, |m| {
                    m.note(&text, &now());
                    Ok(format!("noted in `{}`\n", m.id))
                })
                .map_err(|e| e.to_string())?
        }
        ProgressAction::Done { feature } => {
            let id = store.pick(feature.as_deref()).map_err(|e| e.to_string())?;
            store
                .update(&id, &deadline, |m| {
                    m.finish(&now());
                    Ok(format!("`{}` is done: {}\n", m.id, m.title))
                })
                .map_err(|e| e.to_string())?
        }
        ProgressAction::Status { json } => return Ok(status(&store, json)),
    };
    Ok(Report::ok(text))
}

/// Seed 002 §4.3: a heavy phase (3, 8, 13: its agents fill the context) is not entered while the
/// session's context is in compaction-gate's block band. The session is the project's newest
/// transcript (the one running this command); when there is none, or the gate is off, nothing is refused.
fn heavy_phase_gate(project: &Path, env: &Env, number: u8, name: &str) -> Result<(), String> {
    if !HEAVY_PHASES.contains(&number) {
        return Ok(());
    }
    let sections = portcullis_suite::sections();
    let config = Config::load(env, project, Schema::suite(&sections)).map_err(|e| e.to_string())?;
    let gate: CompactionGateConfig = config.section().map_err(|e| e.to_string())?;
    if gate.mode != Mode::Enforce {
        return Ok(());
    }
    let Some(home) = env.claude_home() else {
        return Ok(());
    };
    let Some(transcript) =
        context::newest_transcript(&context::project_sessions_dir(&home, project))
    else {
        return Ok(());
    };
    let Ok(m) = context::measure(&transcript, Scope::Main, gate.window_tokens, env) else {
        return Ok(());
    };
    if Band::of(m.percent, &gate) != Band::Block {
        return Ok(());
    }
    Err(format!(
        "phase {number} {name} is a heavy phase, and the session's context is at {}% ({} of {} \
         tokens), past compaction-gate's block point ({}%): its agents would be refused. Compact \
         first (/compact), then enter the phase.",
        m.percent,
        context::short_tokens(m.used_tokens),
        context::short_tokens(m.window_tokens),
        gate.block_percent
    ))
}

fn status(store: &Store, json_out: bool) -> Report {
    let all = store.all();
    let broken = all.iter().any(|(_, m)| m.is_err());
    if json_out {
        let v: Vec<Value> = all
            .iter()
            .map(|(id, m)| match m {
                Ok(m) => serde_json::to_value(m).unwrap_or_else(|_| json!({"id": id})),
                Err(e) => json!({"id": id, "error": e.to_string()}),
            })
            .collect();
        return Report {
            text: format!("{}\n", Value::Array(v)),
            ok: !broken,
        };
    }
    let mut text = String::new();
    for (id, m) in &all {
        match m {
            Ok(m) if m.status == FeatureStatus::Active => {
                let _ = writeln!(text, "{}", m.summary());
            }
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(text, "- `{id}`: {e}");
            }
        }
    }
    let done = all
        .iter()
        .filter(|(_, m)| m.as_ref().is_ok_and(|m| m.status == FeatureStatus::Done))
        .count();
    if text.is_empty() {
        text.push_str("no active feature\n");
    }
    if done > 0 {
        let _ = writeln!(text, "({done} done)");
    }
    Report { text, ok: !broken }
}
