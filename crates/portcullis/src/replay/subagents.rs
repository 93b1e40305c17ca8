//! Following subagents: a Claude Code subagent's transcript (`<session>/subagents/agent-<id>.jsonl`) and a
//! Codex subagent's own rollout, each replayed between a `SubagentStart` and a `SubagentStop` where the
//! parent's call returned.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::codex_synth::CodexSynthesizer;
use super::lines::open;
use super::synth::{Synthesizer, Thread};
use super::{MAX_AGENT_DEPTH, Run, Source, first_line};

impl Run<'_> {
    /// Claude Code: the subagent of the `Agent` call `tool_use_id` (`agent_id`, or found by the call's id),
    /// from its transcript in `<session>/subagents/`.
    pub(super) fn subagent(
        &mut self,
        parent: &Synthesizer,
        parent_live: &Path,
        agent_id: &str,
        agent_type: &str,
        tool_use_id: &str,
        depth: usize,
    ) -> Result<(), String> {
        // Recorded ids are the transcript's word, not ours: they become file names only when they are
        // one safe path component.
        let session_ok = portcullis_core::state::check_id(&parent.session_id).is_ok();
        let dirs = if session_ok {
            self.subagent_dirs(&parent.session_id)
        } else {
            Vec::new()
        };
        let agent_id = if agent_id.is_empty() {
            dirs.iter()
                .find_map(|d| agent_for_tool_use(d, tool_use_id))
                .unwrap_or_default()
        } else {
            agent_id.to_owned()
        };
        if portcullis_core::state::check_id(&agent_id).is_err() || !session_ok {
            self.notes.push(format!(
                "subagent id `{}` or session id `{}` recorded in the transcript is not a safe file name: \
                 the subagent's events were not replayed",
                agent_id.escape_debug(),
                parent.session_id.escape_debug()
            ));
            return Ok(());
        }
        let file_name = format!("agent-{agent_id}.jsonl");
        let found = dirs
            .iter()
            .map(|d| d.join(&file_name))
            .find(|p| p.is_file());
        // The client's layout, beside the live main copy: `<session>/subagents/agent-<id>.jsonl`.
        let live = parent_live
            .with_extension("")
            .join("subagents")
            .join(format!("agent-{agent_id}.jsonl"));
        let path_text = live.display().to_string();
        let mut synth = Synthesizer::new(
            Thread::Subagent {
                agent_id: agent_id.clone(),
                agent_type: agent_type.to_owned(),
            },
            &parent.transcript_path,
        );
        synth.session_id.clone_from(&parent.session_id);
        synth.cwd.clone_from(&parent.cwd);
        synth.set_prompt_id(parent.prompt_id());
        self.fire(synth.event("SubagentStart", json!({})));
        if depth >= MAX_AGENT_DEPTH {
            self.notes.push(format!(
                "subagent {agent_id} is nested deeper than {MAX_AGENT_DEPTH}: its events were not replayed"
            ));
        } else if let Some(Ok(file)) = found.as_deref().map(open) {
            self.stream(file, Source::Claude(&mut synth), &live, depth + 1)?;
        } else {
            let looked: Vec<String> = dirs.iter().map(|d| format!("`{}`", d.display())).collect();
            self.notes.push(format!(
                "no transcript for subagent `{agent_id}` ({agent_type}) in {}: its own events were not \
                 replayed (the client keeps them in `<session id>/subagents/` beside the session's \
                 transcript; copy that folder with it)",
                looked.join(" or ")
            ));
        }
        let stop = synth.event(
            "SubagentStop",
            json!({"stop_hook_active": false, "agent_transcript_path": path_text,
                   "last_assistant_message": synth.last_text, "background_tasks": [], "session_crons": []}),
        );
        self.fire(stop);
        Ok(())
    }

    /// Codex: the subagent at `agent_path` that `parent` spawned, from its own rollout beside the replayed
    /// one, between a SubagentStart and a SubagentStop (PROTOCOL-CODEX.md §3).
    pub(super) fn codex_subagent(
        &mut self,
        parent: &CodexSynthesizer,
        parent_live: &Path,
        agent_path: &str,
        depth: usize,
    ) -> Result<(), String> {
        let dir = self.opts.transcript.parent().unwrap_or(Path::new("."));
        let found = codex_rollout_dirs(dir)
            .iter()
            .find_map(|d| find_codex_subagent(d, &parent.thread_id, agent_path));
        let Some((file, agent_id)) = found else {
            self.notes.push(format!(
                "no rollout for the Codex subagent `{}` in `{}` (or a later day's folder): its own events \
                 were not replayed (Codex files each thread's rollout under the day it started; copy it \
                 with the parent's)",
                agent_path.escape_debug(),
                dir.display()
            ));
            return Ok(());
        };
        // Named as recorded, beside the live copy of the parent's.
        let live = parent_live.with_file_name(file.file_name().unwrap_or_default());
        let mut synth = CodexSynthesizer::subagent(parent, &agent_id, &live.display().to_string());
        self.fire(synth.event("SubagentStart", json!({})));
        if depth >= MAX_AGENT_DEPTH {
            self.notes.push(format!(
                "subagent {agent_id} is nested deeper than {MAX_AGENT_DEPTH}: its events were not replayed"
            ));
        } else {
            self.stream(open(&file)?, Source::Codex(&mut synth), &live, depth + 1)?;
        }
        let mut stop = synth.event(
            "SubagentStop",
            json!({"stop_hook_active": false, "agent_transcript_path": live.display().to_string(),
                   "last_assistant_message": synth.last_text}),
        );
        // SubagentStop names the parent's rollout as `transcript_path`.
        stop["transcript_path"] = json!(parent_live.display().to_string());
        self.fire(stop);
        Ok(())
    }

    /// Where a session's subagent transcripts may be: beside the replayed transcript, as the client lays
    /// them out, then in the client's own project folders (for a transcript copied away without them),
    /// found by session id.
    fn subagent_dirs(&self, session_id: &str) -> Vec<PathBuf> {
        let beside = self
            .opts
            .transcript
            .parent()
            .unwrap_or(Path::new("."))
            .join(session_id)
            .join("subagents");
        let mut dirs = vec![beside];
        if let Some(projects) = self.env.claude_home().map(|h| h.join("projects")) {
            let recorded = std::fs::read_dir(&projects).into_iter().flatten().flatten();
            for dir in recorded.map(|p| p.path().join(session_id).join("subagents")) {
                if dir.is_dir() && !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        dirs
    }
}

/// How many days after its parent's a Codex subagent's rollout folder is looked for (a session resumed
/// later spawns its subagents on the day of the resume).
const CODEX_DAYS_AHEAD: u64 = 31;

/// The folders a Codex subagent's rollout may be in: its parent's, and, when that is a day of Codex's
/// `sessions/YYYY/MM/DD/` tree, the days after it that exist (a thread is filed under the day it started,
/// and a subagent may start after midnight), up to [`CODEX_DAYS_AHEAD`].
fn codex_rollout_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![dir.to_path_buf()];
    let number = |p: Option<&Path>| p?.file_name()?.to_str()?.parse::<u32>().ok();
    let month_dir = dir.parent();
    let year_dir = month_dir.and_then(Path::parent);
    let (Some(day), Some(month), Some(year), Some(root)) = (
        number(Some(dir)),
        number(month_dir),
        number(year_dir),
        year_dir.and_then(Path::parent),
    ) else {
        return dirs;
    };
    let Some(start) = i32::try_from(year)
        .ok()
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, month, day))
    else {
        return dirs;
    };
    for later in (1..=CODEX_DAYS_AHEAD).filter_map(|n| start.checked_add_days(chrono::Days::new(n)))
    {
        let folder = root.join(later.format("%Y/%m/%d").to_string());
        if folder.is_dir() {
            dirs.push(folder);
        }
    }
    dirs
}

/// The rollout in `dir` of the Codex subagent at `agent_path` that thread `parent_thread` spawned, and
/// the subagent's id: its first line (`session_meta`) names both.
fn find_codex_subagent(
    dir: &Path,
    parent_thread: &str,
    agent_path: &str,
) -> Option<(PathBuf, String)> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("rollout-"))
                && p.is_file()
        })
        .find_map(|p| {
            let meta = first_line(&p)?;
            let m = &meta["payload"];
            (meta["type"] == "session_meta"
                && m["parent_thread_id"] == parent_thread
                && m["agent_path"] == agent_path)
                .then(|| m["id"].as_str().map(|id| (p.clone(), id.to_owned())))
                .flatten()
        })
}

/// The agent id whose `agent-<id>.meta.json` names `tool_use_id` (for results that lack `agentId`).
fn agent_for_tool_use(dir: &Path, tool_use_id: &str) -> Option<String> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let id = name.strip_prefix("agent-")?.strip_suffix(".meta.json")?;
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok()?;
        (meta["toolUseId"] == tool_use_id).then(|| id.to_owned())
    })
}
