//! `portcullis replay`: a recorded session through the hooks, as its client would have fired them: a
//! Claude Code transcript, a Codex rollout ([`codex_synth`]), a Gemini session file ([`gemini_synth`]) or a
//! Copilot event log ([`copilot_synth`]).
//!
//! The transcript is streamed line by line (a line over [`MAX_LINE_BYTES`] is skipped without being held),
//! so memory stays bounded whatever the file's size; a line that is not JSON is counted and skipped, never
//! fatal. [`synth`] turns entries into events; this module finds the matching portcullis handlers (in the
//! project's settings, or `--hooks FILE`), runs them as processes with a throwaway state folder (so a
//! replay never touches the project's real state or decision log), and prints a timeline.

pub mod codex_synth;
pub mod copilot_synth;
pub mod gemini_synth;
mod lines;
mod render;
mod subagents;
pub mod synth;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_core::ctx::find_project_root;
use portcullis_core::env_vars;
use portcullis_core::event::Event;
use portcullis_core::{Client, Env};
use serde_json::{Value, json};

use crate::commands::{CmdResult, Handler, load_settings, matching_handlers_in};
use crate::exec;
use codex_synth::CodexSynthesizer;
use copilot_synth::CopilotSynthesizer;
use gemini_synth::GeminiSynthesizer;
use lines::{Line, append_line, open, read_line_bounded};
use synth::{Emit, Synthesizer, Thread};

/// The synthesizer of the client whose transcript is replayed.
enum Source<'s> {
    Claude(&'s mut Synthesizer),
    Codex(&'s mut CodexSynthesizer),
    Gemini(&'s mut GeminiSynthesizer),
    Copilot(&'s mut CopilotSynthesizer),
}

impl Source<'_> {
    fn entry(&mut self, entry: &Value) -> Vec<Emit> {
        match self {
            Self::Claude(s) => s.entry(entry),
            Self::Codex(s) => s.entry(entry),
            Self::Gemini(s) => s.entry(entry),
            Self::Copilot(s) => s.entry(entry),
        }
    }

    /// The events still due at the end of the file (a Gemini record may be rewritten until then).
    fn finish(&mut self) -> Vec<Emit> {
        match self {
            Self::Gemini(s) => s.finish(),
            Self::Claude(_) | Self::Codex(_) | Self::Copilot(_) => Vec::new(),
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
    let first = first_line(&opts.transcript);
    if first.as_ref().is_some_and(CodexSynthesizer::recognises) {
        run.client = Client::Codex;
        let mut synth = CodexSynthesizer::new(&live.display().to_string());
        run.stream(file, Source::Codex(&mut synth), &live, 0)?;
    } else if first.as_ref().is_some_and(CopilotSynthesizer::recognises) {
        run.client = Client::Copilot;
        let mut synth = CopilotSynthesizer::new(&live.display().to_string());
        run.stream(file, Source::Copilot(&mut synth), &live, 0)?;
    } else if first.as_ref().is_some_and(GeminiSynthesizer::recognises) {
        run.client = Client::Gemini;
        let mut synth = GeminiSynthesizer::new(&live.display().to_string());
        run.stream(file, Source::Gemini(&mut synth), &live, 0)?;
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
    /// The client whose session is replayed: its handlers are read from its own files.
    client: Client,
}

impl<'a> Run<'a> {
    fn new(opts: &'a Options, env: &'a Env) -> Result<Self, String> {
        let settings = match &opts.hooks {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("reading `{}`: {e}", path.display()))?;
                // Gemini's settings hold comments.
                let value: Value = crate::settings::jsonc_value(&text)
                    .ok()
                    .flatten()
                    .ok_or_else(|| format!("`{}` is not valid JSON", path.display()))?;
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
            client: Client::ClaudeCode,
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
                Ok(Line::End) => {
                    for emit in synth.finish() {
                        if let Emit::Event(event) = emit {
                            self.fire(event);
                        }
                    }
                    return Ok(());
                }
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

    /// A line as the live copy holds it. In a Codex rollout the recorded project's paths become the
    /// replay project's, object keys too: a `FileChange` names the files a shell-run patch wrote by
    /// absolute path, and feedback-loop reads them from the copy. Lines before the first event, and
    /// Claude Code transcripts (whose hooks read no paths from them), are copied as recorded.
    fn live_line<'l>(&self, line: &'l [u8]) -> std::borrow::Cow<'l, [u8]> {
        use std::borrow::Cow;
        let (Client::Codex, Some(project)) = (self.client, self.project.as_ref()) else {
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
        // The checks below read Claude Code's names; Gemini's are read as them.
        let canonical = portcullis_core::gemini::canonical_event(&name).to_owned();
        if canonical.starts_with("PostToolUse") && self.denied.remove(&tool_use_id) {
            return;
        }
        self.seq += 1;
        let project = self.project(&event);
        let project_text = project.display().to_string();
        if !self.recorded_cwd.is_empty() && self.recorded_cwd != project_text {
            rewrite_paths(&mut event, &self.recorded_cwd, &project_text);
        }
        // Gemini flags a re-fired turn end only when no tool ran since the hold; Gemini and Copilot fire
        // their prompt event for the hold's continuation too; Claude Code and Copilot keep the flag for the
        // rest of the prompt.
        let gemini = self.client == Client::Gemini;
        let prompt_per_hold = matches!(self.client, Client::Gemini | Client::Copilot);
        match canonical.as_str() {
            "UserPromptSubmit" if !prompt_per_hold => self.stop_blocked = false,
            "PreToolUse" if gemini => self.stop_blocked = false,
            "Stop" if self.stop_blocked => event["stop_hook_active"] = json!(true),
            _ => {}
        }
        let input = event.to_string();
        let Ok(parsed) = Event::parse(input.as_bytes()) else {
            return;
        };
        if self.settings.is_none() {
            self.settings = Some(match self.client {
                Client::Codex => codex_hook_files(&project, self.env),
                Client::Gemini => gemini_settings_files(&project, self.env),
                Client::Copilot => copilot_hook_files(&project, self.env),
                Client::ClaudeCode => load_settings(&project, self.env),
            });
        }
        let handlers = matching_handlers_in(&parsed, self.settings.as_deref().unwrap_or_default());
        let runs: Vec<HookRun> = handlers
            .iter()
            .map(|h| self.run_handler(h, &input, &parsed, &project))
            .collect();
        if canonical == "Stop" && runs.iter().any(|r| r.verdict == "block") {
            self.stop_blocked = true;
        }
        if canonical == "PreToolUse" && runs.iter().any(|r| r.verdict == "deny") {
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

/// Copilot's hook files for `project` (the repository's, then the user's), parsed; unreadable or invalid
/// ones are skipped.
fn copilot_hook_files(project: &Path, env: &Env) -> Vec<Value> {
    crate::copilot::hook_files(project, env)
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| crate::settings::jsonc_value(&t).ok().flatten())
        .collect()
}

/// Gemini's settings files for `project` (the project's, then the user's), parsed as JSON with comments;
/// unreadable or invalid ones are skipped.
fn gemini_settings_files(project: &Path, env: &Env) -> Vec<Value> {
    crate::gemini::settings_files(project, env)
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| crate::gemini::read_jsonc(&t))
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
