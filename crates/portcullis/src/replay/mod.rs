//! `portcullis replay`: a recorded session through the hooks, as Claude Code would have fired them.
//!
//! The transcript is streamed line by line (a line over [`MAX_LINE_BYTES`] is skipped without being held),
//! so memory stays bounded whatever the file's size; a line that is not JSON is counted and skipped, never
//! fatal. [`synth`] turns entries into events; this module finds the matching portcullis handlers (in the
//! project's settings, or `--hooks FILE`), runs them as processes with a throwaway state folder (so a
//! replay never touches the project's real state or decision log), and prints a timeline.

pub mod codex_synth;
mod lines;
mod render;
pub mod synth;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_core::Env;
use portcullis_core::ctx::find_project_root;
use portcullis_core::env_vars;
use portcullis_core::event::Event;
use serde_json::{Value, json};

use crate::commands::{CmdResult, Handler, load_settings, matching_handlers_in};
use crate::exec;
use codex_synth::CodexSynthesizer;
use lines::{Line, append_line, open, read_line_bounded};
use synth::{Emit, Synthesizer, Thread};

/// The synthesizer of the client whose transcript is replayed.
enum Source<'s> {
    Claude(&'s mut Synthesizer),
    Codex(&'s mut CodexSynthesizer),
}

impl Source<'_> {
    fn entry(&mut self, entry: &Value) -> Vec<Emit> {
        match self {
            Self::Claude(s) => s.entry(entry),
            Self::Codex(s) => s.entry(entry),
        }
    }
}

/// The file's first line, parsed.
fn first_line(path: &Path) -> Option<Value> {
    let mut reader = open(path).ok()?;
    let mut first = Vec::new();
    match read_line_bounded(&mut reader, &mut first, MAX_LINE_BYTES) {
        Ok(Line::Complete) => serde_json::from_slice(&first).ok(),
        _ => None,
    }
}

/// True when the file's first line is a Codex rollout's.
fn is_codex_rollout(path: &Path) -> bool {
    first_line(path).is_some_and(|v| CodexSynthesizer::recognises(&v))
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

/// The longest transcript line replay reads; longer lines are skipped (and counted) without being held
/// in memory. The biggest real lines (`prompt_snapshot`) are ~110 KB.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// How deep subagents of subagents are followed.
const MAX_AGENT_DEPTH: usize = 4;

/// What `portcullis replay` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The main transcript (`~/.claude/projects/<encoded>/<session>.jsonl`).
    pub transcript: PathBuf,
    /// A settings.json or hooks.json whose portcullis handlers to run instead of the installed ones.
    pub hooks: Option<PathBuf>,
    /// The project to run in (default: the recorded `cwd`'s project); recorded paths are rewritten to it.
    pub project: Option<PathBuf>,
    /// Where bare command names (as in hooks.json) are looked up first.
    pub bin_dir: PathBuf,
    /// Print one JSON object per event instead of the text timeline.
    pub json: bool,
    /// Compare the text timeline with this file.
    pub expect: Option<PathBuf>,
    /// With `expect`: write the timeline to the file instead of comparing.
    pub bless: bool,
}

/// One hook's verdict on one event.
#[derive(Debug, Clone)]
struct HookRun {
    hook: String,
    verdict: String,
    reason: String,
}

/// Streams the transcript, runs the hooks, and renders the result.
///
/// Hooks that read the transcript must see it as it was when the event fired, not the whole session: the
/// lines read so far are appended to a live copy in the throwaway folder (the subagents' likewise, in the
/// client's layout), and the events name that copy as `transcript_path`.
pub fn replay(opts: &Options, env: &Env) -> CmdResult {
    let mut run = Run::new(opts, env)?;
    let file = open(&opts.transcript)?;
    let name = opts.transcript.file_name().map_or_else(
        || "session.jsonl".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let live = run.state.path().join("transcripts").join(name);
    if is_codex_rollout(&opts.transcript) {
        run.codex = true;
        let mut synth = CodexSynthesizer::new(&live.display().to_string());
        run.stream(file, Source::Codex(&mut synth), &live, 0)?;
    } else {
        let mut synth = Synthesizer::new(Thread::Main, &live.display().to_string());
        run.stream(file, Source::Claude(&mut synth), &live, 0)?;
    }
    run.finish()
}

struct Run<'a> {
    opts: &'a Options,
    env: &'a Env,
    /// Resolved at the first event (from `--project` or the recorded `cwd`).
    project: Option<PathBuf>,
    recorded_cwd: String,
    settings: Option<Vec<Value>>,
    state: tempfile::TempDir,
    seq: usize,
    text: String,
    json_lines: String,
    skipped: usize,
    hooked_events: usize,
    verdict_counts: Vec<(String, usize)>,
    notes: Vec<String>,
    /// A Stop of this turn was blocked by a replayed hook: the next Stop is `stop_hook_active`.
    stop_blocked: bool,
    /// Calls a replayed PreToolUse hook denied: the client would not have run them, so no Post event.
    denied: std::collections::HashSet<String>,
    /// The transcript is a Codex rollout: the handlers are Codex's (`.codex/hooks.json`).
    codex: bool,
}

impl<'a> Run<'a> {
    fn new(opts: &'a Options, env: &'a Env) -> Result<Self, String> {
        let settings = match &opts.hooks {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("reading `{}`: {e}", path.display()))?;
                let value: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("`{}` is not valid JSON: {e}", path.display()))?;
                Some(vec![value])
            }
            None => None,
        };
        Ok(Self {
            opts,
            env,
            project: None,
            recorded_cwd: String::new(),
            settings,
            state: tempfile::Builder::new()
                .prefix("portcullis-replay-")
                .tempdir()
                .map_err(|e| format!("creating a temp folder: {e}"))?,
            seq: 0,
            text: String::new(),
            json_lines: String::new(),
            skipped: 0,
            hooked_events: 0,
            verdict_counts: Vec::new(),
            notes: Vec::new(),
            stop_blocked: false,
            denied: std::collections::HashSet::new(),
            codex: false,
        })
    }

    fn stream(
        &mut self,
        mut reader: impl BufRead,
        mut synth: Source<'_>,
        live_path: &Path,
        depth: usize,
    ) -> Result<(), String> {
        let mut line = Vec::new();
        let mut live_copy = None;
        loop {
            match read_line_bounded(&mut reader, &mut line, MAX_LINE_BYTES) {
                Ok(Line::End) => return Ok(()),
                Ok(Line::TooLong) => self.skipped += 1,
                Ok(Line::Complete) => {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let live_line = self.live_line(&line);
                    append_line(&mut live_copy, live_path, &live_line)?;
                    let Ok(entry) = serde_json::from_slice::<Value>(&line) else {
                        self.skipped += 1;
                        continue;
                    };
                    for emit in synth.entry(&entry) {
                        match emit {
                            Emit::Event(event) => self.fire(event),
                            Emit::Subagent {
                                agent_id,
                                agent_type,
                                tool_use_id,
                            } => {
                                let Source::Claude(parent) = &synth else {
                                    continue;
                                };
                                self.subagent(
                                    parent,
                                    live_path,
                                    &agent_id,
                                    &agent_type,
                                    &tool_use_id,
                                    depth,
                                )?;
                            }
                            Emit::CodexSubagent { agent_path } => {
                                let Source::Codex(parent) = &synth else {
                                    continue;
                                };
                                self.codex_subagent(parent, live_path, &agent_path, depth)?;
                            }
                        }
                    }
                }
                Err(e) => {
                    return Err(format!("reading `{}`: {e}", self.opts.transcript.display()));
                }
            }
        }
    }

    fn subagent(
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
    fn codex_subagent(
        &mut self,
        parent: &CodexSynthesizer,
        parent_live: &Path,
        agent_path: &str,
        depth: usize,
    ) -> Result<(), String> {
        let dir = self.opts.transcript.parent().unwrap_or(Path::new("."));
        let Some((file, agent_id)) = find_codex_subagent(dir, &parent.thread_id, agent_path) else {
            self.notes.push(format!(
                "no rollout for the Codex subagent `{}` in `{}`: its own events were not replayed (Codex \
                 writes each thread's rollout beside its parent's; copy it with the parent's)",
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

    /// A line as the live copy holds it. In a Codex rollout the recorded project's paths become the
    /// replay project's, object keys too: a `FileChange` names the files a shell-run patch wrote by
    /// absolute path, and feedback-loop reads them from the copy. Lines before the first event, and
    /// Claude Code transcripts (whose hooks read no paths from them), are copied as recorded.
    fn live_line<'l>(&self, line: &'l [u8]) -> std::borrow::Cow<'l, [u8]> {
        use std::borrow::Cow;
        let (true, Some(project)) = (self.codex, self.project.as_ref()) else {
            return Cow::Borrowed(line);
        };
        let to = project.display().to_string();
        let Ok(text) = std::str::from_utf8(line) else {
            return Cow::Borrowed(line);
        };
        if self.recorded_cwd.is_empty()
            || self.recorded_cwd == to
            || !text.contains(&self.recorded_cwd)
        {
            return Cow::Borrowed(line);
        }
        // Both as JSON string literals, so a quote or backslash in either is escaped as in the line.
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let (from, to) = (quoted(&self.recorded_cwd), quoted(&to));
        let open = |q: &str| format!("{}/", q.strip_suffix('"').unwrap_or(q));
        Cow::Owned(
            text.replace(&open(&from), &open(&to))
                .replace(&from, &to)
                .into_bytes(),
        )
    }

    fn project(&mut self, event: &Value) -> PathBuf {
        if let Some(p) = &self.project {
            return p.clone();
        }
        event["cwd"]
            .as_str()
            .unwrap_or_default()
            .clone_into(&mut self.recorded_cwd);
        let project = self.opts.project.clone().unwrap_or_else(|| {
            let cwd = Path::new(&self.recorded_cwd);
            if cwd.is_dir() {
                find_project_root(cwd)
            } else {
                self.notes.push(format!(
                    "the recorded project `{}` does not exist here; pass --project DIR to replay into another folder",
                    self.recorded_cwd
                ));
                cwd.to_path_buf()
            }
        });
        self.project = Some(project.clone());
        project
    }

    fn fire(&mut self, mut event: Value) {
        let tool_use_id = event["tool_use_id"].as_str().unwrap_or_default().to_owned();
        let name = event["hook_event_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if name.starts_with("PostToolUse") && self.denied.remove(&tool_use_id) {
            return;
        }
        self.seq += 1;
        let project = self.project(&event);
        let project_text = project.display().to_string();
        if !self.recorded_cwd.is_empty() && self.recorded_cwd != project_text {
            rewrite_paths(&mut event, &self.recorded_cwd, &project_text);
        }
        match name.as_str() {
            "UserPromptSubmit" => self.stop_blocked = false,
            "Stop" if self.stop_blocked => event["stop_hook_active"] = json!(true),
            _ => {}
        }
        let input = event.to_string();
        let Ok(parsed) = Event::parse(input.as_bytes()) else {
            return;
        };
        if self.settings.is_none() {
            self.settings = Some(if self.codex {
                codex_hook_files(&project, self.env)
            } else {
                load_settings(&project, self.env)
            });
        }
        let handlers = matching_handlers_in(&parsed, self.settings.as_deref().unwrap_or_default());
        let runs: Vec<HookRun> = handlers
            .iter()
            .map(|h| self.run_handler(h, &input, &parsed, &project))
            .collect();
        if name == "Stop" && runs.iter().any(|r| r.verdict == "block") {
            self.stop_blocked = true;
        }
        if name == "PreToolUse" && runs.iter().any(|r| r.verdict == "deny") {
            self.denied.insert(tool_use_id);
        }
        self.render(&event, &name, &runs, &project_text);
    }

    fn run_handler(&self, h: &Handler, input: &str, parsed: &Event, project: &Path) -> HookRun {
        let hook = Path::new(&h.command)
            .file_name()
            .map_or_else(|| h.command.clone(), |n| n.to_string_lossy().into_owned());
        let command = if h.command.contains('/') {
            PathBuf::from(&h.command)
        } else {
            let local = self.opts.bin_dir.join(&h.command);
            if local.is_file() {
                local
            } else {
                PathBuf::from(&h.command)
            }
        };
        let cwd = Path::new(parsed.cwd.as_deref().unwrap_or_default());
        let state = self.state.path().as_os_str();
        let env = [(env_vars::PORTCULLIS_STATE_DIR, state)];
        let timeout = Duration::from_secs(h.timeout.clamp(1, 600));
        let (verdict, reason) = match exec::run_hook(
            &command.display().to_string(),
            &h.args,
            input.as_bytes(),
            cwd,
            project,
            timeout,
            &env,
        ) {
            Ok(o) => o.verdict(),
            Err(e) => (
                "error".into(),
                format!("could not start `{}`: {e}", h.command),
            ),
        };
        HookRun {
            hook,
            verdict,
            reason,
        }
    }
}

/// Codex's hook files for `project` (its `.codex/hooks.json`, then `$CODEX_HOME/hooks.json`), parsed;
/// unreadable or invalid ones are skipped.
fn codex_hook_files(project: &Path, env: &Env) -> Vec<Value> {
    crate::codex::hook_files(project, env)
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| serde_json::from_str(&t).ok())
        .collect()
}

/// Replaces `from` by `to` at the start of every string in `v` that is `from` or a path below it.
fn rewrite_paths(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) => {
            if s == from {
                to.clone_into(s);
            } else if let Some(rest) = s.strip_prefix(from)
                && rest.starts_with('/')
            {
                *s = format!("{to}{rest}");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_paths(x, from, to)),
        Value::Object(o) => o.values_mut().for_each(|x| rewrite_paths(x, from, to)),
        _ => {}
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_rewritten_only_at_a_path_boundary() {
        let mut v = json!({"a": "/e2e/project/x.go", "b": "/e2e/project", "c": "/e2e/projectile", "d": ["/e2e/project/y"]});
        rewrite_paths(&mut v, "/e2e/project", "/tmp/p");
        assert_eq!(
            v,
            json!({"a": "/tmp/p/x.go", "b": "/tmp/p", "c": "/e2e/projectile", "d": ["/tmp/p/y"]})
        );
    }
}
